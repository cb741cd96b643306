package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.xp.FutexForward;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Direct handoff (xp-spec 14, the {@code direct} variant): a holder asked to forward a futex sends
 * a copy of its release, with the futex's page, straight to the next kernel, which may use it at
 * once; the pager's grant, which follows the release, confirms it. Part of the kernel core's
 * futexes: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  As the holder:
 *  relinquish(forward_to K, T, S)   held          -> the order is kept on the entry (void if the
 *                                                    stream breaks, or for an earlier grant)
 *  futex_released sent, with the    order kept    -> FutexForward(T, S, the release) to K over the
 *    futex's page                                    kernel link (without its page: nothing to K)
 *  As the next holder:
 *  FutexForward(T, S)               to_kernel this kernel's TID prefix, lock_futex out on
 *                                   session S, with a valid lease, T above every
 *                                   token seen here, the futex's page in it
 *                                                 -> granted as by futex_granted(T) with that page;
 *                                                    the grant under T is awaited
 *                                   otherwise     -> dropped: the pager's grant comes anyway
 *  futex_granted(T)                 took the copy -> the confirmation: its relinquish acted on, a
 *                                                    page this kernel has is kept (it may have
 *                                                    written it since)
 * </pre>
 */
final class FutexForwards {
    private final KernelCore core;
    private final KernelFutexes futexes;
    /** By futex (object name and offset, since an entry may be made anew): the highest token granted here. */
    private final Map<String, Long> seen = new HashMap<>();

    FutexForwards(KernelCore core, KernelFutexes futexes) {
        this.core = core;
        this.futexes = futexes;
    }

    /**
     * relinquish_futex: with forward_to, the release this grant of the futex makes is copied to that
     * kernel (named by its TID prefix, its primary pager's kernel id, whichever pager orders it);
     * without, an order of an earlier relinquish is withdrawn.
     */
    void order(FutexEntry e, MemoryObjectRelinquishFutex r) {
        if (isAbsent(e.state()) || r.getForwardTo() != 0 && r.getForwardToken() <= e.fencingToken) {
            return; // crossed with our own release: the pager has it back
        }
        e.forwardTo = r.getForwardTo();
        e.forwardToken = r.getForwardToken();
        e.forwardSession = r.getForwardSession();
    }

    /** The stream to the pager broke: an order of the old stream is void (a release is not made now anyway). */
    void streamBroken(FutexEntry e) {
        e.forwardTo = 0;
    }

    /** Granted (by the pager, or by a copy): no copy under this token or an older one is taken any more. */
    void granted(FutexEntry e) {
        seen.merge(key(core.objects.object(e.objectId()).name, e.offset()), e.fencingToken, Math::max);
    }

    private static String key(String object, long offset) {
        return object + "@" + offset;
    }

    /**
     * {@code released} goes to the pager: a copy of it goes to the kernel the pager ordered, with
     * the futex's page, and the release says so ({@code forwarded_token}).
     */
    void forward(FutexEntry e, MemoryObjectFutexReleased.Builder released) {
        int to = e.forwardTo;
        e.forwardTo = 0;
        if (to == 0) {
            return;
        }
        List<PageData> own = released.getPagesList().stream().filter(d -> d.getOffset() == e.page.pageOffset).toList();
        if (own.isEmpty()) {
            return; // its page stayed here: the next kernel waits for the pager's grant
        }
        VmObject o = core.objects.object(e.objectId());
        core.env.sendToKernel(to, FutexForward.newBuilder().setObject(o.name).setOffset(e.offset())
                .setFromKernel(core.kernelId()).setToKernel(to).setFencingToken(e.forwardToken)
                .setToSession(e.forwardSession).setReleased(released.clone().clearPages().addAllPages(own)).build());
        released.setForwardedToken(e.forwardToken);
        core.env.trace("futex-forwarded", 0, o.name + "+0x" + Long.toHexString(e.offset()) + " to kernel " + to
                + " token 0x" + Long.toHexString(e.forwardToken));
    }

    /** A FutexForward arrived from the kernel link. */
    void onForward(FutexForward m) {
        VmObject o = core.objects.objectNamed(m.getObject());
        FutexEntry e = o == null ? null : core.objects.trackedFutex(o.objectId, m.getOffset());
        long token = m.getFencingToken();
        KernelSession session = o == null ? null : core.sessions.forObject(o.objectId);
        if (session != null) {
            session.checkLeaseNow(); // one that waited out the lease in a paused kernel is stale
        }
        MemoryObjectFutexReleased r = m.getReleased();
        if (m.getToKernel() != core.kernelId() // meant for another kernel: ids are TID prefixes (xp-spec 14.2)
                || e == null || !isAbsent(e.state()) || e.request != FutexEntry.Request.LOCK || core.sessions.pagerLost(o.objectId)
                || session.inGrace() // it hands out nothing in grace: the pager's grant comes anyway
                || session.ending() // a clean end's wait: no waiter takes it, it would go unreturned
                || !forThisSession(m.getToSession(), session)
                || token <= seen.getOrDefault(key(o.name, e.offset()), 0L) || token <= e.fencingToken
                || r.getPagesCount() != 1 || r.getPages(0).getOffset() != e.page.pageOffset || e.page.resident()) {
            core.env.trace("forward-dropped", 0, m.getObject() + "+0x" + Long.toHexString(m.getOffset()) + " token 0x"
                    + Long.toHexString(token));
            return; // not for this wait, stale, or without its page: the pager's grant comes anyway
        }
        core.env.trace("forward-taken", 0, m.getObject() + "+0x" + Long.toHexString(m.getOffset()) + " token 0x" + Long.toHexString(token));
        e.forwardHeld = token;
        e.grantHandoff = r.getHandoff();
        futexes.onFutexGranted(e, o, r.getPagesList(), token, r.getOwnerDied(), r.getStaleHeirTid());
    }

    /**
     * Whether a copy ordered for session {@code toSession} is for this kernel's current session: its
     * token; or, without a lease, 0 - unless the session replaced a lost one with that pager (a
     * secondary's rejoin): a session without a lease has no token, so a copy ordered for the lost
     * one could not be told apart, and is dropped (the pager's grant comes anyway).
     */
    private static boolean forThisSession(long toSession, KernelSession session) {
        return toSession != 0 ? toSession == session.resume.token()
                : session.leaseNanos() == 0 && !session.rejoin.replacesLost();
    }

    /**
     * futex_granted: true if it confirms a copy this kernel took (then handled here), false if it
     * is an ordinary grant.
     */
    boolean confirm(FutexEntry e, MemoryObjectFutexGranted g) {
        if (e.forwardHeld == 0 || e.forwardHeld != g.getFencingToken()) {
            return false;
        }
        e.forwardHeld = 0;
        if (isAbsent(e.state()) || e.fencingToken != g.getFencingToken()) {
            return true; // given back since (its release is on its way to the pager)
        }
        // The grant's page (the pager's copy of the one forwarded) is not installed: this kernel's
        // copy is as new, or newer if written since.
        if (g.getRelinquish()) {
            futexes.onRelinquishFutex(e, g.getRelinquishPriority(), false,
                    g.hasRelinquishWaitedNanos() ? g.getRelinquishWaitedNanos() : -1);
        }
        return true;
    }
}
