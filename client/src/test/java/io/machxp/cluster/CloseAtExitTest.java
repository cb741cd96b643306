package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A close at exit registered before its resource starts: the hook's work waits for the start (or
 * interrupts it, for an interruptible start), closes what it made, and has nothing to close when the
 * start failed. The hook's work is run here as the hook would run it; the JVM's shutdown itself is the
 * process tests' (DemoSigtermCleanupTest and the others). A hang fails the test (preemptive timeouts).
 */
class CloseAtExitTest {
    /** A deadline, not a figure: nothing here waits for more than a thread to be scheduled. */
    private static final Duration HANG = Duration.ofSeconds(60);

    @Test
    void theHookWaitsForTheStartThenClosesWhatItMade() {
        assertTimeoutPreemptively(HANG, () -> {
            AtomicInteger closed = new AtomicInteger();
            CountDownLatch starting = new CountDownLatch(1);
            CountDownLatch finish = new CountDownLatch(1);
            try (CloseAtExit.Starting<AutoCloseable> atExit = CloseAtExit.beforeStart("a test resource",
                    CloseAtExit.DEFAULT_BOUND)) {
                CompletableFuture<AutoCloseable> started = startAsync(atExit, () -> {
                    starting.countDown();
                    finish.await();
                    return closed::incrementAndGet;
                });
                starting.await();
                CompletableFuture<Boolean> hook = hookAsync(atExit);
                await().atMost(HANG).pollInterval(Duration.ofMillis(10)).until(() -> atExit.waiting() > 0);
                assertThat(closed).as("nothing closed while the start runs").hasValue(0);
                assertThat(hook).as("the hook waits for the start").isNotDone();

                finish.countDown();
                assertThat(hook.get()).as("something closed").isTrue();
                assertThat(closed).as("closed once started").hasValue(1);
                assertThat(started.get()).isNotNull();
            }
        });
    }

    @Test
    void theHookEndsAnInterruptibleStartThatStillRuns() {
        assertTimeoutPreemptively(HANG, () -> {
            CountDownLatch starting = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            try (CloseAtExit.Starting<AutoCloseable> atExit = CloseAtExit.beforeInterruptibleStart("a test resource",
                    CloseAtExit.DEFAULT_BOUND)) {
                CompletableFuture<AutoCloseable> started = startAsync(atExit, () -> {
                    starting.countDown();
                    never.await(); // as a kernel waiting for a pager that never answers
                    return () -> { };
                });
                starting.await();

                assertThat(atExit.closeStarted()).as("nothing to close: the start was ended").isFalse();
                assertThatThrownBy(started::get).as("the start was interrupted")
                        .isInstanceOf(java.util.concurrent.ExecutionException.class)
                        .hasRootCauseInstanceOf(InterruptedException.class);
            }
        });
    }

    @Test
    void anInterruptibleStartBegunAfterTheHookBeginsInterrupted() {
        assertTimeoutPreemptively(HANG, () -> {
            CountDownLatch never = new CountDownLatch(1);
            try (CloseAtExit.Starting<AutoCloseable> atExit = CloseAtExit.beforeInterruptibleStart("a test resource",
                    CloseAtExit.DEFAULT_BOUND)) {
                CompletableFuture<Boolean> hook = hookAsync(atExit);
                await().atMost(HANG).pollInterval(Duration.ofMillis(10)).until(() -> atExit.waiting() > 0);

                assertThatThrownBy(() -> atExit.start(() -> {
                    never.await();
                    return () -> { };
                })).isInstanceOf(InterruptedException.class);
                assertThat(hook.get()).as("nothing to close").isFalse();
            }
        });
    }

    @Test
    void aFailedStartLeavesNothingToCloseAndGoesToTheCaller() throws Exception {
        try (CloseAtExit.Starting<AutoCloseable> atExit = CloseAtExit.beforeStart("a test resource",
                CloseAtExit.DEFAULT_BOUND)) {
            assertThatThrownBy(() -> atExit.start(() -> {
                throw new IOException("no port");
            })).isInstanceOf(IOException.class).hasMessage("no port");

            assertThat(atExit.closeStarted()).as("nothing to close").isFalse();
        }
    }

    @Test
    void closeWithinReturnsAfterTheBoundWhenTheCloseHangs() {
        CountDownLatch never = new CountDownLatch(1);
        assertTimeoutPreemptively(HANG, () -> CloseAtExit.closeWithin("a stuck resource", never::await,
                Duration.ofMillis(50)));
        never.countDown();
    }

    private static CompletableFuture<AutoCloseable> startAsync(CloseAtExit.Starting<AutoCloseable> atExit,
            CloseAtExit.Start<AutoCloseable, InterruptedException> start) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return atExit.start(start);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, runnable -> new Thread(runnable, "test start").start());
    }

    private static CompletableFuture<Boolean> hookAsync(CloseAtExit.Starting<AutoCloseable> atExit) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return atExit.closeStarted();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, runnable -> new Thread(runnable, "test hook").start());
    }
}
