package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.FREE;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.policy.FutexPolicy;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;

/**
 * What this kernel tells the pager about a futex: asking for it (memory_object_lock_futex),
 * giving it back (memory_object_futex_released, with its page, the pages that leave with it and
 * a direct handoff's copy) and keeping it from a trylock elsewhere (memory_object_futex_held).
 * Part of the kernel core's futexes ({@link KernelFutexes}): core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  askPager          ABSENT, nothing asked (a lock here, futex_busy while others wait, a reclaim)
 *                                     -> request LOCK or TRY out, with the top waiter's priority
 *                                        and how long it has waited (a new top priority goes as
 *                                        an update: FutexInheritance)
 *  giveBack          nobody here owns it, live -> ABSENT, its word into its page,
 *                                        futex_released; false if the fast path took it first
 *  releaseToPager    a state the fast path cannot act on (an unlock that must enter the kernel, a
 *                    dead owner's passed-over heir) -> ABSENT, FREE, OWNER_DIED or
 *                                        NOT_RECOVERABLE left in the page, futex_released asking
 *                                        again (request LOCK) if local threads still wait; the
 *                                        queued trylocks are busy
 *  releaseToTry      a woken heir passed over for a trylock elsewhere above it -> as
 *                                        releaseToPager, without handoff
 *  futex_released    clears what was pending towards the pager: a grant awaiting its page, a
 *                    relinquish, the priority waiting elsewhere (the thread it still boosted is
 *                    deboosted); carries owner_died if the grant
 *                    said so and the word never got it, stale_heir_tid if the word elsewhere may
 *                    name a thread owning nothing (owner_died to an older pager), handoff,
 *                    request_again
 *  futex_held        the answer to relinquish_futex(try) when the futex stays here
 * </pre>
 */
final class FutexToPager {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final FutexHolds holds;
    private final ReleasePages releasePages;
    private final FutexForwards forwards;
    private final FutexInheritance inheritance;
    private final boolean pi;

    /** The futexes held from the pager, and the bound on those kept idle (FutexGrants tells it of each grant). */
    final FutexCacheBound cache;
    /** The client peers' shares of the futexes asked for and held (FutexLocks charges them). */
    final FutexShares shares;

    FutexToPager(KernelCore core, KernelFutexes futexes, PageCache pages, FutexHolds holds, FutexForwards forwards,
            FutexInheritance inheritance, FutexPolicy policy, boolean pi) {
        this.core = core;
        this.futexes = futexes;
        this.holds = holds;
        this.releasePages = new ReleasePages(core, pages, policy);
        this.forwards = forwards;
        this.inheritance = inheritance;
        this.pi = pi;
        this.cache = new FutexCacheBound(this, policy.maxCachedFutexes());
        this.shares = new FutexShares(core, cache, policy.maxCachedFutexes());
    }

    /**
     * Gives the futex back to the pager, leaving {@code word} in its page (FREE, OWNER_DIED or
     * NOT_RECOVERABLE), and asks again if local threads still wait. Called from a state the fast
     * path cannot act on.
     */
    void releaseToPager(FutexEntry e, long word) {
        // Live, or (a dead owner's futex with a woken heir) its word already in the page elsewhere.
        assert (isLive(e.state()) && e.state() != FREE) || (isNoPage(e.state()) && !isAbsent(e.state())
                && owner(e.state()) == 0) : "released racing the fast path: " + e;
        release(e, word);
    }

    /** ABSENT, {@code word} into its page, futex_released asking again for the waiters here; trylocks here busy. */
    private void release(FutexEntry e, long word) {
        e.setState(ABSENT);
        PageWords.leaveWord(e, word);
        boolean again = !e.waiters.isEmpty();
        if (again) {
            e.request = FutexEntry.Request.LOCK; // asked again inside futex_released
            holds.asked(e);
            e.requestedPriority = pi ? e.waiters.topPriority() : 0;
        }
        sendReleased(e, again);
        futexes.waits.answerTrylocks(e);
    }

