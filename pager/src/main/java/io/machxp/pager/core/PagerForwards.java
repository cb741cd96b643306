package io.machxp.pager.core;

import io.machxp.pager.futex.FutexForwarding;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;

/**
 * Direct handoff on the pager's side (xp-spec 14, the grant policy's {@code directHandoff}). The
 * forward is an early copy of a grant the pager makes anyway: the pager stays the only authority,
 * and its state is the cache protocol's (8.10) plus one reservation. Part of the pager's futexes:
 * core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  held by H, K heads the queue, H writes    -> relinquish(forward_to K's TID prefix, forward_token T,
 *    the futex's page, K's session resumable    forward_session K's) to H; the next grant of the
 *                                                futex is reserved for K under T; the page takes
 *                                                no request (gated)
 *  held by H, a forward ordered               -> a priority change: plain relinquish to H
 *  a request for the futex's page              -> the order withdrawn (relinquish without forward_to
 *                                                to H); the request goes on and takes the page back
 *                                                from H, then the gate lifts (PageCoherence#run)
 *  futex_released(token of H) from H, or H   -> the usual release (8.4), except that the grant goes
 *    leaves (terminate, lease, death)            to K under T whoever else waits, with the
 *                                                futex's page if H let it go (K becomes its writer)
 *    K gone (no session, or not the object)   -> T is skipped: the next grant is above it; with
 *                                                owner_died if K's session is gone (it may have
 *                                                taken the copy and died); the page's requests
 *                                                run only once that grant is made or the futex
 *                                                freed ({@link #settledWithoutTarget})
 *  futex_released(T) from K before that       -> kept; handled right after K's grant is made,
 *                                                even if K left since (then K is the page's writer
 *                                                only to take the page it carries); without
 *                                                owner_died it ends H's time's (H's death, its
 *                                                grant's): H's owner released it to K
 *  then lock_futex from K (no request_again)  -> kept too (K asks anew; its queue entry, if any,
 *                                                is the reserved grant's): taken as K's request
 *                                                right after its early release is handled; an
 *                                                update changes its priority
 *  the release's pages are taken              -> the gated page runs nothing until the forward
 *                                                settles (holderReleasing), in the same event
 *  H leaves without a release                 -> the same before its pages are forgotten
 *                                                (holderLeaving): settled by the release that follows
 * </pre>
 * Why it is safe: the futex has one holder in the pager's books at every instant (H until its
 * release or departure, then K), and the copy K may use is that same grant arriving early: a
 * kernel takes a copy only while it waits for the futex on the session named in it, so its
 * use is covered by the grant the pager makes to that session, whatever happened meanwhile. A
 * lost copy costs nothing but time: the grant comes anyway. H's release still brings the page
 * to the pager, so a death of K loses nothing H wrote.
 */
final class PagerForwards {
    private final CoreContext core;
    private final PageCoherence pages;
    private final PagerFutexes futexes;
    private final FutexTries tries;
    private final GrantLeases leases;
    /** This start's first token of a futex ({@link PagerFutexes}). */
    private final long firstToken;
    /** The futexes with an order outstanding. */
    private final ForwardsActive active = new ForwardsActive();

    PagerForwards(CoreContext core, PageCoherence pages, PagerFutexes futexes, FutexTries tries, GrantLeases leases,
            long firstToken) {
        this.core = core;
        this.pages = pages;
        this.futexes = futexes;
        this.tries = tries;
        this.leases = leases;
        this.firstToken = firstToken;
        pages.onGatedRequest(this::pageAsked);
    }

    /** What the grant that settles a forward is: to whom, its token, the forwarded page (or null). */
    record Settled(KernelSession to, long token, PageData page, long pageOffset, MemoryObjectFutexReleased earlyRelease,
            io.machxp.proto.xp.MemoryObjectLockFutex relock, long relockNanos) {}

