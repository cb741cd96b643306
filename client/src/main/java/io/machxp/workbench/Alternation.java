package io.machxp.workbench;

import java.util.SplittableRandom;
import java.util.function.IntToLongFunction;
import java.util.function.IntUnaryOperator;

/**
 * The strict-alternation workload's rule, defined once for every system that runs it (the
 * simulator's workbench and machxp bench, on machxp and on the peers): a worker of node k next
 * takes the lock most recently acquired by a worker of another node, so that every operation is
 * a handoff between nodes while there is one; before any lock has been acquired by another node,
 * a lock drawn at random. Lock i is homed on node i mod nodes, as in every workload.
 *
 * <p>The caller keeps the record of acquisitions (per lock: the node that acquired it last, and a
 * stamp that orders acquisitions, larger meaning later) wherever its workers share memory: arrays
 * in the simulator, a board in memory shared by the bench's worker processes.
 */
public final class Alternation {
    private Alternation() {}

    /**
     * The lock a worker of {@code node} takes next.
     *
     * @param lastNode per lock, the node that acquired it last, or -1
     * @param lastStamp per lock, when (any order-preserving stamp: time, a sequence number)
     */
    public static int next(int node, int locks, IntUnaryOperator lastNode, IntToLongFunction lastStamp,
            SplittableRandom random) {
        int best = -1;
        long bestStamp = Long.MIN_VALUE;
        for (int i = 0; i < locks; i++) {
            int last = lastNode.applyAsInt(i);
            if (last >= 0 && last != node) {
                long stamp = lastStamp.applyAsLong(i);
                if (best < 0 || stamp > bestStamp) {
                    best = i;
                    bestStamp = stamp;
                }
            }
        }
        return best >= 0 ? best : random.nextInt(locks);
    }
}
