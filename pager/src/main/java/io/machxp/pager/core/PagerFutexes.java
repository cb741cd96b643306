package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexQueue;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;

/**
 * The pager as the owner of every futex across its kernels (the extension; states in
 * {@link FutexRecord}): memory_object_lock_futex, futex_granted with fencing tokens,
 * relinquish_futex, futex_released, futex_busy, the owner_died flag, and the deadlock probes.
 * <pre>
 *  lock_futex(K, p)  free                 -> held by K, futex_granted to K
 *                    held by H != K       -> K queued with priority p; relinquish_futex to H
 *                    K queued, update     -> K now waits with priority p (up or down)
 *                    update, K holds      -> ignored: it crossed the grant
 *                    held by H, queue     -> futex_busy to K
 *                      not empty, try
 *                    held by H, nobody    -> K waits as a try; relinquish_futex(try) to H, which
 *                      queued, try           gives it back if no thread there owns or waits for
 *                                            it (granted to the first try), else answers
 *  futex_held(H)     tries waiting        -> futex_busy to each (H set WAITERS in the word, as
 *                                            Linux's TRYLOCK_PI does on a held futex)
 *  futex_released(H) held by H            -> granted to the head of the queue, which is sent
 *                                            relinquish at once if more kernels wait; or free
 *  session closed    everything the kernel held is released as above; it leaves every queue
 *  futex_granted                          carries the futex's next fencing token:
 *                                            epoch << 32 | grant number
 *  futex_released(token)                  refused unless token is the current grant's
 *  a holder declared dead                 each futex it held goes to the next waiter with
 *                                            owner_died (or keeps the flag for the next grant)
 * </pre>
 * The queue is priority-ordered ({@link io.machxp.pager.futex.FutexQueue}): highest priority
 * first, arrival order among equals, so plain FIFO when every kernel sends 0 (--no-pi); an update
 * keeps the kernel's arrival place. Priority inheritance across kernels: relinquish_futex carries
 * the top queued priority, so the holder boosts the thread that owns the futex. It is sent when
 * the first kernel queues behind a holder, and sent again whenever that top priority changes
 * while the same holder keeps the futex (a higher kernel queues, a queued kernel is updated or
 * leaves); never when it did not change. When the queue empties after an ask with a priority
 * above 0, the holder is asked again with 0, so its owner is deboosted (it still gives the futex
 * back when it unlocks).
 * Entry consistency: pages that come back with futex_released (the releaser's dirty pages) are
 * remembered on the futex; its next futex_granted carries those that no kernel holds or asks for,
 * and makes the grantee their writer (the pages themselves are {@link PageCoherence}'s).
 * A kernel may hold or wait for at most {@code maxFutexesPerSession} futexes, and all kernels
 * together at most {@link #SESSIONS_AT_THE_BOUND} times that; a kernel that asks for more, or for
 * a new futex when the pager keeps that many, is ended with EAGAIN.
 *
 * A trylock never waits in the queue ({@link FutexTries}): when the futex goes to a queued kernel, or comes back while
 * another kernel's lock is queued, the tries are answered busy.
 *
 * <p>Records ({@link FutexRecords}): a futex has a record only while a kernel holds it or waits
 * for it, or while it carries something to its next grant; the others are pruned. A kernel
 * declared dead holding a futex is remembered on the record until a grantee told of the death
 * releases it ({@link #diedPending}): its id is not given to another kernel before. After a
 * restart of the pager, kernels reclaim what they held ({@link FutexReclaims}).
 *
 * <p>Refused (logged, counted, otherwise ignored): a futex of an object the kernel never
 * initialized or at an unaligned offset, a release by a kernel that does not hold the futex or
 * with another grant's token, a second lock from the holder, a second lock without update from a
 * kernel already queued, an update from a kernel that neither holds nor waits for the futex.
 */
final class PagerFutexes {
    /** Ends a session's stream with an error (the sessions part does: it is built after this one). */
    @FunctionalInterface
    interface SessionEnd {
        void end(KernelSession s, Errno errno, String message);
    }

