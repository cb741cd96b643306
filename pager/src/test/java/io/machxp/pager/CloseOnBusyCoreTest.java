package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A core busy for longer than the bound of the other questions, but not stuck, while the pager
 * closes (late6 review A7): close waits for it the longer store bound ({@link Pager#STORE_CLOSE_ANSWER})
 * to retry the failed store writes, count those not written and close the store. Before, one bound
 * served all of close: the server's shutdown used it up, then close went on "without retrying the
 * page store's failed writes" and left the store's close queued. Here the other questions' bound is
 * 10 ms (so the server's shutdown gives up, as it did after 5 s), the core is let go once it has,
 * and close must then skip nothing of the store's part. (60 s bounds the store's part only as a
 * guard against a hang.)
 */
class CloseOnBusyCoreTest {
    @Test
    void closeWaitsForABusyCoreToRetryTheStoresWritesAndCloseIt() throws Exception {
        List<String> errors = new CopyOnWriteArrayList<>();
        CountDownLatch serverGaveUp = new CountDownLatch(1);
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                if (e.getLevel().isGreaterOrEqual(Level.ERROR)) {
                    errors.add(e.getFormattedMessage());
                    if (e.getFormattedMessage().contains("did not close its connections")) {
                        serverGaveUp.countDown();
                    }
                }
            }
        };
        Logger logger = (Logger) LoggerFactory.getLogger(Pager.class);
        appender.start();
        logger.addAppender(appender);
        ExecutorService closer = Executors.newSingleThreadExecutor();
        CountDownLatch busy = new CountDownLatch(1);
        Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4096L)).withLease(Duration.ZERO))
                .bounds(Duration.ofMillis(10), Duration.ofMillis(10), Duration.ofSeconds(60));
        try {
            EventLoop loop = core(pager);
            CountDownLatch running = new CountDownLatch(1);
            loop.execute(() -> {
                running.countDown();
                try {
                    busy.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            running.await();
            var closing = closer.submit(pager::close);
            assertThat(serverGaveUp.await(30, TimeUnit.SECONDS)).as("close went past the server's shutdown").isTrue();
            busy.countDown(); // the core is back, later than 10 ms
            closing.get(60, TimeUnit.SECONDS);
            assertThat(errors).as("close's ERRORs").noneMatch(m -> m.contains("closing without")
                    || m.contains("left queued"));
        } finally {
            busy.countDown();
            logger.detachAppender(appender);
            closer.shutdownNow();
        }
    }

    /** The pager's core thread, to put the busy task on (the test reaches into the pager for it). */
    private static EventLoop core(Pager pager) throws ReflectiveOperationException {
        java.lang.reflect.Field loop = Pager.class.getDeclaredField("loop");
        loop.setAccessible(true);
        return (EventLoop) loop.get(pager);
    }
}
