package io.machxp.kernel;

import io.machxp.kernel.core.EndBarrier;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelXp;
import java.util.concurrent.CompletableFuture;

/**
 * One {@link PagerLink}'s part in the kernel's clean end (xp-spec 2.6): the answer to the
 * keepalive the core's shutdown sent after its last return there ({@link EndBarrier}), which says
 * that what the kernel gave back is stored; only then does the runtime end the stream
 * ({@link PagerLinks#close}). Core thread.
 *
 * <h2>Overview</h2>
 * <pre>
 *  NOT ENDING --{@link #await}(barrier)--> AWAITING   (or FALSE at once: the stream has ended and
 *                                                      the session is not ending)
 *  AWAITING --pager_keepalive of the barrier's sequence or a later one, on whichever stream the
 *            session has then ({@link #keepaliveAnswered})--> TRUE
 *  AWAITING --the current stream ended and the session is not ending ({@link #streamEnded}: it
 *            broke before the answer, and no resume or reclaim follows)--> FALSE
 *  AWAITING --the ending session was lost for good ({@link #over})--> FALSE
 * </pre>
 * A session with a lease stays open while ending ({@link KernelXp#ending}): a stream that breaks
 * then is resumed or reclaimed, and the core sends a keepalive again on the new one, whose answer
 * (a later sequence) answers the barrier.
 */
final class EndBarrierWait {
    private final KernelCore core;
    /** Which of the kernel's pagers (0: its primary). */
    private final int pager;
    /** The keepalive the clean end awaits the answer of; null before the end. */
    private EndBarrier barrier;
    /** True once that keepalive is answered, false if the wait ends otherwise. */
    private final CompletableFuture<Boolean> answered = new CompletableFuture<>();

    EndBarrierWait(KernelCore core, int pager) {
        this.core = core;
        this.pager = pager;
    }

    /**
     * After the core's shutdown sent {@code b}'s keepalive: the future of its answer.
     * {@code streamEnded}: the link's current stream has ended already.
     */
    CompletableFuture<Boolean> await(EndBarrier b, boolean streamEnded) {
        barrier = b;
        if (streamEnded && !core.xp().ending(pager)) {
            answered.complete(false);
        }
        return answered;
    }

    /** A pager_keepalive of {@code sequence} came on the current stream. */
    void keepaliveAnswered(long sequence) {
        if (barrier != null && barrier.answeredBy(sequence)) {
            answered.complete(true); // what the kernel gave back is stored: the stream may end
        }
    }

    /** The current stream ended (before the link reports it to the core). */
    void streamEnded() {
        if (barrier != null && !core.xp().ending(pager)) {
            answered.complete(false); // the end's stream broke before its answer, no resume or reclaim
        }
    }

    /** The ending session was lost for good: its end's barrier will not be answered. */
    void over() {
        answered.complete(false);
    }
}