    private final CoreContext core;
    private final PageCoherence pages;
    private final SessionEnd sessionEnd;
    /**
     * This start's first token of a futex (above a forgotten or reclaimed one's): the epoch, the
     * high half, grows with every start of a pager; the low half starts where Options says.
     */
    private final long firstToken;
    private final int maxFutexesPerSession;
    /**
     * How many sessions at their bound fill the pager's futex records: the records of all kernels
     * together are bounded by that many times a session's bound, so that kernels of many names
     * cannot exhaust the pager's memory (a held futex costs it about 660 bytes: 2^20 of them, the
     * default bound, about 700 MB).
     */
    static final int SESSIONS_AT_THE_BOUND = 4;
    /** Futex records the pager keeps at most, for all kernels; a kernel asking for a new one then is ended. */
    private final int maxFutexes;
    /** The records, pruned when idle, and the dead kernels whose TIDs futex words may hold. */
    private final FutexRecords records = new FutexRecords();
    /** Trylocks while another kernel holds the futex. */
    private final FutexTries tries;
    /** The kernels' TID prefixes, and the dead ones futex words may still carry (PagerSessions asks). */
    final TidPrefixes prefixes;

    PagerFutexes(CoreContext core, PageCoherence pages, long tokenEpoch, long firstToken, int maxFutexesPerSession,
            SessionEnd sessionEnd, FutexJournal journal, GrantLeases leases) {
        this.core = core;
        this.leases = leases;
        this.journal = journal;
        this.pages = pages;
        this.firstToken = tokenEpoch << 32 | firstToken;
        this.maxFutexesPerSession = maxFutexesPerSession;
        this.maxFutexes = (int) Math.min(Integer.MAX_VALUE, (long) maxFutexesPerSession * SESSIONS_AT_THE_BOUND);
        this.sessionEnd = sessionEnd;
        this.tries = new FutexTries(core);
        this.forwards = new PagerForwards(core, pages, this, tries, leases, this.firstToken);
        this.reclaims = new FutexReclaims(core, records, journal, tokenEpoch);
        this.prefixes = new TidPrefixes(core, this);
    }

    /** What kernels reclaim after a restart of the pager. */
    final FutexReclaims reclaims;

    /** What the pager has checked out to which kernel, in the store. */
    private final FutexJournal journal;
    /** When a grant's holder may be asked to relinquish (the grant policy). */
    private final GrantLeases leases;
    /** Direct handoffs under way (a grant policy's). */
    private final PagerForwards forwards;

    // ---- kernel -> pager ----------------------------------------------------------------------

    /** memory_object_lock_futex: granted, queued (the holder asked to relinquish), or busy. */
    void lockFutex(KernelSession s, MemoryObjectLockFutex m) {
        FutexKey key = futexKey(s, m.getObjectId(), m.getOffset(), "memory_object_lock_futex");
        if (key == null) {
            return;
        }
        FutexRecord f = records.get(key); // made only when it is granted or queued: a refusal leaves none
        if (f == null) {
            f = records.fresh(key);
        }
        if (f.holder == s) {
            if (!m.getUpdate()) {
                core.refuse(s, "memory_object_lock_futex for " + describe(key) + ", which it already holds");
            } // else: an update sent before the kernel saw its grant; nothing waits for it any more
            return;
        }
        if (f.tries.contains(s)) {
            if (!m.getUpdate()) {
                core.refuse(s, "a second memory_object_lock_futex for " + describe(key) + ", whose trylock it "
                        + "already asked for");
            } // else: a trylock has no priority to update
            return;
        }
        if (f.queue.contains(s)) {
            if (!m.getUpdate()) {
                core.refuse(s, "a second memory_object_lock_futex for " + describe(key) + ", which it already asked for; "
                        + "set update to change the priority it waits with");
                return;
            }
            if (m.getRequeued()) {
                f.queue.requeue(s, m.getPriority(), since(m.hasWaitedNanos(), m.getWaitedNanos()));
                askToRelinquish(f, s);
            } else {
                long before = f.queue.sinceOf(s);
                f.queue.reprioritize(s, m.getPriority(),
                        m.hasWaitedNanos() ? since(true, m.getWaitedNanos()) : FutexQueue.KEEP);
                // The head's wait is younger (its top waiter left for a later equal): the holder is
                // told again, also at the same priority, so it places that wait where it began (8.6).
                askToRelinquish(f, null, f.queue.peek() == s && f.queue.sinceOf(s) != before);
            }
            return;
        }
        if (m.getUpdate()) {
            core.refuse(s, "a memory_object_lock_futex update for " + describe(key) + ", which it has not asked for");
            return;
        }
        if (s.held.size() + s.queued.size() >= maxFutexesPerSession) {
            sessionEnd.end(s, Errno.EAGAIN, s + " holds or waits for " + maxFutexesPerSession + " futexes, the most a "
                    + "session may; it must release futexes it no longer uses (a kernel caches a futex until asked)");
            return;
        }
        if (f.holder == null && records.get(key) == null && records.count() >= maxFutexes) {
            sessionEnd.end(s, Errno.EAGAIN, "pager " + core.name + " keeps " + maxFutexes + " futexes for all its "
                    + "kernels, the most it may, and " + s + " asks for another (" + describe(key) + "); kernels must "
                    + "release futexes they no longer use (a kernel caches a futex until asked); connect again later");
            return;
        }
        if (f.holder == null) {
            records.keep(f);
            grant(f, s, false, 0, null);
            return;
        }
        if (m.getTry()) {
            tries.tryLock(f, s);
            return;
        }
        f.queue.add(s, m.getPriority(), since(m.hasWaitedNanos(), m.getWaitedNanos()));
        s.queued.add(key);
        askToRelinquish(f);
    }

