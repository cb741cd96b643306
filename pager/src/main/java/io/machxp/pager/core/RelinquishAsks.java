package io.machxp.pager.core;

import io.machxp.pager.futex.FutexRecord;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;

/**
 * memory_object_relinquish_futex: the pager asks a futex's holder to give it back, because other
 * kernels wait for it, and relays the priority they wait at (priority inheritance across
 * kernels). Part of the pager's futexes ({@link PagerFutexes}), core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  the first kernel queues behind H      -> relinquish_futex(top queued priority) to H
 *  the top priority changes, H still     -> relinquish_futex again with the new priority
 *    holds (a higher kernel queues, a       (never when it did not change)
 *    queued kernel is updated or leaves)
 *  the head's wait began at another time -> asked again, also at the same priority (8.6)
 *    than H was told
 *  an ask whose head was just requeued   -> marked requeued (H's waiters of its priority go first)
 *  the queue empties after an ask        -> relinquish_futex(0): H's owner is deboosted (it still
 *    with a priority above 0                gives the futex back when it unlocks)
 *  the grant's lease runs on             -> not asked yet: asked when it ends ({@link #grantLeaseEnded})
 *  the grant policy hands off directly   -> the ask goes as an order to forward the futex to the
 *                                           head of the queue, if both can take part
 *                                           ({@link PagerForwards#order})
 * </pre>
 * The queue is priority-ordered ({@link io.machxp.pager.futex.FutexQueue}): highest priority
 * first, arrival order among equals, so plain FIFO when every kernel sends 0 (--no-pi); the
 * holder boosts the thread that owns the futex to the priority it is told. An ask inside a grant
 * is {@link PagerGrants}'; a trylock's relinquish_futex(try) is {@link FutexTries}'.
 */
final class RelinquishAsks {
    private final CoreContext core;
    private final PagerForwards forwards;
    private final GrantLeases leases;

    RelinquishAsks(CoreContext core, PagerForwards forwards, GrantLeases leases) {
        this.core = core;
        this.forwards = forwards;
        this.leases = leases;
    }

    /**
     * Part IV: the holder gives the futex back once no local thread holds it. Asked when kernels
     * wait, with the top queued priority (the holder boosts its owning thread to it); asked again
     * only when that priority changed since the last ask of this grant. When the last waiting
     * kernel leaves after an ask with a priority, the holder is told priority 0, so its owner is
     * deboosted (it still gives the futex back when it unlocks); otherwise an empty queue asks nothing.
     */
    void askToRelinquish(FutexRecord f) {
        askToRelinquish(f, null, false);
    }

    void askToRelinquish(FutexRecord f, KernelSession requeued) {
        askToRelinquish(f, requeued, false);
    }

    /**
     * Asks the holder of {@code f} to relinquish it, at the top priority waiting, if that changed;
     * {@code requeued} (or null) is a kernel whose top waiter was just requeued: if it is now the
     * head of the queue, the holder is told so (its waiters of that priority go first);
     * {@code headWaitChanged}: the head's top waiter began waiting at another time than the holder
     * was told (8.6), so it is asked again even at the same priority.
     */
    void askToRelinquish(FutexRecord f, KernelSession requeued, boolean headWaitChanged) {
        if (f.queue.isEmpty() && !(f.relinquishSent && f.relinquishPriority != 0)) {
            return;
        }
        int top = f.queue.isEmpty() ? 0 : f.queue.topPriority();
        if (f.relinquishSent && f.relinquishPriority == top && !headWaitChanged) {
            return;
        }
        if (!f.queue.isEmpty() && leases.notYet(f, top)) {
            return; // the grant's lease runs on: asked when it ends
        }
        f.relinquishSent = true;
        f.relinquishPriority = top;
        if (forwards.order(f, top)) {
            return; // direct handoff: the holder hands it to the head of the queue
        }
        MemoryObjectRelinquishFutex.Builder ask = MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(f.holder.objectIdOf(f.key.object())).setOffset(f.key.offset())
                .setPriority(top).setRequeued(requeued != null && f.queue.peek() == requeued);
        long waited = f.queue.topWaitedNanos(core.env.nanoTime());
        if (waited >= 0) {
            ask.setWaitedNanos(waited);
        }
        core.send(f.holder, PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(ask).build());
    }

    /** The lease of grant {@code token} of {@code f} ended: its holder is asked now, if it still holds it. */
    void grantLeaseEnded(FutexRecord f, long token) {
        if (f.holder != null && f.token == token) {
            askToRelinquish(f);
        }
    }
}
