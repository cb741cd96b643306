package io.machxp.pager.futex;

import io.machxp.pager.core.KernelSession;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The pager's record of one futex: which kernel holds it, which kernels wait, in arrival order,
 * and whether the holder has been asked to relinquish it. Pager core thread only.
 *
 * <pre>
 *   FREE --lock_futex(K)--> HELD by K --lock_futex(J)--> J queued, relinquish sent to K
 *                           HELD by K --futex_released(K)--> HELD by head of queue, or FREE
 * </pre>
 * Invariant: a free futex has an empty queue; the holder is never in the queue.
 * Pages given back with futex_released are remembered until the next grant, which carries those
 * that are still free.
 */
public final class FutexRecord {
    public final FutexKey key;
    public KernelSession holder;
    public final ArrayDeque<KernelSession> queue = new ArrayDeque<>();
    public boolean relinquishSent;
    /** Session id of the last kernel that held it (0: never held), to count handoffs. */
    public long lastHolder;
    /** Offsets of the pages given back with the futex since its last grant, for the next grant. */
    public final Set<Long> releasedPages = new LinkedHashSet<>();

    public FutexRecord(FutexKey key) {
        this.key = key;
    }
}