    /**
     * Instead of a relinquish at {@code priority}: the holder forwards the futex to the head of its
     * queue. False (send the plain relinquish) without the policy, while a forward is ordered, or
     * when the holder or the head cannot take part.
     */
    boolean order(FutexRecord f, int priority) {
        if (f.forward != null && !f.forward.withdrawn) {
            send(f, f.forward, priority); // a new priority: the order stands (a relinquish without it withdraws it)
            return true;
        }
        if (!leases.directHandoff() || f.forward != null || f.queue.isEmpty() || f.holder == null
                || f.holder.broken || !f.tries.isEmpty()) {
            return false;
        }
        KernelSession from = f.holder;
        KernelSession to = f.queue.waiters().get(0).getKey(); // the head, as the grant policy takes it
        if (to == null || to == from || to.broken || to.tidPrefix == 0 || from.kernelId == 0) {
            return false;
        }
        MemoryObject o = core.catalog.get(f.key.object());
        long page = f.key.offset() - f.key.offset() % core.pageSize;
        if (!pages.gate(from, o, page)) {
            return false; // the futex's page is not the holder's to send: the usual relinquish
        }
        long token = Math.max(f.token + 1, firstToken);
        f.forward = new FutexForwarding(from, to, token, page);
        active.add(f);
        core.stats.forwardsOrdered.increment();
        send(f, f.forward, priority);
        return true;
    }

    private void send(FutexRecord f, FutexForwarding fw, int priority) {
        MemoryObjectRelinquishFutex.Builder r = MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(fw.from.objectIdOf(f.key.object())).setOffset(f.key.offset()).setPriority(priority);
        long waited = f.queue.topWaitedNanos(core.env.nanoTime()); // xp-spec 8.6, as a plain relinquish
        if (waited >= 0) {
            r.setWaitedNanos(waited);
        }
        if (!fw.withdrawn) {
            r.setForwardTo(fw.to.tidPrefix) // the cluster-wide name (xp-spec 2.9, 14.2)
                    .setForwardToken(fw.token)
                    .setForwardSession(fw.to.replay == null ? 0 : fw.to.replay.token); // 0: a session without a lease
        }
        core.send(fw.from, PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(r).build());
    }

    /**
     * {@code s} leaves: its session ended (it can take no copy any more), or it terminated
     * {@code object}. An order to copy a futex to it is withdrawn at the holder (a relinquish
     * without forward_to); a release that crosses the withdrawal says whether a copy went.
     */
    void targetLeft(KernelSession s, String object) {
        java.util.List<FutexRecord> toward = active.toward(s, object);
        core.walked(toward.size());
        for (FutexRecord f : toward) {
            FutexForwarding fw = f.forward;
            if (!fw.withdrawn) {
                fw.withdrawn = true;
                if (f.holder == fw.from && !fw.from.broken && !fw.from.gone) {
                    send(f, fw, f.relinquishPriority);
                }
            }
        }
    }

    /**
     * The kernel leaves the queues of every futex of {@code object} (null: of every object: a
     * terminate, a broken stream, a session forgotten): a lock_futex of it kept after its early
     * release ({@link #relock}) ends with them (review of low6, L6-1/L6-2): its threads no longer
     * wait for it, and a broken session may resume asking anew.
     */
    void dropRelock(KernelSession s, String object) {
        java.util.List<FutexRecord> toward = active.toward(s, object);
        core.walked(toward.size());
        for (FutexRecord f : toward) {
            f.forward.relock = null;
        }
    }

    /**
     * A kernel asks for the futex's page while a forward is ordered: the order is withdrawn at the
     * holder (a relinquish without forward_to), which the page's request then asks to give the page
     * up (PageCoherence lifts the gate once it has). The reservation stands: the grant made at the
     * holder's release still goes to the target under its token.
     */
    private void pageAsked(MemoryObject o, long pageOffset) {
        for (FutexRecord f : active.onPage(o.name(), pageOffset)) {
            FutexForwarding fw = f.forward;
            if (!fw.withdrawn) {
                fw.withdrawn = true;
                if (f.holder == fw.from && !fw.from.broken && !fw.from.gone) {
                    send(f, fw, f.relinquishPriority);
                }
            }
        }
    }

    /**
     * futex_released from {@code s}, which does not hold the futex: true if it is the kernel a
     * forward is reserved for, under its token (it took the copy and gave the futex back before
     * its grant was made: kept for then).
     */
    boolean earlyRelease(KernelSession s, FutexRecord f, MemoryObjectFutexReleased r) {
        FutexForwarding fw = f == null ? null : f.forward;
        if (fw == null || fw.to != s || fw.token != r.getFencingToken() || fw.earlyRelease != null) {
            return false;
        }
        fw.earlyRelease = r;
        return true;
    }

