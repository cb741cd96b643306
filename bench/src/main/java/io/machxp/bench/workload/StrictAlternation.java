package io.machxp.bench.workload;

import io.machxp.workbench.Alternation;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Strict alternation as machxp bench runs it: every acquisition a handoff between nodes, never a
 * lock taken again by the node that took it last. The choice is the shared rule
 * ({@link Alternation}: the lock most recently acquired by another node); two things make it strict
 * on a machine with several workers per node:
 * <pre>
 *   claim:   a worker claims its lock for its node on the {@link Board} before it calls lock; a
 *            node has one worker on its way to a lock at a time, so no sibling can take the lock
 *            in between (which would make the worker's acquisition a same-node re-take)
 *   wait:    when no lock was last acquired by another node (or every such lock is claimed by a
 *            sibling), the worker waits for one instead of taking a random lock (the shared rule's
 *            fallback, which on machxp is a cached CAS and no handoff)
 * </pre>
 * After the claim the last acquirer is checked again: a sibling that held the claim records its
 * acquisition before it releases the claim, so a claim that follows it sees its node and gives up.
 * The only acquisitions that are not handoffs are each lock's first (nobody held it), in the
 * warm-up; the bench counts the handoffs it measured (the previous acquirer, from the board).
 */
final class StrictAlternation {
    /** Spins before parking while no lock is eligible. */
    private static final int SPINS = 200;
    private static final long PARK_NANOS = 20_000;

    private StrictAlternation() {}

    /**
     * The next lock of a worker of {@code node}, claimed for the node, waiting while none is
     * eligible; -1 when the run is over for it ({@code over} says so, a worker failed, or every other
     * node's workers have finished, so that no lock will ever be handed to this node again).
     */
    static int next(Board board, BenchOptions o, int node, SplittableRandom random, java.util.function.BooleanSupplier over) {
        for (int idle = 0; ; idle++) {
            int lock = tryNext(board, node, o.locks(), random);
            if (lock >= 0) {
                return lock;
            }
            if (over.getAsBoolean() || board.failed() || board.othersFinished(node, o.nodes(), o.threadsPerNode())) {
                return -1;
            }
            if (idle < SPINS) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(PARK_NANOS);
            }
        }
    }

    /** One attempt: a lock last acquired by another node (or by none), claimed for {@code node}; else -1. */
    static int tryNext(Board board, int node, int locks, SplittableRandom random) {
        int lock = Alternation.next(node, locks, l -> board.claimed(l, node) ? node : board.lastNode(l),
                board::lastStamp, random);
        if (board.lastNode(lock) == node || !board.claim(lock, node)) {
            return -1;
        }
        if (board.lastNode(lock) == node) { // a sibling took it between the look and the claim
            board.unclaim(lock, node);
            return -1;
        }
        return lock;
    }
}
