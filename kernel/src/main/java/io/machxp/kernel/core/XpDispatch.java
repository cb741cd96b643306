package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;

/**
 * XP input: each message from the pager, checked and passed to the part that handles it. Part of
 * the kernel core: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  pager_welcome, pager_keepalive                 -> {@link KernelSession} (a welcome while
 *                                                    reclaiming answers the reclaim)
 *  memory_object_ready, _destroy                  -> {@link KernelObjects}
 *  memory_object_data_supply, _data_unavailable,  -> {@link PageCache}, page by page (a supply
 *    _data_error, _lock_request                      with reply answered with supply_completed)
 *  memory_object_synchronize_completed            -> {@link PageSync}
 *  memory_object_change_attributes                -> {@link KernelObjects}
 *  memory_object_futex_granted, _futex_busy,      -> {@link KernelFutexes}
 *    _futex_probe, _relinquish_futex
 *  memory_object_relinquish_futex_hint            -> {@link RelinquishHints}: not numbered, so
 *                                                    neither counted as received nor held in a
 *                                                    lease grace (dropped there)
 * </pre>
 * Nothing applies once the session is over for this kernel (lease lost, or shut down), nor what
 * its stream still brings before the session that replaces it (rejoining) sent its hello.
 *
 * <p>A pager message that breaks the protocol - an access value outside the enum, a grant, busy
 * or page nobody asked for, an offset outside the object - is a violation: logged and otherwise
 * ignored, so that the kernel's state never depends on its pager behaving. A probe for a futex
 * that left meanwhile is not one: the chain of waits it follows is broken.
 */
final class XpDispatch {
    private final KernelCore core;
    private final KernelStats stats;
    final RelinquishHints hints;

    XpDispatch(KernelCore core, KernelStats stats) {
        this.core = core;
        this.stats = stats;
        this.hints = new RelinquishHints(core, stats);
    }

    /**
     * One XP message from the pager of {@code session}. In the session's grace ({@link LeaseGrace})
     * it is counted as received but handled only once the lease runs again (a resume's welcome and
     * keepalive answers, which may end the grace, at once); then the deferred ones follow in order.
     */
    void onXp(KernelSession session, PagerToKernel m) {
        session.checkLeaseNow(); // a message that waited out the lease in a paused kernel is stale
        if (session.pagerLost() || session.rejoin.beforeHello()) {
            return; // the session is over for this kernel (lease lost, or shut down): nothing applies
        }
        stats.received(m);
        if (m.getRoutineCase() == PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX_HINT) {
            // Not one of the session's messages (xp-spec 4.7, 13.6): not counted, never deferred.
            if (!session.grace.defers(m)) {
                hints.onHint(session.pager, m.getMemoryObjectRelinquishFutexHint());
            }
            return;
        }
        if (m.getRoutineCase() != PagerToKernel.RoutineCase.PAGER_WELCOME && !session.resume.received()) {
            return; // sent again after a resume, already received on an earlier stream (xp-spec 4.7)
        }
        if (session.grace.defers(m)) {
            session.grace.defer(m);
            return;
        }
        handle(session, m);
        for (PagerToKernel d; !session.pagerLost() && (d = session.grace.nextDeferred()) != null; ) {
            handle(session, d);
        }
    }