    /**
     * lock_futex from {@code s}, which does not hold the futex: true if it is the kernel a forward
     * is reserved for and it gave the futex back early without request_again (review of outside4,
     * LOW-6 b). It holds nothing and waits for nothing then, as far as it knows, so a thread of it
     * that locks the futex anew sends lock_futex; it stays queued only for the reserved grant
     * (after a terminate and a new init, not even that), which its early release ends at once.
     * Kept for then ({@link #grant}), not refused as a second lock_futex nor queued (the grant
     * takes its queue entry): either way its thread would wait for a grant that never came. An
     * update changes the kept request's priority (and its wait's start, if it says one); a second
     * lock_futex after the kept one is refused. False for anything else (the usual rules apply:
     * after an early release with request_again, a lock_futex is a second one). A trylock is
     * answered busy at once, not kept. The kept lock ends when K leaves the futex's queues
     * ({@link #dropRelock}).
     */
    boolean relock(KernelSession s, FutexRecord f, io.machxp.proto.xp.MemoryObjectLockFutex m) {
        FutexForwarding fw = f.forward;
        if (fw == null || fw.to != s || fw.earlyRelease == null || fw.earlyRelease.getRequestAgain()) {
            return false;
        }
        long now = core.env.nanoTime();
        if (m.getTry() && !m.getUpdate()) {
            // a trylock does not wait: the futex is H's in the pager's books until the forward settles
            tries.busy(s, f.key);
            return true;
        }
        if (!m.getUpdate()) {
            if (fw.relock != null) {
                core.refuse(s, "a second memory_object_lock_futex for " + PagerFutexes.describe(f.key) + ", which it "
                        + "already asked for again after giving it back early; set update to change the priority");
                return true;
            }
            fw.relock = m;
            fw.relockNanos = now;
            return true;
        }
        if (fw.relock == null) {
            return false;
        }
        var b = fw.relock.toBuilder().setPriority(m.getPriority());
        if (m.hasWaitedNanos()) {
            b.setWaitedNanos(m.getWaitedNanos());
            fw.relockNanos = now;
        }
        fw.relock = b.build();
        return true;
    }

    /**
     * The holder {@code s} releases the futex, and {@link #settle} follows in the same core event:
     * the forward's gated page, which the release may carry, is run no more until then. Otherwise
     * a death's recording queued as the page comes back would run first and lift the gate, and the
     * copy's target, which may hold the holder's last writes and its own, would not be made the
     * page's writer: its release's page refused, its acknowledged writes lost.
     */
    void holderReleasing(FutexRecord f, KernelSession s) {
        FutexForwarding fw = f.forward;
        if (fw != null && fw.from == s) {
            pages.forwardSettling(core.catalog.get(f.key.object()), fw.pageOffset);
        }
    }

    /**
     * The holder {@code s} leaves without a release: it terminated {@code object}, or its session
     * is forgotten (null: every object; its lease ended, or its stream without one). Each futex of
     * it with a forward ordered is released in the same core event ({@link FutexDepartures#releaseHeld}),
     * and its forward settles then; until then its gated page runs nothing, as at a release
     * ({@link #holderReleasing}). Otherwise the forget of the holder's pages, which comes first,
     * would lift the gate (the holder no longer writes the page) and run what waits for it, and
     * the target, which may have taken the copy (the holder cut off from this pager but not from
     * the target), would not be made the page's writer: its release's page refused, the writes it
     * made under the copy lost without OWNER_DIED.
     */
    void holderLeaving(KernelSession s, String object) {
        // Its own orders only (none under GrantPolicy.IMMEDIATE), not every futex it holds (walks review F3).
        java.util.List<FutexRecord> ordered = active.from(s, object);
        core.walked(ordered.size());
        for (FutexRecord f : ordered) {
            FutexForwarding fw = f.forward;
            if (fw != null && fw.from == s && f.holder == s) {
                pages.forwardSettling(core.catalog.get(f.key.object()), fw.pageOffset);
            }
        }
    }

