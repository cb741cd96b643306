package io.machxp.bench.workload;

import io.machxp.demo.LockChooser;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker of the bench's workload, closed loop, the same whether it is a thread of the bench's
 * JVM or of a worker process: it says it is ready on the {@link Board}, waits for the run to open,
 * then picks a lock (with locality, or by strict alternation: {@link StrictAlternation}), locks it,
 * reads the lock's counter (on the board with {@code --data shared}, else through the system),
 * spins for the critical section, with probability {@code writes} writes the counter back plus one,
 * unlocks and thinks, until the measurement ends (or, bounded, after its number of operations).
 * Only operations that end inside the window are measured; with alternation it counts those whose
 * previous acquirer was another node (handoffs). Its choices come from a generator seeded with (seed, node, thread), so every system
 * sees the same sequence of requests per worker (with alternation, the same rule over the same
 * record of acquisitions; the interleaving is the machine's). A worker whose system throws releases
 * its claim (a lock that threw) or unlocks as best it can (a read, write or unlock that threw after
 * lock returned), and marks the board failed; every other worker stops at its next operation or
 * while it waits for a handoff, and the run reports the failure ({@link Workload} waits a bounded
 * time for a worker still inside its system).
 */
public final class WorkerLoop {
    private WorkerLoop() {}

    /** Runs one worker to the end of the measurement and returns what it measured. */
    public static WorkerStats run(LockService.Client system, Board board, BenchOptions o, int node, int thread)
            throws Exception {
        try {
            return loop(system, board, o, node, thread);
        } catch (Throwable e) {
            board.fail(); // before finished: a waiter that sees this worker finished sees the failure too
            throw e;
        } finally {
            board.finished(node);
        }
    }

    private static WorkerStats loop(LockService.Client system, Board board, BenchOptions o, int node, int thread)
            throws Exception {
        SplittableRandom random = new SplittableRandom(o.seed() * 1_000_003L + node * 1_009L + thread);
        LockChooser chooser = new LockChooser(node, o.nodes(), o.locks(), o.locality());
        boolean alternation = o.pattern() == BenchOptions.Pattern.ALTERNATION;
        boolean shared = o.data() == BenchOptions.Data.SHARED;
        long criticalNanos = o.critical().toNanos();
        long thinkNanos = o.think().toNanos();
        WorkerStats mine = new WorkerStats();
        long uncounted = 0; // operations not yet added to the board's count (added in batches: one shared word)
        board.ready();
        while (!board.opened()) {
            LockSupport.parkNanos(1_000_000); // the warm-up follows: a millisecond of skew is not measured
        }
        long begin = board.begin();
        long end = board.end();
        while (true) {
            int lock;
            if (alternation) {
                lock = StrictAlternation.next(board, o, node, random, () -> !o.bounded() && System.nanoTime() - end >= 0);
                if (lock < 0) { // no node will hand this one a lock any more
                    board.completed(uncounted);
                    return mine;
                }
            } else {
                lock = chooser.next(random);
            }
            boolean write = random.nextDouble() < o.writes();
            long t0 = System.nanoTime();
            try {
                system.lock(lock);
            } catch (Throwable e) {
                if (alternation) {
                    board.unclaim(lock, node); // not acquired: the claim must not outlive this worker
                }
                throw e;
            }
            long waited = System.nanoTime() - t0;
            int before = -1;
            if (alternation) {
                before = board.acquired(lock, node);
                board.unclaim(lock, node); // after the record: a sibling's next claim sees this node
            }
            if (!board.enter(lock)) {
                mine.violations++;
            }
            boolean inside = true; // counted in the board's occupancy of the lock
            boolean held = true; // unlock not called yet (one that threw is not called again: it may have released)
            try {
                long value = shared ? board.counter(lock) : system.read(lock);
                spin(criticalNanos);
                if (write) {
                    if (shared) {
                        board.counter(lock, value + 1);
                    } else {
                        system.write(lock, value + 1);
                    }
                    mine.writes++; // all of them, warm-up too: the counters' sum is checked over the whole run
                }
                inside = false;
                board.leave(lock);
                held = false;
                system.unlock(lock);
            } catch (Throwable e) {
                release(system, board, lock, inside, held);
                throw e;
            }
            long t1 = System.nanoTime();
            if (++uncounted == 64) {
                board.completed(uncounted);
                uncounted = 0;
            }
            if (t1 - begin >= 0 && (o.bounded() || t1 - end < 0)) {
                mine.latency.recordValue(t1 - t0);
                mine.waits.recordValue(waited);
                mine.ops++;
                if (before >= 0 && before != node) {
                    mine.handoffs++;
                }
            }
            if (o.bounded() ? mine.ops >= o.opsPerWorker() : t1 - end >= 0) { // bounded: N measured, after the warm-up
                board.completed(uncounted);
                return mine;
            }
            if (board.failed()) { // another worker failed: the run is lost, and this one must not keep it going
                board.completed(uncounted);
                return mine;
            }
            if (thinkNanos > 0) {
                LockSupport.parkNanos(thinkNanos);
            }
        }
    }

    /**
     * After {@code lock} returned and the section threw (read, write or unlock): leaves the board's
     * occupancy if still counted, and unless unlock itself threw, unlocks as best it can, so that a
     * worker of another node already blocked in lock for it gets it and sees the failure. An unlock
     * that throws (the connection is gone) leaves the lock held as far as this worker knows; the
     * run then ends after its grace period ({@link Workload}).
     */
    private static void release(LockService.Client system, Board board, int lock, boolean inside, boolean held) {
        if (inside) {
            board.leave(lock);
        }
        if (!held) {
            return;
        }
        try {
            system.unlock(lock);
        } catch (Throwable ignored) {
            // the first failure is the one reported
        }
    }

    /** Holds the CPU for {@code nanos}, as work inside a critical section does. */
    private static void spin(long nanos) {
        if (nanos <= 0) {
            return;
        }
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() - until < 0) {
            Thread.onSpinWait();
        }
    }
}
