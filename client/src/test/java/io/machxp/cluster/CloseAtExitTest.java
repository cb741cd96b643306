package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A close at exit registered before its resource starts: the hook's work waits for the start, closes
 * what it made, and has nothing to close when the start failed. The hook's work is run here as the
 * hook would run it; the JVM's shutdown itself is the process tests' (DemoSigtermCleanupTest and
 * the others).
 */
class CloseAtExitTest {
    @Test
    void theHookWaitsForTheStartThenClosesWhatItMade() throws Exception {
        AtomicInteger closed = new AtomicInteger();
        CountDownLatch starting = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        try (CloseAtExit.Starting<AutoCloseable> atExit = CloseAtExit.beforeStart("a test resource",
                CloseAtExit.DEFAULT_BOUND)) {
            CompletableFuture<AutoCloseable> started = CompletableFuture.supplyAsync(() -> {
                try {
                    return atExit.start(() -> {
                        starting.countDown();
                        finish.await();
                        return closed::incrementAndGet;
                    });
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            starting.await();
            CompletableFuture<Void> hook = CompletableFuture.runAsync(() -> {
                try {
                    atExit.closeStarted();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(closed).as("nothing closed while the start runs").hasValue(0);
            assertThat(hook).isNotDone();

            finish.countDown();
            hook.get(60, TimeUnit.SECONDS);
            assertThat(closed).as("closed once started").hasValue(1);
            assertThat(started.get(60, TimeUnit.SECONDS)).isNotNull();
        }
    }

    @Test
    void aFailedStartLeavesNothingToCloseAndGoesToTheCaller() throws Exception {
        try (CloseAtExit.Starting<AutoCloseable> atExit = CloseAtExit.beforeStart("a test resource",
                CloseAtExit.DEFAULT_BOUND)) {
            assertThatThrownBy(() -> atExit.start(() -> {
                throw new IOException("no port");
            })).isInstanceOf(IOException.class).hasMessage("no port");

            atExit.closeStarted(); // returns: nothing to close
        }
    }

    @Test
    void closeWithinReturnsAfterTheBoundWhenTheCloseHangs() {
        CountDownLatch never = new CountDownLatch(1);
        CloseAtExit.closeWithin("a stuck resource", never::await, java.time.Duration.ofMillis(50));
        assertThat(never.getCount()).isEqualTo(1);
        never.countDown();
    }
}
