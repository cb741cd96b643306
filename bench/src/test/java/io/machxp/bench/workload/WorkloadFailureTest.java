package io.machxp.bench.workload;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A system that fails in the middle of a bounded strict-alternation run: the failing worker must
 * release its node's claim (or the lock it holds) and mark the run failed, so that every other
 * worker stops waiting for a handoff and the run ends with the failure (the bench reports it)
 * instead of hanging. The timeouts only guard against the hang; nothing here is timed.
 */
class WorkloadFailureTest {
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aLockThatThrowsEndsABoundedAlternationRunWithTheFailure() {
        BenchOptions o = new BenchOptions(2, 2, 1, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ZERO,
                Duration.ofMillis(400), 7, BenchOptions.Api.LOCAL, BenchOptions.Pattern.ALTERNATION,
                BenchOptions.Data.SYSTEM, 1_000);
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> new Workload(o).run(new FailingService(o.locks(), calls)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("a worker failed")
                .hasRootCauseMessage("connection lost");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aReadThatThrowsWhileHoldingHandsTheLockOnAndEndsTheRun() {
        BenchOptions o = alternation();
        HoldingService s = new HoldingService(false);
        assertThatThrownBy(() -> new Workload(o).run(s))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("a worker failed")
                .hasMessageNotContaining("still inside")
                .hasRootCauseMessage("connection lost");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aLockNeverReleasedEndsTheRunAfterTheGraceNamingTheWorkerStillInside() {
        BenchOptions o = alternation();
        HoldingService s = new HoldingService(true);
        try {
            assertThatThrownBy(() -> new Workload(o, Duration.ofMillis(200)).run(s))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("a worker failed")
                    .hasMessageContaining("1 worker(s) still inside the system")
                    .hasRootCauseMessage("connection lost");
        } finally {
            s.lock.release(); // lets the worker left blocked in lock go
        }
    }

    private static BenchOptions alternation() {
        return new BenchOptions(2, 2, 1, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ZERO,
                Duration.ofMillis(400), 7, BenchOptions.Api.LOCAL, BenchOptions.Pattern.ALTERNATION,
                BenchOptions.Data.SYSTEM, 1_000);
    }

    /**
     * One lock (a semaphore); the 5th read of the run waits until a worker is blocked in lock for
     * it, then throws. With {@code unlockFails}, that worker's connection is gone: its unlock throws
     * too, so the blocked worker never gets the lock.
     */
    private static final class HoldingService implements LockService {
        final Semaphore lock = new Semaphore(1);
        private final AtomicLong counter = new AtomicLong();
        private final AtomicInteger reads = new AtomicInteger();
        private final boolean unlockFails;

        HoldingService(boolean unlockFails) {
            this.unlockFails = unlockFails;
        }

        @Override
        public String name() {
            return "read-fails";
        }

        @Override
        public Client client(int node, int worker) {
            return new Client() {
                private boolean lost;

                @Override
                public void lock(int l) throws Exception {
                    lock.acquire();
                }

                @Override
                public void unlock(int l) throws Exception {
                    if (lost && unlockFails) {
                        throw new java.io.IOException("connection lost (unlock)");
                    }
                    lock.release();
                }

                @Override
                public long read(int l) throws Exception {
                    if (reads.incrementAndGet() == 5) {
                        while (!lock.hasQueuedThreads()) { // another node's worker waits for this lock
                            LockSupport.parkNanos(1_000_000);
                        }
                        lost = true;
                        throw new java.io.IOException("connection lost");
                    }
                    return counter.get();
                }

                @Override
                public void write(int l, long value) {
                    counter.set(value);
                }
            };
        }

        @Override
        public long messages() {
            return -1;
        }

        @Override
        public long counter(int l) {
            return counter.get();
        }

        @Override
        public void close() {}
    }

    /** Real mutual exclusion (a semaphore per lock), but the 5th lock call of the run throws. */
    private static final class FailingService implements LockService {
        private final Semaphore[] locks;
        private final AtomicLongArray counters;
        private final AtomicInteger calls;

        FailingService(int n, AtomicInteger calls) {
            locks = new Semaphore[n];
            for (int i = 0; i < n; i++) {
                locks[i] = new Semaphore(1);
            }
            counters = new AtomicLongArray(n);
            this.calls = calls;
        }

        @Override
        public String name() {
            return "failing";
        }

        @Override
        public Client client(int node, int worker) {
            return new Client() {
                @Override
                public void lock(int lock) throws Exception {
                    if (calls.incrementAndGet() == 5) {
                        throw new java.io.IOException("connection lost");
                    }
                    locks[lock].acquire();
                }

                @Override
                public void unlock(int lock) {
                    locks[lock].release();
                }

                @Override
                public long read(int lock) {
                    return counters.get(lock);
                }

                @Override
                public void write(int lock, long value) {
                    counters.set(lock, value);
                }
            };
        }

        @Override
        public long messages() {
            return -1;
        }

        @Override
        public long counter(int lock) {
            return counters.get(lock);
        }

        @Override
        public void close() {}
    }
}
