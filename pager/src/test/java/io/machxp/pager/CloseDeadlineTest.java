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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Close's one deadline (late9 review MED-3) and what it says it skipped (L2). A core kept busy
 * (a task on it waits for the test) does not answer close's questions: close must still end by its
 * deadline, however long the store's own bound ({@link Pager#STORE_CLOSE_ANSWER}, 60 s here), with
 * ERRORs saying what it skipped and why, as a process that closes at exit must end (before, the
 * phases' bounds added up: the CLI's 15 s exit bound cut close off in the middle, logging nothing).
 * A core that uses no CPU meanwhile and waits is stuck, not busy: close stops waiting for it after
 * a few slices (L1, late10 L2). The futures' timeouts are guards against a hang; nothing here is timed.
 */
class CloseDeadlineTest {
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            if (e.getLevel().isGreaterOrEqual(Level.ERROR)) {
                errors.add(e.getFormattedMessage());
            }
        }
    };
    private final Logger logger = (Logger) LoggerFactory.getLogger(Pager.class);
    private final ExecutorService closer = Executors.newSingleThreadExecutor();
    private final CountDownLatch busy = new CountDownLatch(1);
    private Pager pager;

    @BeforeEach
    void busyCore() throws Exception {
        appender.start();
        logger.addAppender(appender);
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4096L)).withLease(Duration.ZERO))
                .bounds(Duration.ofMillis(10), Duration.ofMillis(10), Pager.STORE_CLOSE_ANSWER);
        CountDownLatch running = new CountDownLatch(1);
        core(pager).execute(() -> {
            running.countDown();
            try {
                busy.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        running.await();
    }

    @AfterEach
    void release() {
        busy.countDown();
        logger.detachAppender(appender);
        closer.shutdownNow();
    }

    @Test
    void closeOnACoreThatDoesNotAnswerEndsByItsDeadlineSayingWhatItSkipped() throws Exception {
        closer.submit(() -> pager.closeWithin(Duration.ofMillis(300))).get(30, TimeUnit.SECONDS);
        assertThat(errors).anyMatch(m -> m.contains("closing without retrying the page store's failed writes: "
                + "the core thread did not answer in"));
        assertThat(errors).anyMatch(m -> m.contains("the page store's close is left queued on the core thread, "
                + "which did not answer in"));
    }

    @Test
    void anInterruptedCloseSaysSoNotThatTheCoreDidNotAnswer() throws Exception {
        closer.submit(() -> {
            Thread.currentThread().interrupt();
            pager.close();
        }).get(30, TimeUnit.SECONDS);
        assertThat(errors).anyMatch(m -> m.contains("closing without retrying the page store's failed writes: "
                + "the core thread was not waited for: close was interrupted"));
        assertThat(errors).noneMatch(m -> m.contains("did not answer in 60000 ms"));
    }

    @Test
    void aCoreThatUsesNoCpuIsTakenAsStuckNotWaitedForTheStoresWholeBound() throws Exception {
        // the core is parked, not computing: close stops waiting after StuckCheck.SLICES slices (StoreClose.STUCK_AFTER),
        // not after the store's 60 s (late9 review L1: at least 65 s on a stuck core); the guard is below 60 s
        closer.submit(() -> pager.close()).get(40, TimeUnit.SECONDS);
        assertThat(errors).anyMatch(m -> m.contains("closing without retrying the page store's failed writes: "
                + "the core thread is stuck: it used no CPU"));
    }

    /** The pager's core thread, to put the busy task on (the test reaches into the pager for it). */
    private static EventLoop core(Pager pager) throws ReflectiveOperationException {
        java.lang.reflect.Field loop = Pager.class.getDeclaredField("loop");
        loop.setAccessible(true);
        return (EventLoop) loop.get(pager);
    }
}
