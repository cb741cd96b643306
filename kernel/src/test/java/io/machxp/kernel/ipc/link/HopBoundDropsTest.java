package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The links' record of frames dropped at the hop bound: every drop counted, one WARN per quiet period at most. */
class HopBoundDropsTest {
    @Test
    void everyDropIsCountedAndALoopCannotFloodTheLog() {
        Logger logger = (Logger) LoggerFactory.getLogger(HopBoundDropsTest.class.getName() + ".probe");
        List<ILoggingEvent> events = new ArrayList<>();
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                events.add(e);
            }
        };
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.INFO);
        try {
            HopBoundDrops drops = new HopBoundDrops(1, logger);
            long t = 5_000;
            for (int i = 0; i < 1_000; i++) { // a loop fed without end, all within one quiet period
                drops.dropped("RefTransfer", "port3.1", 2, 2, 64, t + i);
            }
            assertThat(drops.count()).isEqualTo(1_000);
            assertThat(events).hasSize(1);
            assertThat(events.get(0).getLevel()).isEqualTo(Level.WARN);
            assertThat(events.get(0).getFormattedMessage()).isEqualTo("kernel 1: dropped a RefTransfer for port3.1"
                    + " from kernel 2 instead of passing it on to kernel 2: it had been passed on 64 times, the hop bound"
                    + " (the port's proxies point round in a loop: did a kernel give false rights?); 1 frame(s) dropped"
                    + " at the hop bound in all");
            drops.dropped("LinkMessage", "port3.1", 3, 2, 64, t + HopBoundDrops.QUIET_NANOS);
            assertThat(events).hasSize(2);
            assertThat(events.get(1).getFormattedMessage()).contains("dropped a LinkMessage for port3.1 from kernel 3")
                    .endsWith("1001 frame(s) dropped at the hop bound in all, 999 of them not logged (at most one such"
                            + " warning per " + TimeUnit.NANOSECONDS.toSeconds(HopBoundDrops.QUIET_NANOS) + " s)");
        } finally {
            logger.detachAppender(appender);
        }
    }
}
