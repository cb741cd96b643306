package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.proto.xp.MemoryObjectFutexBusy;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;

/**
 * Trylocks across kernels, for {@link PagerFutexes}: a trylock never waits in a futex's queue.
 * Pager core thread only.
 * <pre>
 *  try by K, held by H, queue not empty -> futex_busy to K (kernels wait: not free)
 *  try by K, held by H, H's stream broke -> futex_busy to K (H cannot answer before its lease ends)
 *  H's stream breaks                    -> futex_busy to every try waiting
 *  try by K, held by H, nobody queued   -> K waits as a try; relinquish_futex(try) to H, once
 *                                          for every try before H answers, with the first try's
 *                                          priority (H gives a futex whose woken heir has not run
 *                                          to a try above it: released without request_again,
 *                                          then asked for again, xp-spec 8.3)
 *  futex_held(H, token of the grant)    -> futex_busy to every try waiting
 *  futex goes to a queued kernel        -> futex_busy to every try waiting ({@link #answer})
 * </pre>
 * The holder answers relinquish_futex(try) with futex_held if a thread there owns the futex or
 * waits for it (it set WAITERS in the word, as Linux's TRYLOCK_PI does on a held futex), else it
 * releases the futex, which then goes to the first try. A futex_held from a kernel that no
 * longer holds the futex, or about another grant, crossed the futex on its way back: dropped.
 * The relinquish(try) is an awaited request ({@link AnswerDeadlines}): a holder that answers it
 * with neither is ended at the deadline, and every try is then answered busy as when its stream
 * breaks.
 */
final class FutexTries {
    private final CoreContext core;

    FutexTries(CoreContext core) {
        this.core = core;
    }

    /**
     * A trylock from another kernel while {@code f} is held and nobody queues for it: it is free
     * only if no thread of the holder owns it or waits for it, which only the holder knows, so the
     * holder is asked (once for every try that comes before it answers).
     */
    void tryLock(FutexRecord f, KernelSession s, int priority) {
        if (!f.queue.isEmpty() || f.holder.broken) {
            // kernels wait for it: not free, whatever the holder's word says now; or the holder's
            // stream broke and it cannot answer before its lease ends, which a trylock does not wait for
            busy(s, f.key);
            return;
        }
        f.tries.add(s);
        s.queued.add(f.key);
        if (!f.tryAsked) {
            f.tryAsked = true;
            f.tryAskedNanos = core.env.nanoTime();
            core.answers.tryOwed(f);
            core.answers.asked(f.holder);
            core.send(f.holder, PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex
                    .newBuilder().setObjectId(f.holder.objectIdOf(f.key.object())).setOffset(f.key.offset())
                    .setPriority(Math.max(priority, f.relinquishSent ? f.relinquishPriority : 0)).setTry(true)).build());
        }
    }

    /**
     * memory_object_futex_held from {@code s} about the grant {@code token} of {@code f} (null: no
     * record): the holder keeps the futex, so every try waiting is answered busy.
     */
    void held(KernelSession s, FutexRecord f, long token) {
        if (f == null || f.holder != s || token != f.token || !f.tryAsked) {
            return;
        }
        f.tryAsked = false;
        core.answers.answered(s, f.tryAskedNanos);
        answer(f);
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
