package io.machxp.bench.workload;

import io.machxp.demo.LockChooser;
import io.machxp.workbench.Alternation;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * One worker of the bench's workload, closed loop, the same whether it is a thread of the bench's
 * JVM or of a worker process: it says it is ready on the {@link Board}, waits for the run to open,
 * then picks a lock (with locality, or by strict alternation), locks it, reads the lock's counter,
 * spins for the critical section, with probability {@code writes} writes the counter back plus one,
 * unlocks and thinks, until the measurement ends. Only operations that end inside the window are
 * measured. Its choices come from a generator seeded with (seed, node, thread), so every system
 * sees the same sequence of requests per worker (with alternation, the same rule over the same
 * record of acquisitions; the interleaving is the machine's).
 */
public final class WorkerLoop {
    private WorkerLoop() {}

    /** Runs one worker to the end of the measurement and returns what it measured. */
    public static WorkerStats run(LockService.Client client, Board board, BenchOptions o, int node, int thread)
            throws Exception {
        SplittableRandom random = new SplittableRandom(o.seed() * 1_000_003L + node * 1_009L + thread);
        LockChooser chooser = new LockChooser(node, o.nodes(), o.locks(), o.locality());
        boolean alternation = o.pattern() == BenchOptions.Pattern.ALTERNATION;
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
            int lock = alternation ? Alternation.next(node, o.locks(), board::lastNode, board::lastStamp, random)
                    : chooser.next(random);
            boolean write = random.nextDouble() < o.writes();
            long t0 = System.nanoTime();
            client.lock(lock);
            long waited = System.nanoTime() - t0;
            if (alternation) {
                board.acquired(lock, node);
            }
            if (!board.enter(lock)) {
                mine.violations++;
            }
            long value = client.read(lock);
            spin(criticalNanos);
            if (write) {
                client.write(lock, value + 1);
                mine.writes++; // all of them, warm-up too: the counters' sum is checked over the whole run
            }
            board.leave(lock);
            client.unlock(lock);
            long t1 = System.nanoTime();
            if (++uncounted == 64) {
                board.completed(uncounted);
                uncounted = 0;
            }
            if (t1 - begin >= 0 && t1 - end < 0) {
                mine.latency.recordValue(t1 - t0);
                mine.waits.recordValue(waited);
                mine.ops++;
            }
            if (t1 - end >= 0) {
                board.completed(uncounted);
                return mine;
            }
            if (thinkNanos > 0) {
                LockSupport.parkNanos(thinkNanos);
            }
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
