package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.xp.FutexForward;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexForwarded;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import java.util.HashMap;
import java.util.Map;

/**
 * Direct handoff (xp-spec 13, the {@code direct} variant): the pager orders the holder of a futex
 * to hand it straight to the next kernel over the kernel link instead of giving it back, and the
 * next kernel tells the pager it took it. Part of the kernel core's futexes: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  As the holder:
 *  relinquish(forward_to K, T)     held          -> order kept on the entry (void if the stream
 *                                                   breaks, or the futex was already given back)
 *  the release the futex makes     order kept    -> FutexForward(T, the release, its page) to K;
 *                                                   the release is kept until another grant
 *  relinquish(cancel_forward, T)   order kept    -> order void: the release goes to the pager
 *                                  release kept  -> futex_released from it, with forwarded
 *  As the next holder:
 *  FutexForward(T) from the link   lock_futex out, T above every token seen or refused
 *                                                -> futex_forwarded(T, the release without page
 *                                                   data), then granted as by futex_granted(T)
 *                                  otherwise     -> dropped: the pager cancels it in time
 *  relinquish(cancel_forward, T)   not held under T -> T refused for good; futex_forwarded(refused)
 * </pre>
 * Safety rests on the pager, which stays the authority: it counts the futex its holder's until
 * the confirmation, so a cancelled forward is refused by the one and given back by the other, in
 * the order their streams carry; tokens grow with every forward as with every grant.
 */
final class FutexForwards {
    /** A release sent inside a forward, kept until the pager cancels it or grants the futex again. */
    private record Kept(long token, MemoryObjectFutexReleased released) {}

    private final KernelCore core;
    private final KernelFutexes futexes;
    private final ReleasePages releasePages;
    /** By futex (object name and offset: an entry may be made anew while the futex is away). */
    private final Map<String, Kept> kept = new HashMap<>();
    /** As the next holder, by futex: forwards with a token up to this were cancelled (or are stale) and are refused. */
    private final Map<String, Long> refusedUpTo = new HashMap<>();

    FutexForwards(KernelCore core, KernelFutexes futexes, ReleasePages releasePages) {
        this.core = core;
        this.futexes = futexes;
        this.releasePages = releasePages;
    }

    /** relinquish_futex with forward_to: the futex's next release goes to that kernel. */
    void order(FutexEntry e, MemoryObjectRelinquishFutex r) {
        if (isAbsent(e.state())) {
            return; // crossed with our own release: the pager has it back
        }
        e.forwardTo = r.getForwardTo();
        e.forwardToken = r.getForwardToken();
        e.forwardPage = r.getForwardPage();
    }

    /**
     * The stream to the pager broke: an order of the old stream is void (the new one asks again),
     * and no forward is taken until the pager grants the futex again: one ordered by a pager that
     * has restarted since may be on its way, and the new pager may give the futex to another.
     */
    void streamBroken(FutexEntry e) {
        e.forwardTo = 0;
        refusedUpTo.put(key(e), Long.MAX_VALUE);
    }

    /** Granted anew: a release kept from an earlier forward is stale, and so is any forward still on its way. */
    void granted(FutexEntry e) {
        kept.remove(key(e));
        refusedUpTo.remove(key(e)); // its token is at most this grant's, which every forward must be above
    }

    private String key(FutexEntry e) {
        return core.object(e.objectId()).name + "@" + e.offset();
    }

    /**
     * The release being made ({@code released}, without its pages yet): true if it went to the
     * kernel the pager ordered, with the futex's page if the order said so; false: to the pager.
     */
    boolean forward(FutexEntry e, MemoryObjectFutexReleased.Builder released) {
        int to = e.forwardTo;
        if (to == 0) {
            return false;
        }
        e.forwardTo = 0;
        if (!e.forwardPage && e.page.resident()) {
            return false; // its page came here after the order: it goes back with the usual release
        }
        if (e.forwardPage) {
            releasePages.leave(e, released);
            if (e.page.resident()) { // its page could not leave now: the usual release, which ends the forward
                core.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(released).build());
                return true;
            }
        }
        MemoryObjectFutexReleased r = released.build();
        kept.put(key(e), new Kept(e.forwardToken, r));
        VmObject o = core.object(e.objectId());
        core.env.sendToKernel(to, FutexForward.newBuilder().setObject(o.name).setOffset(e.offset())
                .setFromKernel(core.kernelId()).setToKernel(to).setFencingToken(e.forwardToken).setReleased(r).build());
        core.env.trace("futex-forwarded", 0, "0x" + Long.toHexString(e.offset()) + " to kernel " + to);
        return true;
    }

    /** A FutexForward arrived from the kernel link. */
    void onForward(FutexForward m) {
        VmObject o = core.objects.objectNamed(m.getObject());
        FutexEntry e = o == null ? null : core.objects.trackedFutex(o.objectId, m.getOffset());
        long token = m.getFencingToken();
        if (o != null) {
            core.sessions.forObject(o.objectId).checkLeaseNow(); // one that waited out the lease in a paused kernel is stale
        }
        if (e == null || !isAbsent(e.state()) || e.request != FutexEntry.Request.LOCK
                || token <= refusedUpTo.getOrDefault(key(e), 0L) || token <= e.fencingToken
                || core.pagerLost(o.objectId)) {
            core.env.trace("forward-dropped", 0, m.getObject() + " 0x" + Long.toHexString(m.getOffset()));
            return; // not asked for, stale or cancelled: the pager cancels it and gets the futex back
        }
        MemoryObjectFutexReleased r = m.getReleased();
        MemoryObjectFutexReleased.Builder meta = r.toBuilder().setObjectId(o.objectId).clearPages();
        for (PageData d : r.getPagesList()) {
            meta.addPages(d.toBuilder().clearData()); // the data stays here: this kernel holds the page now
        }
        core.send(KernelToPager.newBuilder().setMemoryObjectFutexForwarded(MemoryObjectFutexForwarded.newBuilder()
                .setObjectId(o.objectId).setOffset(e.offset()).setFencingToken(token).setReleased(meta)).build());
        e.grantHandoff = r.getHandoff();
        futexes.onFutexGranted(e, o, r.getPagesList(), token, r.getOwnerDied());
    }

    /** relinquish_futex with cancel_forward: the forward under {@code token} will not be taken. */
    void onCancel(FutexEntry e, long token) {
        Kept k = kept.get(key(e));
        if (k != null && k.token == token) {
            kept.remove(key(e));
            core.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(k.released.toBuilder()
                    .setForwarded(true)).build());
            return;
        }
        if (e.forwardTo != 0 && e.forwardToken == token) {
            e.forwardTo = 0; // not sent yet: the release goes to the pager
            return;
        }
        if (!isAbsent(e.state()) && e.fencingToken == token) {
            return; // taken: its futex_forwarded reached the pager before this was sent
        }
        refusedUpTo.merge(key(e), token, Math::max);
        core.send(KernelToPager.newBuilder().setMemoryObjectFutexForwarded(MemoryObjectFutexForwarded.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setFencingToken(token).setRefused(true)).build());
    }
}