    /**
     * When a kernel's top waiter began waiting, on the pager's clock: now less the waited_nanos it
     * said, or now (the request's arrival) if it did not say.
     */
    private long since(boolean said, long waitedNanos) {
        long now = core.env.nanoTime();
        return said ? now - Math.max(0, waitedNanos) : now;
    }

    /**
     * The most hops a probe makes (xp-spec 8.9), as Linux's default max_lock_depth bounds its PI
     * chain walk. A cycle may pass a kernel more than once (threads of two kernels waiting
     * crosswise), so the number of sessions does not bound it.
     */
    static final int MAX_PROBE_HOPS = 1024;

    /**
     * Deadlock detection across kernels: a probe about a futex goes to the futex's holder, which
     * follows its owner's waits. Dropped when nobody else holds the futex (it was granted or
     * released meanwhile: that chain is broken) or after more hops than {@link #MAX_PROBE_HOPS}
     * or the sessions ({@code sessions}), whichever is more: a chain that does not come back.
     */
    void futexProbe(KernelSession s, MemoryObjectFutexProbe p, int sessions) {
        FutexKey key = futexKey(s, p.getObjectId(), p.getOffset(), "memory_object_futex_probe");
        if (key == null) {
            return;
        }
        FutexRecord f = records.get(key);
        // hops is a uint32: one at the top of its range is far beyond the bound
        if (f == null || f.holder == null || f.holder == s
                || Integer.compareUnsigned(p.getHops(), Math.max(sessions, MAX_PROBE_HOPS)) > 0) {
            return;
        }
        // Made anew from the fields 8.9 names: the message as it came may carry fields this pager
        // does not know (protobuf keeps them), up to gRPC's 4 MiB, which would go to the holder.
        core.send(f.holder, PagerToKernel.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                .setObjectId(f.holder.objectIdOf(key.object())).setOffset(p.getOffset())
                .setInitiator(p.getInitiator()).setWait(p.getWait()).setHops(p.getHops() + 1)
                .setYoungest(p.getYoungest()).setYoungestWait(p.getYoungestWait())
                .setYoungestBeganMicros(p.getYoungestBeganMicros())).build());
    }

    /**
     * memory_object_futex_held: the holder keeps the futex a trylock asked for ({@link FutexTries}).
     */
    void futexHeld(KernelSession s, MemoryObjectFutexHeld m) {
        FutexKey key = futexKey(s, m.getObjectId(), m.getOffset(), "memory_object_futex_held");
        if (key != null) {
            tries.held(s, records.get(key), m.getFencingToken());
        }
    }

    /**
     * memory_object_futex_released. Holder and token are checked first: a refused release takes
     * nothing (its pages stay where the pager had them). Then each page is taken as a data_return
     * without a kernel copy, for the next grant to carry; a page refused on its own does not stop
     * the release.
     */
    void futexReleased(KernelSession s, MemoryObjectFutexReleased r) {
        FutexKey key = futexKey(s, r.getObjectId(), r.getOffset(), "memory_object_futex_released");
        if (key == null) {
            return;
        }
        FutexRecord f = records.get(key);
        if (f != null && f.holder != s && forwards.earlyRelease(s, f, r)) {
            return; // a direct handoff's target gave it back before its grant: handled at the grant
        }
        if (f == null || f.holder != s) {
            core.refuse(s, "memory_object_futex_released for " + describe(key) + ", which it does not hold");
            return;
        }
        if (r.getFencingToken() != f.token) {
            core.refuse(s, "memory_object_futex_released for " + describe(key) + " with fencing token "
                    + r.getFencingToken() + ", which is not its grant's (" + f.token + ")");
            return;
        }
        takeRelease(s, f, s.objects.get(r.getObjectId()), r);
    }

    /** A release of the futex's holder {@code s}, checked: its pages taken, then the futex goes on. */
    void takeRelease(KernelSession s, FutexRecord f, MemoryObject o, MemoryObjectFutexReleased r) {
        if (f.tryAsked) {
            core.answers.answered(s, f.tryAskedNanos); // the answer to a relinquish_futex(try)
        }
        for (PageData page : r.getPagesList()) {
            if (pages.releasedWithFutex(s, o, page)) {
                f.releasedPages.add(page.getOffset());
            }
        }
        if (f.grantOwnerDied && !r.getOwnerDied()) {
            records.deathRecorded(f); // the grantee recorded OWNER_DIED in the word: no dead TID is left in it
        }
        if (r.getOwnerDied()) {
            // Its own thread may have ended owning the futex (a shutdown's give-back with the page
            // elsewhere, xp-spec 8.7): its TIDs may be in the word until a next owner records the
            // death, so its kernel id and TID prefix wait for that as a dead kernel's do (2.5, 2.9).
            // Counted also when it only passes on its grant's owner_died: an id held a little
            // longer, never a TID left unaccounted.
            records.died(f, s.tidPrefix);
            prefixes.died(s);
        }
        f.ownerDied |= r.getOwnerDied();
        f.handoff = r.getHandoff();
        release(f, r.getRequestAgain() ? s : null, r.getRequestPriority(),
                since(r.hasRequestWaitedNanos(), r.getRequestWaitedNanos()), r.getForwardedToken());
    }

    // ---- kernels leaving ----------------------------------------------------------------------

    /** The kernel stops waiting for every futex of {@code object} (null: of every object). */
    void leaveQueues(KernelSession s, String object) {
        if (s.gone || object != null) {
            forwards.targetLeft(s, object);
        }
        for (FutexKey key : new ArrayList<>(s.queued)) {
            if (object == null || key.object().equals(object)) {
                leaveQueue(s, records.get(key));
            }
        }
    }

    /**
     * The holder's stream broke (it keeps its futexes until its lease ends): it cannot answer a
     * relinquish_futex(try), so every trylock waiting on its answer is answered busy now, as is
     * every trylock while it stays broken ({@link FutexTries#tryLock}): a trylock does not wait.
     */
    void holderBroke(KernelSession s) {
        for (FutexKey key : s.held) {
            FutexRecord f = records.get(key);
            if (!f.tries.isEmpty()) {
                f.tryAsked = false;
                tries.answer(f);
            }
        }
    }

    /**
     * Every futex of {@code object} (null: of every object) the kernel holds is released without
     * futex_released (terminate, a stream ended without a lease, a kernel declared dead).
     */
    void releaseHeld(KernelSession s, String object) {
        for (FutexKey key : new ArrayList<>(s.held)) {
            if (object == null || key.object().equals(object)) {
                releaseUnseen(records.get(key));
            }
        }
    }

    /**
     * The kernel was declared dead: each futex it holds will go on with owner_died (released
     * afterwards, by {@link #releaseHeld}).
     *
     * @return the futexes it held
     */
    List<FutexKey> ownerDied(KernelSession s) {
        List<FutexKey> held = new ArrayList<>(s.held);
        for (FutexKey key : held) {
            FutexRecord f = records.get(key);
            f.ownerDied = core.plants.ownerDiedWhenDeclaredDead(true);
            records.died(f, s.tidPrefix); // the high bits of the TIDs its word may carry
        }
        return held;
    }

    /** The kernel stops waiting for the futex (it closed or terminated the object). */
    private void leaveQueue(KernelSession s, FutexRecord f) {
        f.tries.remove(s);
        f.queue.remove(s);
        s.queued.remove(f.key);
        askToRelinquish(f);
    }

    /**
     * A futex released without futex_released (terminate, a stream ended without a lease): a
     * kernel gives back what it holds by itself first, so this is a grant it may never have seen;
     * an owner_died it carried goes on to the next grant.
     */
    private void releaseUnseen(FutexRecord f) {
        f.ownerDied |= f.grantOwnerDied;
        f.handoff = !f.queue.isEmpty(); // kernels waited while it was held: for its owner, as far as they know
        release(f, null, 0, 0, -1); // without a release: whether a copy went is not known
    }

    // ---- grants -------------------------------------------------------------------------------

    /**
     * The futex is nobody's: to the next kernel in its queue (or the first trylock), else idle.
     * {@code again}, if not null, is the releasing kernel asking for it again at {@code priority}
     * (futex_released with request_again; its top waiter waiting since {@code since}, pager
     * clock): queued first, so that the grant made now knows of it.
     */
    private void release(FutexRecord f, KernelSession again, int priority, long since, long copied) {
        f.holder.held.remove(f.key);
        f.holder = null;
        if (again != null) {
            f.queue.add(again, priority, since);
            again.queued.add(f.key);
        }
        f.relinquishSent = false;
        f.tryAsked = false;
        PagerForwards.Settled forward = forwards.settle(f, copied); // a direct handoff reserved this grant
        boolean handoff = f.handoff && (!f.queue.isEmpty() || forward != null && forward.to() != null);
        f.handoff = false;
        if (forward != null && forward.to() != null) {
            forwards.grant(f, forward, handoff);
            return;
        }
        KernelSession next = leases.next(f);
        if (next == null && !f.tries.isEmpty()) {
            next = f.tries.iterator().next(); // free everywhere: the first trylock gets it
            f.tries.remove(next);
        }
        if (next != null) {
            next.queued.remove(f.key);
            tries.answer(f); // another got it: a trylock does not wait
            grant(f, next, handoff, 0, null);
        } else {
            journal.released(f.key, f.ownerDied);
            records.pruneIfIdle(f);
        }
    }

    /** A grant; {@code token} (0: the next) and {@code forwarded} (or null) of a direct handoff's. */
    void grant(FutexRecord f, KernelSession s, boolean handoff, long token, PageData forwarded) {
        f.holder = s;
        s.held.add(f.key);
        core.stats.grants.increment();
        if (f.lastHolder != 0 && f.lastHolder != s.id) {
            core.stats.handoff(s, f.key, f.lastHolderName);
        }
        f.lastHolder = s.id;
        f.lastHolderName = s.kernelName;
        f.token = token != 0 ? token // reserved by a direct handoff (above the last grant's)
                : core.plants.grantToken(f.token, Math.max(f.token + 1, firstToken)); // a reclaimed token is an earlier epoch's
        boolean ownerDied = f.ownerDied | journal.lostWithPages(f.key);
        f.ownerDied = false;
        f.grantOwnerDied = ownerDied;
        List<PageData> withPages = new ArrayList<>();
        if (forwarded != null) {
            withPages.add(forwarded); // its writer now: the copy forwarded to it, or this one if that was lost
        }
        if (!f.releasedPages.isEmpty() && leases.pagesInGrant()) {
            withPages.addAll(pages.grantedWithFutex(s, core.catalog.get(f.key.object()), f.releasedPages));
        }
        f.releasedPages.clear();
        MemoryObjectFutexGranted.Builder granted = MemoryObjectFutexGranted.newBuilder()
                .setObjectId(s.objectIdOf(f.key.object())).setOffset(f.key.offset()).setFencingToken(f.token)
                .setOwnerDied(ownerDied).setHandoff(handoff).addAllPages(withPages);
        leases.granted(f);
        if (!f.queue.isEmpty() && leases.relinquishInGrant(f)) {
            // Kernels already wait: the relinquish goes inside the grant (Part IV, no window between).
            f.relinquishSent = true;
            f.relinquishPriority = f.queue.topPriority();
            granted.setRelinquish(true).setRelinquishPriority(f.relinquishPriority);
            long waited = f.queue.topWaitedNanos(core.env.nanoTime());
            if (waited >= 0) {
                granted.setRelinquishWaitedNanos(waited);
            }
        } else if (!f.queue.isEmpty()) {
            leases.notYet(f, f.queue.topPriority());
        }
        long grantToken = f.token;
        journal.granted(s, f.key, PagerToKernel.newBuilder().setMemoryObjectFutexGranted(granted).build(),
                () -> f.holder == s && f.token == grantToken);
    }

    /**
     * Part IV: the holder gives the futex back once no local thread holds it. Asked when kernels
     * wait, with the top queued priority (the holder boosts its owning thread to it); asked again
     * only when that priority changed since the last ask of this grant. When the last waiting
     * kernel leaves after an ask with a priority, the holder is told priority 0, so its owner is
     * deboosted (it still gives the futex back when it unlocks); otherwise an empty queue asks nothing.
     */
    private void askToRelinquish(FutexRecord f) {
        askToRelinquish(f, null, false);
    }

    private void askToRelinquish(FutexRecord f, KernelSession requeued) {
        askToRelinquish(f, requeued, false);
    }

    /**
     * Asks the holder of {@code f} to relinquish it, at the top priority waiting, if that changed;
     * {@code requeued} (or null) is a kernel whose top waiter was just requeued: if it is now the
     * head of the queue, the holder is told so (its waiters of that priority go first);
     * {@code headWaitChanged}: the head's top waiter began waiting at another time than the holder
     * was told (8.6), so it is asked again even at the same priority.
     */
    private void askToRelinquish(FutexRecord f, KernelSession requeued, boolean headWaitChanged) {
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

    // ---- validation and inspection ------------------------------------------------------------

    private FutexKey futexKey(KernelSession s, int objectId, long offset, String routine) {
        return futexKey(core, s, objectId, offset, routine);
    }

    /** The key of a futex a kernel names, or null (refused and logged) if it names none. */
    static FutexKey futexKey(CoreContext core, KernelSession s, int objectId, long offset, String routine) {
        MemoryObject o = s.objects.get(objectId);
        if (o == null) {
            core.refuse(s, routine + " for object id " + objectId + ", which it never initialized");
            return null;
        }
        if (offset < 0 || offset >= o.size() || (offset & 3) != 0) {
            core.refuse(s, routine + " at offset 0x" + Long.toHexString(offset) + ", which is not an aligned word of '"
                    + o.name() + "'");
            return null;
        }
        return new FutexKey(o.name(), offset);
    }

    static String describe(FutexKey key) {
        return "the futex at 0x" + Long.toHexString(key.offset()) + " of '" + key.object() + "'";
    }

    /** Whether some futex's word may still hold a TID of the dead kernel that had this id. */
    boolean diedPending(int kernelId) {
        return records.diedPending(kernelId);
    }

    /** The records, for status and for tests of their bounds. */
    FutexRecords records() {
        return records;
    }

    /** Every futex record, for status. */
    java.util.Collection<FutexRecord> all() {
        return records.all();
    }

    /** How many futex records the pager keeps. */
    int count() {
        return records.count();
    }

    /** The pager's record of a futex, or null if no kernel ever asked for it. */
    FutexRecord record(String object, long offset) {
        return records.get(new FutexKey(object, offset));
    }
}