    /**
     * The holder is gone (released, with a copy under token {@code copied} or none (0), or left
     * without a release: -1): the forward ordered for the futex, if any, settles.
     * Returns null without one; else the grant to make (to null: to the next in the queue, with a
     * token above the forward's; the futex carries owner_died if its target may have died with it).
     */
    Settled settle(FutexRecord f, long copied) {
        FutexForwarding fw = f.forward;
        if (fw == null) {
            return null;
        }
        f.forward = null;
        active.remove(f, fw);
        KernelSession to = fw.to;
        boolean present = !to.gone && to.hasObject(f.key.object());
        boolean usable = fw.earlyRelease != null || present;
        MemoryObject o = core.catalog.get(f.key.object());
        // A target that left is made the page's writer only to take the page its early release
        // carries (grant: then it is dropped as the writer); else nobody would ever take it back.
        boolean writer = present || usable && carriesPage(fw.earlyRelease, fw.pageOffset);
        PageData page = pages.forwardSettled(o, fw.pageOffset, writer ? to : null);
        if (!usable) {
            core.stats.forwardsCancelled.increment();
            f.token = Math.max(f.token, fw.token); // a copy may be on its way: the next grant goes above it
            boolean mayHaveCopy = copied < 0 || copied == fw.token; // -1: the holder left without a release
            f.ownerDied |= to.gone && mayHaveCopy; // it may have taken the copy, and died owning it
            return new Settled(null, 0, null, fw.pageOffset, null, null, 0);
        }
        return new Settled(to, fw.token, page, fw.pageOffset, fw.earlyRelease, fw.relock, fw.relockNanos);
    }

    private static boolean carriesPage(MemoryObjectFutexReleased r, long pageOffset) {
        return r.getPagesList().stream().anyMatch(d -> d.getOffset() == pageOffset);
    }

    /**
     * The release that settled a forward without a target ({@link #settle}: to null) is done: the
     * futex is granted to the next or free, its token above the forward's and its owner_died
     * settled. Only now do the page's requests go on: a death's recording among them, run before,
     * pruned the futex's record with its old token, and the next grant gave the token the target
     * may have used under the copy (review of direct2p, finding 1).
     */
    void settledWithoutTarget(FutexRecord f, Settled forward) {
        pages.forwardGranted(core.catalog.get(f.key.object()), forward.pageOffset());
    }

    /**
     * The grant a direct handoff reserved (xp-spec 14.4): to its target under its token, whoever
     * else waits, with the forwarded page. A target that gave the futex back before (its early
     * release) gets no grant message: its release is handled at once.
     */
    void grant(FutexRecord f, Settled forward, boolean handoff) {
        KernelSession to = forward.to();
        f.queue.remove(to);
        to.queued.remove(f.key);
        tries.answer(f);
        MemoryObjectFutexReleased early = forward.earlyRelease();
        MemoryObject object = core.catalog.get(f.key.object());
        if (early == null) {
            futexes.grants.grant(f, to, handoff, forward.token(), forward.page());
            pages.forwardGranted(object, forward.pageOffset()); // the page's requests go on behind the grant
            return;
        }
        f.holder = to;
        to.held.add(f.key);
        core.answers.tryOwed(f);
        f.token = forward.token();
        core.holders.held(f);
        f.grantOwnerDied = false;
        f.releasedPages.clear();
        if (!early.getOwnerDied()) {
            // K took the copy (its release names the forward's token), which carried H's release
            // and its owner_died, and gave the futex back saying no owner died: H's owner unlocked
            // to K, and K's word has no dead TID. An owner_died of H's time (H declared dead, its
            // grant's passed on) would be a spurious one (review of direct2p, finding 3).
            f.ownerDied = false;
            futexes.records().deathRecorded(f);
        }
        futexes.takeRelease(to, f, object, early);
        if ((to.gone || !to.hasObject(f.key.object())) && pages.writes(to, f.key.object(), forward.pageOffset())) {
            pages.forget(to, f.key.object()); // it left: the page, if its release did not take it, is nobody's
        }
        pages.forwardGranted(object, forward.pageOffset());
        io.machxp.proto.xp.MemoryObjectLockFutex relock = forward.relock();
        MemoryObject o = relock == null || to.gone || to.broken ? null : to.objects.get(relock.getObjectId());
        if (o != null && o.name().equals(f.key.object())) {
            // its wait began when the lock_futex came (or earlier, as it said), not now
            long waited = (relock.hasWaitedNanos() ? relock.getWaitedNanos() : 0)
                    + Math.max(0, core.env.nanoTime() - forward.relockNanos());
            futexes.lockFutex(to, relock.toBuilder().setWaitedNanos(waited).build());
        }
    }
}
