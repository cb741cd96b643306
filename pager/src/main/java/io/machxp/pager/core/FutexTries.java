package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.proto.xp.MemoryObjectFutexBusy;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Iterator;

/**
 * Trylocks across kernels, for {@link PagerFutexes}: a trylock never waits in a futex's queue.
 * Pager core thread only.
 * <pre>
 *  try by K, held by H, queue not empty -> futex_busy to K (kernels wait: not free)
 *  try by K, held by H, H's stream broke -> futex_busy to K (H cannot answer before its lease ends)
 *  H's stream breaks                    -> futex_busy to every try waiting
 *  try by K, held by H, nobody queued   -> K waits as a try, with its priority; relinquish_futex(try)
 *                                          to H with it, if none is out (one at a time, so that
 *                                          an answer is always the current ask's)
 *  futex_held(H, token of the grant)    -> futex_busy to every try at or below the priority H
 *                                          was asked with (H would answer them so too); a try
 *                                          above it (it came while H was asked) gets a round of
 *                                          its own: relinquish_futex(try) with the highest
 *  futex_released(H) answering the ask  -> the highest try gets the futex, ahead of the queue
 *                                          (the kernels queued there came after the try) and of
 *                                          H's own request_again if it is above it: H gives a
 *                                          futex whose woken heir has not run to a try above the
 *                                          heir and asks again for the heir inside the release
 *                                          (xp-spec 8.3); busy to the others ({@link PagerGrants})
 *  futex goes to a queued kernel        -> futex_busy to every try waiting ({@link #answer})
 * </pre>
 * The holder answers relinquish_futex(try) with futex_held if a thread there owns the futex or
 * waits for it (it set WAITERS in the word, as Linux's TRYLOCK_PI does on a held futex), else it
 * releases the futex, which then goes to the highest try. A futex_held from a kernel that no
 * longer holds the futex, or about another grant, crossed the futex on its way back: dropped.
 * The relinquish(try) is an awaited request ({@link AnswerDeadlines}): a holder that answers it
 * with neither is ended at the deadline, and every try is then answered busy as when its stream
 * breaks. A try above the priority asked that comes just after an ask waits for two answers (the
 * ask out, then its own round), each of which may include the holder's fetch of the word's page
 * (up to half a lease): up to about a lease in all, never a session ended for it (xp-spec 8.3).
 */
final class FutexTries {
    private final CoreContext core;

    FutexTries(CoreContext core) {
        this.core = core;
    }

    /**
     * A trylock from another kernel while {@code f} is held and nobody queues for it: it is free
     * only if no thread of the holder owns it or waits for it, which only the holder knows, so the
     * holder is asked, with the trylock's priority (above a woken heir that has not run, the holder
     * gives it up: xp-spec 8.3). While an ask is out, a try waits for its answer: one at or below
     * the priority asked shares it, one above gets a round of its own if the answer is futex_held.
     */
    void tryLock(FutexRecord f, KernelSession s, int priority) {
        if (!f.queue.isEmpty() || f.holder.broken) {
            // kernels wait for it: not free, whatever the holder's word says now; or the holder's
            // stream broke and it cannot answer before its lease ends, which a trylock does not wait for
            busy(s, f.key);
            return;
        }
        f.tries.add(s, priority);
        s.queued.add(f.key);
        if (!f.tryAsked) {
            ask(f, priority);
        }
    }

    /** relinquish_futex(try) to the holder of {@code f}, with {@code priority} (or the relinquish's, if higher). */
    private void ask(FutexRecord f, int priority) {
        f.tryAsked = true;
        f.tryAskedNanos = core.env.nanoTime();
        f.tryAskedPriority = Math.max(priority, f.relinquishSent ? f.relinquishPriority : 0);
        core.answers.tryOwed(f);
        core.answers.asked(f.holder);
        core.send(f.holder, PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex
                .newBuilder().setObjectId(f.holder.objectIdOf(f.key.object())).setOffset(f.key.offset())
                .setPriority(f.tryAskedPriority).setTry(true)).build());
    }

    /**
     * memory_object_futex_held from {@code s} about the grant {@code token} of {@code f} (null: no
     * record): the holder keeps the futex from a try at the priority it was asked with, so every
     * try at or below it is answered busy. A try above it came while the holder was asked: it is
     * asked for again with the highest (a woken heir there may be below it), unless kernels now
     * queue for the futex (then it is not free: busy too).
     */
    void held(KernelSession s, FutexRecord f, long token) {
        if (f == null || f.holder != s || token != f.token || !f.tryAsked) {
            return;
        }
        f.tryAsked = false;
        core.answers.answered(s, f.tryAskedNanos);
        int asked = f.tryAskedPriority;
        for (Iterator<KernelSession> it = f.tries.iterator(); it.hasNext(); ) {
            KernelSession t = it.next();
            if (f.tries.priorityOf(t) <= asked || !f.queue.isEmpty()) {
                it.remove();
                t.queued.remove(f.key);
                busy(t, f.key);
            }
        }
        if (!f.tries.isEmpty()) {
            ask(f, f.tries.highestPriority());
        }
    }

    /** Every trylock still waiting for {@code f} is answered busy. */
    void answer(FutexRecord f) {
        for (KernelSession t : f.tries) {
            t.queued.remove(f.key);
            busy(t, f.key);
        }
        f.tries.clear();
    }

    /** futex_busy to {@code s}: its trylock of {@code key} is answered at once. */
    void busy(KernelSession s, FutexKey key) {
        core.send(s, PagerToKernel.newBuilder().setMemoryObjectFutexBusy(MemoryObjectFutexBusy.newBuilder()
                .setObjectId(s.objectIdOf(key.object())).setOffset(key.offset())).build());
    }
}
