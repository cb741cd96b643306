package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.machxp.pager.core.PagerCore;
import io.machxp.pager.store.MemoryPageStore;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A kernel sending message after message the pager drops does not fill the log (review indep-2
 * N5: 50,000 stale lock_completed were 50,002 WARN lines): the first 32 refusals of a 10 s window
 * are a line each, the rest are counted, and the first refusal after the window says how many were
 * not logged. Every refusal is counted in machxp.refused. The core's clock is the test's.
 */
class RefusalLogTest {
    @Test
    void aThousandRefusalsAreThirtyTwoLinesAndASummary() {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger core = (Logger) LoggerFactory.getLogger(PagerCore.class);
        logged.start();
        core.addAppender(logged);
        XpKernels x = new XpKernels(new MemoryPageStore());
        try {
            long a = x.kernel(1, "A");
            for (int i = 0; i < 1000; i++) {
                x.lockCompleted(a, 0); // nobody asked: refused (xp-spec 3.4)
            }
            assertThat(x.stats.refused()).isEqualTo(1000);
            assertThat(refusals(logged)).as("the window's first 32").hasSize(32);
            x.advance(10_000_000_000L);
            x.lockCompleted(a, 0);
            assertThat(x.stats.refused()).isEqualTo(1001);
        } finally {
            core.detachAppender(logged);
        }
        assertThat(refusals(logged)).hasSize(33);
        assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.WARN
                && e.getFormattedMessage().contains("968 more refused messages were not logged in 10 s")).hasSize(1);
    }

    private static java.util.List<ILoggingEvent> refusals(ListAppender<ILoggingEvent> logged) {
        return logged.list.stream().filter(e -> e.getLevel() == Level.WARN
                && e.getFormattedMessage().contains("refused from kernel A")).toList();
    }
}
