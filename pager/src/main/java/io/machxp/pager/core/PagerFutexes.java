package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexQueue;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PageData;

/**
 * The pager as the owner of every futex across its kernels (the extension; states in
 * {@link FutexRecord}): the entry of the futex parts, which takes memory_object_lock_futex,
 * futex_released and futex_held. The parts, each with its overview: {@link PagerGrants} (who gets
 * a futex next, futex_granted with fencing tokens and owner_died), {@link RelinquishAsks}
 * (relinquish_futex, priority inheritance across kernels), {@link FutexTries} (trylocks),
 * {@link FutexProbes} (deadlock probes), {@link FutexDepartures} (kernels leaving),
 * {@link PagerForwards} (direct handoff), {@link FutexRecords} and {@link FutexReclaims}.
 * <pre>
 *  lock_futex(K, p)  free                 -> held by K, futex_granted to K
 *                    held by H != K       -> K queued with priority p; relinquish_futex to H
 *                    K queued, update     -> K now waits with priority p (up or down)
 *                    update, K holds      -> ignored: it crossed the grant
 *                    held by H, queue     -> futex_busy to K
 *                      not empty, try
 *                    held by H, nobody    -> K waits as a try; relinquish_futex(try) to H, which
 *                      queued, try           gives it back if no thread there owns or waits for
 *                                            it, or for a try above its woken heir (granted to
 *                                            the highest try), else answers
 *  futex_held(H)     tries waiting        -> futex_busy to each at or below the priority asked (H
 *                                            set WAITERS in the word, as Linux's TRYLOCK_PI does on
 *                                            a held futex); those above are asked for again
 *  futex_released(H) held by H            -> granted to the highest try it answers (ahead of the
 *                                            queue and of a lower request_again), else to the head
 *                                            of the queue, which is sent relinquish at once if more
 *                                            kernels wait; or free
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
 * the top queued priority ({@link RelinquishAsks}).
 * A kernel may hold or wait for at most {@code maxFutexesPerSession} futexes (its requests parked
 * below count too); a kernel that asks for more is ended with EAGAIN, over its own quota. All
 * kernels together have at most {@link #SESSIONS_AT_THE_BOUND} times that many records: a
 * lock_futex that needs a new one then waits, parked, while idle cached futexes are asked back
 * from the kernels holding the most, and a trylock is answered futex_busy ({@link FutexParking}).
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
 * kernel already queued (except a direct handoff's target that gave the futex back early and
 * asks anew: {@link PagerForwards#relock}), an update from a kernel that neither holds nor waits
 * for the futex.
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
    private final int maxFutexesPerSession;
    /**
     * How many sessions at their bound fill the pager's futex records: the records of all kernels
     * together are bounded by that many times a session's bound, so that kernels of many names
     * cannot exhaust the pager's memory (a held futex costs it about 660 bytes: 2^20 of them, the
     * default bound, about 700 MB).
     */
    static final int SESSIONS_AT_THE_BOUND = 4;
    /** Futex records the pager keeps at most, for all kernels; a request for a new one then waits ({@link FutexParking}). */
    private final int maxFutexes;
    /** Run when the pager keeps as many futex records as it may, before it refuses one more. */
    private Runnable recordsFull = () -> { };
    /** The records, pruned when idle, and the dead kernels whose TIDs futex words may hold. */
    private final FutexRecords records = new FutexRecords();
    /** Trylocks while another kernel holds the futex. */
    private final FutexTries tries;
    /** Requests waiting for a record at the bound, and the idle futexes asked back for them. */
    final FutexParking parking;
    /** The kernels' TID prefixes, and the dead ones futex words may still carry (PagerSessions asks). */
    final TidPrefixes prefixes;
    /** Direct handoffs under way (a grant policy's). */
    private final PagerForwards forwards;
    /** Who gets a futex next, and its grant (PagerForwards grants through it too). */
    final PagerGrants grants;
    /** Asking holders to give futexes back (PagerCore: when a grant's lease ends). */
    final RelinquishAsks asks;
    /** Deadlock probes (PagerCore passes them on). */
    final FutexProbes probes;
    /** The futex side of a kernel leaving (PagerSessions, PagerObjects). */
    final FutexDepartures departures;
    /** What kernels reclaim after a restart of the pager. */
    final FutexReclaims reclaims;
    /** The marks of futexes given back keeping their page writable, bounded by the futex quota. */
    final ReleasedMarks marks;

    /**
     * {@code firstToken}: this start's first token of a futex (above a forgotten or reclaimed
     * one's) is {@code tokenEpoch << 32 | firstToken}: the epoch, the high half, grows with every
     * start of a pager; the low half starts where Options says.
     */
    PagerFutexes(CoreContext core, PageCoherence pages, long tokenEpoch, long firstToken, int maxFutexesPerSession,
            SessionEnd sessionEnd, FutexJournal journal, GrantLeases leases, long askAgainNanos, int maxFutexes) {
        this.core = core;
        this.pages = pages;
        long first = tokenEpoch << 32 | firstToken;
        this.maxFutexesPerSession = maxFutexesPerSession;
        this.maxFutexes = maxFutexes;
        this.sessionEnd = sessionEnd;
        this.tries = new FutexTries(core);
        this.parking = new FutexParking(core, records, maxFutexes, askAgainNanos);
        this.forwards = new PagerForwards(core, pages, this, tries, leases, first);
        this.grants = new PagerGrants(core, pages, records, tries, forwards, journal, leases, first);
        grants.onAskAnswered(parking::answered);
        this.asks = new RelinquishAsks(core, forwards, leases);
        this.probes = new FutexProbes(core, records);
        this.departures = new FutexDepartures(core, records, tries, forwards, grants, asks, parking);
        this.reclaims = new FutexReclaims(core, records, journal, tokenEpoch);
        this.prefixes = new TidPrefixes(core, this);
        this.marks = new ReleasedMarks(core, pages, records, journal, maxFutexesPerSession);
    }

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
        FutexParking.Parked parked = parking.get(s, key);
        if (parked != null) {
            if (!m.getUpdate()) {
                core.refuse(s, "a second memory_object_lock_futex for " + describe(key) + ", which it already asked "
                        + "for; set update to change the priority it waits with");
            } else { // it waits for a record: the new priority (and wait) replace the old, its place kept
                parked.priority = m.getPriority();
                if (m.getRequeued() || m.hasWaitedNanos()) {
                    parked.since = since(m.hasWaitedNanos(), m.getWaitedNanos());
                }
            }
            return;
        }
        if (forwards.relock(s, f, m)) {
            return; // a direct handoff's target that gave the futex back early asks for it anew
        }
        if (f.queue.contains(s)) {
            if (!m.getUpdate()) {
                core.refuse(s, "a second memory_object_lock_futex for " + describe(key) + ", which it already asked for; "
                        + "set update to change the priority it waits with");
                return;
            }
            if (m.getRequeued()) {
                f.queue.requeue(s, m.getPriority(), since(m.hasWaitedNanos(), m.getWaitedNanos()));
                asks.askToRelinquish(f, s);
            } else {
                long before = f.queue.sinceOf(s);
                f.queue.reprioritize(s, m.getPriority(),
                        m.hasWaitedNanos() ? since(true, m.getWaitedNanos()) : FutexQueue.KEEP);
                // The head's wait is younger (its top waiter left for a later equal): the holder is
                // told again, also at the same priority, so it places that wait where it began (8.6).
                asks.askToRelinquish(f, null, f.queue.peek() == s && f.queue.sinceOf(s) != before);
            }
            return;
        }
        if (m.getUpdate()) {
            core.refuse(s, "a memory_object_lock_futex update for " + describe(key) + ", which it has not asked for");
            return;
        }
        if (s.held.size() + s.queued.size() + s.parked >= maxFutexesPerSession) {
            sessionEnd.end(s, Errno.EAGAIN, s + " holds or waits for " + maxFutexesPerSession + " futexes, the most a "
                    + "session may (its own quota; the pager's bound for all kernels is " + maxFutexes + "), and asks "
                    + "for another (" + describe(key) + "); it must give back futexes no thread of it owns or waits "
                    + "for (xp-spec 8.2: a kernel caches a futex until asked)");
            return;
        }
        if (parking.mustWait(key) && parking.full()) {
            recordsFull.run(); // dead kernels' futexes whose pages came back are recorded, and their records pruned
            records.shedCarried(); // free futexes kept only for the pages given back with them
        }
        if (parking.mustWait(key)) {
            // Not the asker's fault (it is under its own bound): a trylock is answered busy, a lock
            // waits while idle cached futexes are asked back from the kernels holding the most.
            if (m.getTry()) {
                tries.busy(s, key);
                parking.askBack();
                return;
            }
            parking.park(s, key, m.getPriority(), since(m.hasWaitedNanos(), m.getWaitedNanos()));
            return;
        }
        lockAfterChecks(f, s, m.getTry(), m.getPriority(), since(m.hasWaitedNanos(), m.getWaitedNanos()));
    }

    /** A lock_futex past its checks, or a parked one going on: granted if free, else queued or tried. */
    private void lockAfterChecks(FutexRecord f, KernelSession s, boolean tryLock, int priority, long since) {
        if (f.holder == null) {
            records.keep(f);
            grants.grant(f, s, false, 0, null);
            return;
        }
        if (tryLock) {
            tries.tryLock(f, s, priority);
            return;
        }
        f.queue.add(s, priority, since);
        s.queued.add(f.key);
        asks.askToRelinquish(f);
    }

    /** After each input: lock_futex requests parked for a record go on if records are free ({@link FutexParking}). */
    void retryParked() {
        parking.retry((s, key, priority, since) -> {
            FutexRecord f = records.get(key);
            if (f == null) {
                f = records.fresh(key);
            }
            if (f.holder == s || f.queue.contains(s) || f.tries.contains(s) || s.gone || s.broken) {
                return; // it got the futex meanwhile by other means (a reclaim, a forward), or left
            }
            lockAfterChecks(f, s, false, priority, since);
        });
    }

    /**
     * When a kernel's top waiter began waiting, on the pager's clock: now less the waited_nanos it
     * said, or now (the request's arrival) if it did not say.
     */
    private long since(boolean said, long waitedNanos) {
        return io.machxp.pager.futex.WaitedNanos.since(core.env.nanoTime(), said, waitedNanos);
    }

    /**
     * The kernel terminated the id the pager named {@code object} by, and another of its ids still
     * names it (spec 5.3): each relinquish outstanding to it for a futex of the object, with kernels
     * waiting, is sent again under the id the pager names the object by now. A relinquish the kernel
     * answered already crosses this one; it drops the duplicate (3.6).
     */
    void askAgainUnder(KernelSession s, String object) {
        for (FutexKey key : s.held.of(object)) {
            FutexRecord f = records.get(key);
            if (f != null && f.holder == s && f.relinquishSent && !f.queue.isEmpty()) {
                f.relinquishSent = false;
                asks.askToRelinquish(f);
            }
        }
    }

    /**
     * memory_object_futex_held: the holder keeps the futex a trylock asked for ({@link FutexTries}).
     */
    void futexHeld(KernelSession s, MemoryObjectFutexHeld m) {
        FutexKey key = futexKey(s, m.getObjectId(), m.getOffset(), "memory_object_futex_held");
        if (key != null) {
            FutexRecord f = records.get(key);
            boolean askedBack = f != null && f.askedBack && f.holder == s && f.tryAsked
                    && m.getFencingToken() == f.token;
            tries.held(s, f, m.getFencingToken());
            if (askedBack) {
                parking.kept(f); // a thread there owns it or waits for it: asked again only after a while
            }
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
        takeRelease(s, f, s.objectOfAnswer(r.getObjectId()), r);
    }

    /**
     * A futex {@code s} gives back (its release, or one its reclaim again no longer names) while it
     * holds the futex's page writable is marked on its session until it gives the page up: its
     * unlock may be in its copy only, and the record may be pruned, so the revert at its death
     * judges that word by the mark (DeathRecorder#revertingWriter; chaos seed 474, review deaths3
     * MED-1 for the reclaim again). Past the session's futex quota of marks, the pages of the
     * first are asked back ({@link ReleasedMarks}; review deaths3 MED-2).
     */
    void markIfWriting(KernelSession s, FutexKey key) {
        marks.markIfWriting(s, key);
    }

    /** A release of the futex's holder {@code s}, checked: its pages taken, then the futex goes on. */
    void takeRelease(KernelSession s, FutexRecord f, MemoryObject o, MemoryObjectFutexReleased r) {
        if (f.tryAsked) {
            core.answers.answered(s, f.tryAskedNanos); // the answer to a relinquish_futex(try)
        }
        forwards.holderReleasing(f, s); // a forward's page it lets go waits for the settle below (grants.release)
        for (PageData page : r.getPagesList()) {
            if (pages.releasedWithFutex(s, o, page)) {
                f.releasedPages.add(page.getOffset());
            }
        }
        markIfWriting(s, f.key);
        int stale = r.getOwnerDied() ? 0 : r.getStaleHeirTid();
        boolean ownerDied = r.getOwnerDied();
        if (stale != 0 && !StaleHeirs.mayName(s, f, stale)) {
            // Neither its own unlock's heir (its prefix) nor the TID its grant carried: taken as
            // owner_died, as before the field (EOWNERDEAD, recoverable), never carried (heirfix LOW-2).
            CoreContext.log.warn("pager {}: {} released {} naming stale heir TID 0x{}, neither of its own TID prefix {} "
                    + "nor the one its grant carried: taken as owner_died", core.name, s, describe(f.key),
                    Integer.toHexString(stale), s.tidPrefix);
            stale = 0;
            ownerDied = true;
        }
        if (f.grantOwnerDied && !ownerDied) {
            records.deathRecorded(f); // the grantee recorded OWNER_DIED in the word: no dead TID is left in it
        } else if (f.staleHeirTid != 0 && stale == 0 && !ownerDied) {
            records.deathRecorded(f); // the grantee rewrote the word its grant named: the stale TID is gone from it
        }
        if (ownerDied) {
            // Its own thread may have ended owning the futex (a shutdown's give-back with the page
            // elsewhere, xp-spec 8.7): its TIDs may be in the word until a next owner records the
            // death, so its kernel id and TID prefix wait for that as a dead kernel's do (2.5, 2.9).
            // Counted also when it only passes on its grant's owner_died: an id held a little
            // longer, never a TID left unaccounted.
            records.died(f, s.tidPrefix);
            prefixes.died(s);
        }
        f.ownerDied |= ownerDied;
        // Each release says whether the word may still name a stale heir (owner_died covers one);
        // a holder whose grant carried it gives it back without it once it rewrote the word.
        if (stale != 0) {
            StaleHeirs.carried(records, prefixes, s, f, stale);
            core.stats.staleHeirReleases.increment();
        }
        f.staleHeirTid = stale;
        f.handoff = r.getHandoff();
        grants.release(f, r.getRequestAgain() ? s : null, r.getRequestPriority(),
                since(r.hasRequestWaitedNanos(), r.getRequestWaitedNanos()), r.getForwardedToken());
    }

    // ---- validation and inspection ------------------------------------------------------------

    private FutexKey futexKey(KernelSession s, int objectId, long offset, String routine) {
        return futexKey(core, s, objectId, offset, routine);
    }

    /** The key of a futex a kernel names, or null (refused and logged) if it names none. */
    static FutexKey futexKey(CoreContext core, KernelSession s, int objectId, long offset, String routine) {
        // an answer to a relinquish sent under an id the kernel terminated since (spec 5.3) still names the object
        boolean answer = routine.equals("memory_object_futex_released") || routine.equals("memory_object_futex_held");
        MemoryObject o = answer ? s.objectOfAnswer(objectId) : s.objects.get(objectId);
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

    /** Who records dead kernels' deaths when the records are full ({@code DeathRecorder#recordAll}). */
    void onRecordsFull(Runnable r) {
        this.recordsFull = r;
        parking.onRecordsFull(r);
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
