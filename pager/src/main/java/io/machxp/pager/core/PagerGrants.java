package io.machxp.pager.core;

import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;

/**
 * Who gets a futex the pager has back, and memory_object_futex_granted: part of the pager's
 * futexes ({@link PagerFutexes}), core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  released (futex_released, or      -> a direct handoff's reserved grant ({@link PagerForwards});
 *    a holder's departure)              else, if it answers a relinquish_futex(try), the highest
 *                                       trylock (above the releaser's request_again, if any:
 *                                       {@link FutexTries}); else the head of the queue as the
 *                                       grant policy orders it ({@link GrantLeases#next}); else
 *                                       the highest trylock; else free: the journal told, the
 *                                       record pruned if idle
 *  grant to K                        -> held by K, futex_granted with the next fencing token
 *                                       (epoch << 32 | grant number; a direct handoff's reserved
 *                                       one); owner_died if an owner died (a holder declared dead,
 *                                       a release that said so) or the journal lost it with its
 *                                       pages; else stale_heir_tid if the last release named one
 *                                       (the word may name a thread that owns nothing: the grantee
 *                                       rewrites it free; owner_died instead to a kernel whose
 *                                       hello did not name the feature, as before it existed);
 *                                       handoff if its owner handed it on (the release said
 *                                       so, or kernels waited while a departed holder had it);
 *                                       with kernels already queued the relinquish goes inside
 *                                       the grant (Part IV, no window between) when the grant
 *                                       policy lets it ({@link GrantLeases#relinquishInGrant}),
 *                                       else when the grant's lease ends
 *  releasing kernel asks again       -> queued first (request_again), so the grant made now
 *                                       knows of it; a kernel that left (gone, broken, the
 *                                       object terminated) asks for nothing
 * </pre>
 * Entry consistency: pages that come back with futex_released (the releaser's dirty pages) are
 * remembered on the futex; its next futex_granted carries those that no kernel holds or asks for,
 * and makes the grantee their writer (the pages themselves are {@link PageCoherence}'s). A grant
 * goes out once the journal ({@link FutexJournal}) has its holder on disk.
 */
final class PagerGrants {
    /** The hello feature of a kernel that rewrites a grant's stale_heir_tid (xp-spec 6.12, 8.4). */
    static final String STALE_HEIR_FEATURE = "stale_heir_tid";
    private final CoreContext core;
    private final PageCoherence pages;
    private final FutexRecords records;
    private final FutexTries tries;
    private final PagerForwards forwards;
    private final FutexJournal journal;
    private final GrantLeases leases;
    /** This start's first token of a futex ({@link PagerFutexes}). */
    private final long firstToken;

    /** Told when a release answers an ask of FutexParking (its count of asks out). */
    private java.util.function.Consumer<io.machxp.pager.futex.FutexKey> askAnswered = key -> { };

    void onAskAnswered(java.util.function.Consumer<io.machxp.pager.futex.FutexKey> c) {
        this.askAnswered = c;
    }

    PagerGrants(CoreContext core, PageCoherence pages, FutexRecords records, FutexTries tries, PagerForwards forwards,
            FutexJournal journal, GrantLeases leases, long firstToken) {
        this.core = core;
        this.pages = pages;
        this.records = records;
        this.tries = tries;
        this.forwards = forwards;
        this.journal = journal;
        this.leases = leases;
        this.firstToken = firstToken;
    }

