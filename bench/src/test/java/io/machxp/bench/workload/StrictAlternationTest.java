package io.machxp.bench.workload;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * Strict alternation is what it says: a worker never takes a lock its own node acquired last, not
 * by the shared rule's random fallback and not by a sibling's re-take, and the bench counts every
 * measured handoff.
 */
class StrictAlternationTest {
    /** The shared rule falls back to a random lock when its node took every lock last: strict waits instead. */
    @Test
    void noLockIsEligibleWhileTheNodeItselfAcquiredEveryLockLast() {
        Board b = Board.inMemory(2);
        b.acquired(0, 0);
        b.acquired(1, 0);
        for (int seed = 0; seed < 50; seed++) {
            assertThat(StrictAlternation.tryNext(b, 0, 2, new SplittableRandom(seed))).isEqualTo(-1);
        }
        assertThat(StrictAlternation.tryNext(b, 1, 2, new SplittableRandom(1))).as("another node may").isIn(0, 1);
    }

    /** One worker per node on its way to a lock: a sibling neither picks nor claims it. */
    @Test
    void aSiblingDoesNotTakeTheLockAWorkerOfItsNodeClaimed() {
        Board b = Board.inMemory(2);
        b.acquired(0, 1);
        b.acquired(1, 1);
        int first = StrictAlternation.tryNext(b, 0, 2, new SplittableRandom(3));
        assertThat(first).as("the lock node 1 acquired last").isEqualTo(1);
        assertThat(StrictAlternation.tryNext(b, 0, 2, new SplittableRandom(3))).as("the other one").isEqualTo(0);
        assertThat(StrictAlternation.tryNext(b, 0, 2, new SplittableRandom(3))).as("both claimed").isEqualTo(-1);
        assertThat(b.acquired(1, 0)).as("a handoff from node 1").isEqualTo(1);
        b.unclaim(1, 0);
        assertThat(StrictAlternation.tryNext(b, 0, 2, new SplittableRandom(3))).as("node 0 holds lock 1 last")
                .isEqualTo(-1);
    }

    /**
     * Threads of three nodes, two per node, on plain locks that record who held each last: after each
     * lock's first acquisition, no lock is ever taken again by the node that held it (the old rule re-took
     * about half the time), and the result counts exactly the handoffs.
     */
    @Test
    void everyAcquisitionButEachLocksFirstIsAHandoff() throws Exception {
        int locks = 3;
        BenchOptions o = new BenchOptions(3, 2, locks, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ZERO,
                Duration.ofMillis(100), 11, BenchOptions.Api.LOCAL, BenchOptions.Pattern.ALTERNATION,
                BenchOptions.Data.SHARED, 300);
        AtomicIntegerArray lastHolder = new AtomicIntegerArray(locks);
        for (int i = 0; i < locks; i++) {
            lastHolder.set(i, -1);
        }
        AtomicInteger retakes = new AtomicInteger();
        AtomicInteger firsts = new AtomicInteger();
        ReentrantLock[] plain = {new ReentrantLock(), new ReentrantLock(), new ReentrantLock()};
        LockService recording = new LockService() {
            @Override
            public String name() {
                return "recording";
            }

            @Override
            public Client client(int node, int worker) {
                return new Client() {
                    @Override
                    public void lock(int lock) {
                        plain[lock].lock();
                        int before = lastHolder.getAndSet(lock, node);
                        if (before == node) {
                            retakes.incrementAndGet();
                        } else if (before < 0) {
                            firsts.incrementAndGet();
                        }
                    }

                    @Override
                    public void unlock(int lock) {
                        plain[lock].unlock();
                    }

                    @Override
                    public long read(int lock) {
                        throw new AssertionError("--data shared: the system's store is not used");
                    }

                    @Override
                    public void write(int lock, long value) {
                        throw new AssertionError("--data shared: the system's store is not used");
                    }
                };
            }

            @Override
            public long messages() {
                return -1;
            }

            @Override
            public long counter(int lock) {
                return 0;
            }

            @Override
            public void close() {}
        };
        SystemResult r = new Workload(o).run(recording);
        assertThat(retakes.get()).as("acquisitions by the node that held the lock last").isZero();
        assertThat(r.ops()).isPositive();
        assertThat(r.correct()).isTrue();
        // the share is rounded to 0.001
        assertThat(r.handoffShare() * r.ops()).isCloseTo(r.ops() - firsts.get(),
                org.assertj.core.api.Assertions.within(r.ops() / 1000.0 + 1));
        assertThat(r.data()).isEqualTo(DataStep.SHARED);
    }
}