    private void handle(KernelSession session, PagerToKernel m) {
        KernelObjects objects = core.objects;
        PageCache pages = core.pages;
        KernelFutexes futexes = core.futexes;
        int pageSize = session.pageSize();
        switch (m.getRoutineCase()) {
            case PAGER_WELCOME -> {
                session.pagerTakesReclaimParts = m.getPagerWelcome().getReclaimInParts(); // for its next reclaim
                session.pagerCarriesStaleHeirTid = m.getPagerWelcome().getCarriesStaleHeirTid(); // for its releases
                boolean fresh = !m.getPagerWelcome().getResumed() && !session.reclaim.reclaiming()
                        && session.kernelId() == 0;
                if (!fresh && (m.getPagerWelcome().getResumed() || session.reclaim.reclaiming())) {
                    core.disputes.welcomed(session.pager, m.getPagerWelcome().getPagerName(),
                            m.getPagerWelcome().getDisputesList(), !core.plants.disputesKept(true),
                            objects::uses);
                }
                if (m.getPagerWelcome().getResumed()) {
                    session.resume.resumed(m.getPagerWelcome());
                    return;
                }
                if (session.reclaim.reclaiming()) {
                    session.reclaim.reclaimed(m.getPagerWelcome());
                    return;
                }
                session.onWelcome(m.getPagerWelcome());
                if (fresh && session.kernelId() != 0) {
                    // only once the welcome is taken (dir2-review L3): a second or invalid welcome adds nothing
                    core.disputes.welcomed(session.pager, m.getPagerWelcome().getPagerName(),
                            m.getPagerWelcome().getDisputesList(), true, objects::uses);
                }
            }
            case MEMORY_OBJECT_READY -> objects.onReady(m.getMemoryObjectReady());
            case MEMORY_OBJECT_DESTROY -> objects.onDestroy(m.getMemoryObjectDestroy());
            case MEMORY_OBJECT_DATA_SUPPLY -> SupplyCompleted.onSupply(core, pages, m.getMemoryObjectDataSupply(),
                    pageSize);
            case MEMORY_OBJECT_DATA_UNAVAILABLE -> {
                var d = m.getMemoryObjectDataUnavailable();
                VmObject o = objects.readyObject(d.getObjectId(), d.getOffset());
                if (o == null || d.getLength() % pageSize != 0 || d.getLockValue() == VmProt.UNRECOGNIZED) {
                    core.violation("memory_object_data_unavailable it cannot use", d.getObjectId(), d.getOffset());
                    return;
                }
                for (long off = d.getOffset(); off < d.getOffset() + d.getLength() && off < o.size; off += pageSize) {
                    pages.onSupply(o, off, new byte[pageSize], d.getLockValue(), d.getVersion(), false);
                }
            }
            case MEMORY_OBJECT_DATA_ERROR -> {
                var d = m.getMemoryObjectDataError();
                VmObject o = objects.readyObject(d.getObjectId(), d.getOffset());
                if (o == null) {
                    core.violation("memory_object_data_error it cannot use", d.getObjectId(), d.getOffset());
                    return;
                }
                KernelError eio = KernelError.of(Errno.EIO, "the pager could not supply offset 0x%x of '%s': %s",
                        d.getOffset(), o.name, d.getReason());
                long end = Math.min(o.size, d.getOffset() + Math.max(d.getLength(), pageSize)); // a range
                for (long off = d.getOffset(); off < end; off += pageSize) {
                    pages.failWaiting(o.slot(off), eio);
                }
            }
            case MEMORY_OBJECT_LOCK_REQUEST -> {
                var r = m.getMemoryObjectLockRequest();
                VmObject o = objects.readyObject(r.getObjectId(), r.getOffset());
                if (o == null || r.getLockValue() == VmProt.UNRECOGNIZED
                        || r.getShouldReturn() == ReturnPolicy.UNRECOGNIZED) {
                    core.violation("memory_object_lock_request it cannot use", r.getObjectId(), r.getOffset());
                    if (r.getReply() && holdsNothingOf(r.getObjectId(), r.getOffset())) {
                        // xp-spec 3.6: answered also for pages it does not hold (a pager may wait for it),
                        // on the stream it came on (an unknown id names no pager)
                        session.send(KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted
                                .newBuilder().setObjectId(r.getObjectId()).setOffset(r.getOffset())
                                .setLength(r.getLength())).build());
                    }
                    return;
                }
                pages.onLockRequest(o, r);
            }
            case PAGER_KEEPALIVE -> session.keepaliveAnswered(m.getPagerKeepalive().getSequence());
            case MEMORY_OBJECT_SYNCHRONIZE_COMPLETED -> core.sync.onCompleted(m.getMemoryObjectSynchronizeCompleted());
            case MEMORY_OBJECT_CHANGE_ATTRIBUTES -> objects.onChangeAttributes(m.getMemoryObjectChangeAttributes());
            case MEMORY_OBJECT_FUTEX_GRANTED -> {
                var g = m.getMemoryObjectFutexGranted();
                FutexEntry e = objects.trackedFutex(g.getObjectId(), g.getOffset());
                if (e != null && futexes.forwards.confirm(e, g)) {
                    return; // the grant a forwarded copy gave early (direct handoff, xp-spec 14)
                }
                if (e == null || !isAbsent(e.state()) || e.request == FutexEntry.Request.NONE) {
                    core.violation("memory_object_futex_granted for a futex it did not ask for", g.getObjectId(),
                            g.getOffset());
                    return;
                }
                if (e.fencingToken != 0 && Long.compareUnsigned(g.getFencingToken(), e.fencingToken) <= 0) {
                    // xp-spec 8: tokens grow strictly with every grant; a task fencing its writes with a
                    // token that went back could have them taken after a later owner's. The lock waits on.
                    core.violation("memory_object_futex_granted under fencing token "
                            + Long.toUnsignedString(g.getFencingToken()) + ", not above "
                            + Long.toUnsignedString(e.fencingToken) + " of the kernel's last grant", g.getObjectId(),
                            g.getOffset());
                    return;
                }
                e.grantHandoff = g.getHandoff();
                futexes.onFutexGranted(e, objects.object(g.getObjectId()), g.getPagesList(), g.getFencingToken(),
                        g.getOwnerDied(), g.getStaleHeirTid());
                if (g.getRelinquish()) {
                    futexes.onRelinquishFutex(e, g.getRelinquishPriority(), false, // in the same step: no unlock between
                            g.hasRelinquishWaitedNanos() ? g.getRelinquishWaitedNanos() : -1);
                }
            }
            case MEMORY_OBJECT_FUTEX_BUSY -> {
                var b = m.getMemoryObjectFutexBusy();
                FutexEntry e = objects.trackedFutex(b.getObjectId(), b.getOffset());
                if (e == null || e.request != FutexEntry.Request.TRY) {
                    core.violation("memory_object_futex_busy for a futex it did not try", b.getObjectId(), b.getOffset());
                    return;
                }
                futexes.onFutexBusy(e);
            }
            case MEMORY_OBJECT_FUTEX_PROBE -> {
                var p = m.getMemoryObjectFutexProbe();
                FutexEntry e = objects.trackedFutex(p.getObjectId(), p.getOffset());
                if (e != null) {
                    futexes.onFutexProbe(e, p); // else the futex left meanwhile: the chain is broken
                }
            }
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> {
                var r = m.getMemoryObjectRelinquishFutex();
                FutexEntry e = objects.trackedFutex(r.getObjectId(), r.getOffset());
                if (e == null) {
                    core.violation("memory_object_relinquish_futex for a futex it never asked for", r.getObjectId(),
                            r.getOffset());
                    return;
                }
                if (r.getTry()) {
                    futexes.onRelinquishTry(e, r.getPriority());
                } else {
                    futexes.forwards.order(e, r); // direct handoff (xp-spec 14): set, or withdrawn
                    futexes.onRelinquishFutex(e, r.getPriority(), r.getRequeued(), r.hasWaitedNanos() ? r.getWaitedNanos() : -1);
                }
            }
            default -> core.violation("a message with no routine", 0, 0);
        }
    }

    /**
     * Whether the kernel surely holds no page at {@code offset} of object {@code objectId}: the id
     * is not one the session initialized, or the offset (a uint64) is at or past the end of the
     * ready object. A lock_completed for such a range is true whatever the request asked. An
     * unaligned offset inside the object is not answered: the kernel may hold the page around it.
     */
    private boolean holdsNothingOf(int objectId, long offset) {
        VmObject o = core.objects.object(objectId);
        return o == null || (o.state == VmObject.State.READY && Long.compareUnsigned(offset, o.size) >= 0);
    }
}