    /**
     * Gives a futex whose woken heir a higher trylock elsewhere passes over
     * ({@link FutexRelinquish#onRelinquishTry}) to the pager for that trylock, leaving {@code word}
     * (OWNER_DIED or FREE) in its page: futex_released, asking again inside it (request_again at
     * the top local waiter's priority, the heir's) if threads here still wait. The pager grants
     * the try first, ahead of that request and of the kernels queued since the try (xp-spec 8.3);
     * an older pager queues the request ahead of the try and answers the try busy. No handoff:
     * the futex goes to a try, not to a waiting kernel.
     */
    void releaseToTry(FutexEntry e, long word) {
        e.releaseHandoff = false;
        release(e, word);
    }

    /**
     * A futex nobody here owns leaves for the pager: ABSENT, its word into its page (if the page
     * is writable here), futex_released. False if the fast path took it first.
     */
    boolean giveBack(FutexEntry e, long s) {
        if (!e.compareAndSetState(s, ABSENT)) {
            return false;
        }
        PageWords.leaveWord(e, s);
        sendReleased(e);
        return true;
    }

    void sendReleased(FutexEntry e) {
        sendReleased(e, false);
    }
    /** futex_released; with {@code again}, asking for the futex again at e.requestedPriority. */
    private void sendReleased(FutexEntry e, boolean again) {
        cache.released(e);
        e.grantAwaitsPage = false;
        e.relinquishPending = false;
        e.pageLeftUnwaited = false; // it means only "since the last intoBytes of this holding"
        e.remotePriority = 0;
        e.remoteBoostKept = false;
        e.remoteSinceKnown = false;
        MemoryObjectFutexReleased.Builder released = MemoryObjectFutexReleased.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setFencingToken(e.fencingToken)
                .setOwnerDied(e.ownerDiedAtGrant) // the word never had it recorded: the next grant will
                .setHandoff(e.releaseHandoff).setRequestAgain(again).setRequestPriority(again ? e.requestedPriority : 0);
        long now = core.env.nanoTime();
        long waited = again ? e.waiters.topWaitedNanos(pi, now) : -1;
        if (waited >= 0) {
            released.setRequestWaitedNanos(waited);
            e.requestedSince = now - waited;
        }
        e.releaseHandoff = false;
        e.ownerDiedAtGrant = false;
        e.grantSaidOwnerDied = false; // the holding ends: the release tells whether the word records it
        releasePages.leave(e, released);
        staleHeir(e, released);
        forwards.forward(e, released); // direct handoff: a copy to the kernel the pager named, if it did
        core.sessions.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(released).build());
        shares.mayHaveLeft(e); // unless asked for again inside it
        if (e.boosting != null) {
            // The futex is gone from here (ABSENT), and with it the priority kept for a waiter
            // elsewhere: the thread it still boosted runs at its own priority again (a kept boost
            // normally ends at the owner's unlock already, FutexSessionEnds.streamBroken).
            inheritance.refresh(e);
        }
    }

    /**
     * A word elsewhere that may still name a thread owning nothing ({@link FutexEntry#grantStaleHeirTid})
     * goes on as stale_heir_tid to a pager whose welcome said it carries it, else as owner_died (as
     * before the field: EOWNERDEAD for the next owner rather than ESRCH). owner_died covers it.
     */
    private void staleHeir(FutexEntry e, MemoryObjectFutexReleased.Builder released) {
        int tid = e.grantStaleHeirTid;
        e.grantStaleHeirTid = 0;
        if (tid == 0 || released.getOwnerDied()) {
            return;
        }
        if (core.sessions.forObject(e.objectId()).pagerCarriesStaleHeirTid) {
            released.setStaleHeirTid(tid);
        } else {
            released.setOwnerDied(true);
        }
    }

    /** memory_object_futex_held: the futex a trylock elsewhere asked for stays here. */
    void sendHeld(FutexEntry e) {
        core.sessions.send(KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setFencingToken(e.fencingToken)).build());
    }

    void askPager(FutexEntry e, FutexEntry.Request kind) {
        e.request = kind;
        holds.asked(e);
        e.requestedPriority = pi ? e.waiters.topPriority() : 0;
        MemoryObjectLockFutex.Builder ask = MemoryObjectLockFutex.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setTry(kind == FutexEntry.Request.TRY)
                .setPriority(e.requestedPriority);
        long now = core.env.nanoTime();
        long waited = kind == FutexEntry.Request.LOCK ? e.waiters.topWaitedNanos(pi, now) : -1;
        if (waited >= 0) {
            ask.setWaitedNanos(waited);
            e.requestedSince = now - waited;
        }
        core.sessions.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(ask).build());
    }
}
