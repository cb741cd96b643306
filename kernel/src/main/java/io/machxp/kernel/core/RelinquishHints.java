package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.xp.MemoryObjectRelinquishFutexHint;

/**
 * memory_object_relinquish_futex_hint (xp-spec 13.6, optional: offered in kernel_hello.features as
 * {@value #FEATURE}): a replicated pager's leader tells the holder, as soon as another kernel's
 * lock_futex arrives and before its group has committed it, that the futex is wanted, so that the
 * release runs while the request commits. Advice only: the pager's own relinquish_futex follows
 * once the request is applied. Part of the kernel core's futexes: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  the futex held here under the hint's token,    -> as a relinquish_futex that relays no priority
 *    no relinquish pending, no boost kept over a      ({@link FutexRelinquish}, at priority 0: it
 *    broken stream                                    boosts nobody, and local waiters that blocked
 *                                                     before it go first): given back at once if
 *                                                     no thread here owns it, else at its owner's
 *                                                     unlock
 *  anything else: not held (ABSENT), another      -> dropped, silently (a hint may be stale: never a
 *    grant, an object or futex not known here,        violation)
 *    another pager's object, a relinquish already
 *    pending (the pager's own asks decide), a boost
 *    kept (the pager's relinquish takes it over)
 *  the relinquish_futex that follows              -> as any: a futex given back already is ABSENT
 *                                                     here ("crossed with our own release");
 *                                                     one still held takes the priority it carries
 * </pre>
 * Not numbered (xp-spec 4.7): the dispatch neither counts it among the session's messages
 * received nor holds it in a lease grace ({@link XpDispatch}); a hint in a grace is dropped.
 */
final class RelinquishHints {
    /** The feature a kernel's hello names to get hints. */
    static final String FEATURE = "relinquish_hint";

    private final KernelCore core;
    private final KernelStats stats;

    RelinquishHints(KernelCore core, KernelStats stats) {
        this.core = core;
        this.stats = stats;
    }

    /** A hint from the pager of {@code pager}. */
    void onHint(int pager, MemoryObjectRelinquishFutexHint h) {
        VmObject o = core.objects.object(h.getObjectId());
        FutexEntry e = o == null || o.pager != pager ? null : core.objects.trackedFutex(h.getObjectId(), h.getOffset());
        if (e == null || isAbsent(e.state()) || e.fencingToken != h.getFencingToken() || e.relinquishPending
                || e.remoteBoostKept) {
            stats.hintsDropped.increment();
            return;
        }
        stats.hintsActed.increment();
        core.futexes.onRelinquishFutex(e, 0, false, -1);
    }

    long acted() {
        return stats.hintsActed.sum();
    }

    long dropped() {
        return stats.hintsDropped.sum();
    }
}
