package io.machxp.bench.workload;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A system that fails in the middle of a bounded strict-alternation run: the failing worker must
 * release its node's claim and mark the run failed, so that every other worker stops waiting for a
 * handoff and the run ends with the failure (the bench reports it) instead of hanging. The timeout
 * only guards against the hang; nothing here is timed.
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