    /**
     * The futex is nobody's: to the highest try it answers, the next kernel in its queue (or the highest trylock), else idle.
     * {@code again}, if not null, is the releasing kernel asking for it again at {@code priority}
     * (futex_released with request_again; its top waiter waiting since {@code since}, pager
     * clock): queued first, so that the grant made now knows of it. A kernel that left asks for
     * nothing (xp-spec 4.4, 14.5): its session forgotten or broken, or the object terminated. Only
     * a direct handoff's target can be such a releaser: its early release, kept from before it left,
     * is handled as its own at the grant it stands for ({@link PagerForwards#grant}); any other
     * release comes from the live holder in the same event.
     */
    void release(FutexRecord f, KernelSession again, int priority, long since, long copied) {
        KernelSession releaser = f.holder;
        f.holder.held.remove(f.key);
        f.holder = null;
        core.holders.freed(f.key);
        if (again != null && (again.gone || again.broken || !again.hasObject(f.key.object()))) {
            again = null; // queued, it would be granted the futex and never give it back (review of directfix, 1)
        }
        if (again != null) {
            f.queue.add(again, priority, since);
            again.queued.add(f.key);
        }
        // The release answers a relinquish_futex(try) (or crossed it): the futex was the holder's to
        // give, and the tries asked before any kernel queued (a try is asked only with an empty
        // queue), so the highest try goes first, ahead of the queue; ahead of the holder's own
        // request_again only if above it (a holder gives a futex whose woken heir has not run to a
        // try above the heir and asks again inside the release, xp-spec 8.3). An older holder's
        // separate lock_futex for its heir comes after this release and queues behind the try. Only
        // if above every kernel queued too (the request_again is queued now): one queued since the ask
        // may have reached the holder before its decision, and then Linux gives the futex to that top
        // waiter, as a trylock steals only strictly above it (review tb LOW-1).
        KernelSession toTry = f.tryAsked && !f.tries.isEmpty()
                && (f.queue.isEmpty() || f.tries.highestPriority() > f.queue.topPriority()) ? f.tries.highest() : null;
        f.relinquishSent = false;
        f.tryAsked = false;
        if (f.askedBack) {
            f.askedBack = false; // an ask of FutexParking is answered by the release
            askAnswered.accept(f.key);
        }
        f.keptWhenAsked = false; // the next holding is a new one
        PagerForwards.Settled forward = forwards.settle(f, copied); // a direct handoff reserved this grant
        boolean handoff = f.handoff && (!f.queue.isEmpty() || forward != null && forward.to() != null);
        f.handoff = false;
        if (forward != null && forward.to() != null) {
            forwards.grant(f, forward, handoff);
            return;
        }
        KernelSession next = toTry != null ? toTry : leases.next(f);
        if (next == null && !f.tries.isEmpty()) {
            next = f.tries.highest(); // free everywhere: the highest trylock gets it
        }
        if (next != null) {
            f.tries.remove(next);
        }
        if (next != null) {
            next.queued.remove(f.key);
            tries.answer(f); // another got it: a trylock does not wait
            grant(f, next, handoff, 0, null);
        } else {
            // A stale heir's TID is not kept in the store: after a restart its next grant says owner_died, as before it existed.
            // One the page's writer gave back keeping the page (marked on it): the entry names the
            // writer until it gives the page up (FutexJournal; ReleasedMarks#clear writes it then).
            boolean diedPending = f.ownerDied || f.staleHeirTid != 0;
            KernelSession writer = pages.writer(f.key.object(), f.key.offset() - f.key.offset() % core.pageSize);
            if (diedPending || writer == null || !writer.releasedWhileWriting.contains(f.key)) {
                journal.released(f.key, diedPending);
            } else if (writer != releaser) {
                journal.keptBy(writer, f.key); // another held it since, without the page: the writer's again
            }
            records.pruneIfIdle(f);
        }
        if (forward != null) {
            forwards.settledWithoutTarget(f, forward); // the forward's page runs its requests only now
        }
    }

    /** A grant; {@code token} (0: the next) and {@code forwarded} (or null) of a direct handoff's. */
    void grant(FutexRecord f, KernelSession s, boolean handoff, long token, PageData forwarded) {
        f.holder = s;
        s.held.add(f.key);
        core.answers.tryOwed(f); // none is asked of a futex just granted; kept with every move to a holder
        core.stats.grants.increment();
        if (f.lastHolder != 0 && f.lastHolder != s.id) {
            core.stats.handoff(s, f.key, f.lastHolderName);
        }
        f.lastHolder = s.id;
        f.lastHolderName = s.kernelName;
        f.token = token != 0 ? token // reserved by a direct handoff (above the last grant's)
                : core.plants.grantToken(f.token, Math.max(f.token + 1, firstToken)); // a reclaimed token is an earlier epoch's
        boolean ownerDied = f.ownerDied | journal.lostWithPages(f.key);
        int staleHeirTid = ownerDied ? 0 : f.staleHeirTid; // owner_died is written over any word anyway
        if (staleHeirTid != 0 && !s.features.contains(STALE_HEIR_FEATURE)) {
            ownerDied = true; // a kernel that would not rewrite it: EOWNERDEAD rather than ESRCH, as before (A.29)
            staleHeirTid = 0;
        }
        f.staleHeirTid = staleHeirTid; // kept until a release no longer names it
        f.ownerDied = false;
        f.grantOwnerDied = ownerDied;
        MemoryObjectFutexGranted.Builder granted = MemoryObjectFutexGranted.newBuilder()
                .setObjectId(s.objectIdOf(f.key.object())).setOffset(f.key.offset()).setFencingToken(f.token)
                .setOwnerDied(ownerDied).setStaleHeirTid(staleHeirTid).setHandoff(handoff);
        // Most grants carry no page: no list is made for them (protobuf's addAllPages makes one even for none).
        if (forwarded != null) {
            granted.addPages(forwarded); // its writer now: the copy forwarded to it, or this one if that was lost
        }
        if (!f.releasedPages.isEmpty()) {
            if (leases.pagesInGrant()) {
                granted.addAllPages(pages.grantedWithFutex(s, core.catalog.get(f.key.object()), f.releasedPages));
            }
            f.releasedPages.clear();
        }
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
        core.holders.held(f);
        journal.granted(s, f.key, PagerToKernel.newBuilder().setMemoryObjectFutexGranted(granted).build(),
                () -> f.holder == s && f.token == grantToken);
    }
}
