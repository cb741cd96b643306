package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.hasWaiters;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmPage.Access;

/**
 * What the end of a session with the pager does to the futexes this kernel holds from it or
 * waits for: a broken stream (a reclaim follows), the reclaim, the pager lost, and the kernel's
 * shutdown. Part of the kernel core's futexes ({@link KernelFutexes}): core thread only; what
 * leaves for the pager goes through {@link FutexToPager}.
 *
 * <h2>Overview</h2>
 * <pre>
 *  stream broken    relinquish pending -> void (the new pager asks again if others wait); the
 *                                       waiter elsewhere's boost is kept (with PI) until reclaimed
 *                                       or lost, WAITERS with it (also in a free word): the
 *                                       owner's unlock ends it, the next locker here is boosted
 *  reclaim welcomed boost kept        -> kept one lease more (the pager's grace period, after which
 *                                       its relinquish_futex takes it over), then dropped (WAITERS
 *                                       cleared from a free word if nothing else waits; an owned
 *                                       word keeps it to its unlock)
 *  reclaimed        request out      -> lock_futex asked again
 *                   kept, Part II    -> nobody here waits for it: given back now if nobody owns
 *                                       it, else at its owner's unlock (WAITERS set)
 *  pager lost       any              -> waiters fail; ABSENT once nobody here owns it
 *  shutdown         nobody owns it   -> ABSENT, futex_released with its word in its page
 *                   owned by a thread of this kernel that ended (its death waiting for the page
 *                   or for a lease grace's end) -> page writable here: OWNER_DIED written into the
 *                                       word (kept WAITERS), futex_released; else futex_released
 *                                       with owner_died. A TID a task wrote stays (ESRCH next)
 *                   its word elsewhere names an unlock's heir that left (staleHeirTid) -> futex_released
 *                                       with stale_heir_tid (owner_died to an older pager)
 * </pre>
 */
final class FutexSessionEnds {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final FutexInheritance inheritance;
    private final FutexForwards forwards;
    private final FutexToPager toPager;
    private final boolean pi;

    FutexSessionEnds(KernelCore core, KernelFutexes futexes, FutexInheritance inheritance, FutexForwards forwards,
            FutexToPager toPager, boolean pi) {
        this.core = core;
        this.futexes = futexes;
        this.inheritance = inheritance;
        this.forwards = forwards;
        this.toPager = toPager;
        this.pi = pi;
    }

    /**
     * The pager is gone: waiters fail, and the futex is forgotten, held or not (the pager passes
     * a held one on with OWNER_DIED). Its owner's unlock finds the pager's loss, not the futex: every
     * call on a lost pager's object fails with EIO before it looks ({@code VmCalls#resolve}); the
     * page goes with it ({@link PageCache#forget}). The cache bound forgets it too (review rv60
     * LOW-1: left parked among the futexes in use, it kept the count above the bound, and every
     * grant gave back the idle futexes cached since).
     */
    void forgetFutex(FutexEntry e, KernelError error) {
        e.grantAwaitsPage = false;
        e.staleHeirTid = 0;
        if (e.rewriteRetryTimer != null) {
            e.rewriteRetryTimer.cancel();
            e.rewriteRetryTimer = null;
        }
        e.rewriteRetryNanos = 0;
        futexes.waits.failWaiters(e, error);
        e.request = FutexEntry.Request.NONE;
        e.relinquishPending = false;
        dropKeptBoost(e);
        e.forgetTryWait();
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                break;
            }
            if (e.compareAndSetState(s, ABSENT)) {
                inheritance.refresh(e);
                break;
            }
        }
        toPager.cache.released(e); // it left with its pager: neither held nor asked for
        toPager.shares.mayHaveLeft(e);
    }

    /**
     * The stream to the pager broke and the kernel will reclaim what it holds from a pager that may have
     * restarted: a relinquish (or forward) the old pager asked for is void (the new one asks again if others
     * wait), so an owner's unlock keeps the futex here. Local waiters keep waiting; asked again later.
     * The waiter elsewhere still waits, though: its boost stays ({@link FutexEntry#remoteBoostKept}) until
     * a new relinquish takes it over, a release, the pager is lost ({@link #forgetFutex}), or one lease
     * after the reclaim's welcome ({@link #reclaimed}), so that a pager's restart deboosts no owner while
     * the waiter waits, here or, through this kernel's lock_futex at another pager, elsewhere (up to a
     * lease after the welcome; a waiter that gave up meanwhile may leave the boost up to then).
     * FUTEX_WAITERS stays in the word while the boost is kept: the owner's unlock enters the
     * kernel, which keeps the futex here and ends the boost with the ownership (as Linux deboosts
     * at the unlock), and the next locker here enters it too and is boosted in its turn; the fast
     * path takes the futex again once the kept boost ends ({@link #endKeptBoost}). A free word
     * (a hold policy kept the futex) gets WAITERS now, as an unlock would leave it.
     * Without PI there is no boost to keep: nothing is kept, and the word is left as it is (an
     * owned word's WAITERS to its unlock, as on Linux; that unlock, once, enters the kernel).
     */
    void streamBroken(FutexEntry e) {
        forwards.streamBroken(e);
        e.forgetTryWait(); // the old pager's try is void: a new one asks again
        if (e.relinquishPending) {
            e.relinquishPending = false;
            if (pi) {
                e.remoteBoostKept = true;
                e.keptBoostBreaks++;
                markFreeWordKept(e);
            }
            inheritance.refresh(e);
        }
    }

    /** A live free word whose boost is kept: WAITERS, so its next locker here enters the kernel. */
    private static void markFreeWordKept(FutexEntry e) {
        while (true) {
            long s = e.state();
            if (!isLive(s) || owner(s) != 0 || hasWaiters(s) || e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                return;
            }
        }
    }

    /**
     * The reclaim's welcome came: a boost kept over the broken stream stays for one more lease, the
     * restarted pager's grace period, at whose end it asks again with relinquish_futex if the waiter
     * elsewhere still waits (which takes the boost over, {@code FutexRelinquish}); then it is dropped,
     * unless a break since kept it again. Without a lease it ends now.
     */
    void reclaimed(FutexEntry e) {
        if (!e.remoteBoostKept) {
            return;
        }
        long lease = core.sessions.forObject(e.objectId()).leaseNanos();
        if (lease <= 0) {
            endKeptBoost(e);
            return;
        }
        long breaks = e.keptBoostBreaks;
        core.env.schedule(lease, () -> {
            if (e.remoteBoostKept && e.keptBoostBreaks == breaks) {
                endKeptBoost(e);
            }
        });
    }

    /**
     * A kept boost's time is over: the owner runs at its own priority again. A free word loses
     * FUTEX_WAITERS if nothing else waits (there it was only the kept boost's), so the fast path
     * takes the futex again; its page's bytes never had it ({@code PageWords.sharedWord}). An owned
     * word keeps it to the unlock, as on Linux, where WAITERS leaves an owned word only at its
     * unlock, also once the waiter gave up (a trylock, a timed-out lock, here or elsewhere): that
     * unlock enters the kernel once and frees the word as 0.
     */
    private void endKeptBoost(FutexEntry e) {
        dropKeptBoost(e);
        inheritance.refresh(e);
        if (owner(e.state()) == 0) {
            futexes.clearWaitersIfNoneLeft(e);
        }
    }

    private static void dropKeptBoost(FutexEntry e) {
        if (e.remoteBoostKept) {
            e.remoteBoostKept = false;
            if (!e.relinquishPending) {
                e.remotePriority = 0;
            }
        }
    }

    /** Part II after a reclaim: a futex kept while disconnected goes back now, or at its owner's unlock. */
    void giveBackKept(FutexEntry e) {
        while (true) {
            long s = e.state();
            if (isAbsent(s) || e.grantAwaitsPage || !e.waiters.isEmpty()) {
                return;
            }
            if (!futexes.unownedHere(s)) {
                if (hasWaiters(s) || e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                    return;
                }
            } else if (isLive(s)) {
                if (toPager.giveBack(e, s)) {
                    return;
                }
            } else {
                e.setState(ABSENT); // its word is already where the page is
                toPager.sendReleased(e);
                return;
            }
        }
    }

    /** After a reclaim: the lock_futex this kernel was waiting for an answer to, asked again. */
    void askAgain(FutexEntry e) {
        if (e.request != FutexEntry.Request.NONE) {
            toPager.askPager(e, e.request);
        }
    }

    /**
     * At shutdown, once its threads have ended: a futex held here goes back to the pager with its
     * word in its page, and with owner_died if its grant said so and the word never got it (its
     * page never came). A futex a thread of this kernel that ended still owns (core.endedHere, the
     * death the system saw, as FutexLocks.lock judges it) is one whose death is still waiting for
     * its page (elsewhere: another kernel read or wrote it) or for a lease grace's end
     * (RobustFutexes.ownerDied). With its page writable here the death goes into the word as
     * Linux's handle_futex_death writes it, (word & WAITERS) | OWNER_DIED; with the page elsewhere
     * it goes back with owner_died, which the pager's next grant carries into the word
     * (PageWords.grantedWord), since nothing here will write it now. A word elsewhere that still
     * names an unlock's heir that left before it ran (FutexEntry.staleHeirTid, a thread that owned
     * nothing and has ended by now) is no death: its rewrite needed the page, so the release names
     * that TID (stale_heir_tid), which the pager carries to the next grant, whose kernel writes the
     * word free as the unlock would have (xp-spec 8.4, as Linux leaves it); to a pager whose welcome
     * did not say it carries it, owner_died instead (EOWNERDEAD for the next owner beats ESRCH for a
     * TID of no thread; xp-spec A.29). Any other TID (a task wrote
     * it: another kernel's thread, or none) stays in the word, and its next locker gets ESRCH.
     * Tasks may CAS the word in shared memory meanwhile: each pass decides again.
     */
    void giveBackAtShutdown(FutexEntry e) {
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return;
            }
            boolean stale = e.staleHeirTid != 0 && owner(s) == e.staleHeirTid && !isLive(s);
            boolean diedHere = !stale && owner(s) != 0 && core.tasks.endedHere(owner(s));
            if (diedHere && isLive(s) && e.page.access == Access.READ_WRITE) {
                if (e.compareAndSetState(s, ABSENT)) {
                    PageWords.recordDeath(e, s);
                    toPager.sendReleased(e);
                    return;
                }
                continue;
            }
            boolean grantSaid = e.ownerDiedAtGrant;
            int staleSaid = e.grantStaleHeirTid;
            e.ownerDiedAtGrant = grantSaid || diedHere;
            if (stale) {
                e.grantStaleHeirTid = e.staleHeirTid; // owner_died instead to a pager that does not carry it
            }
            if (toPager.giveBack(e, s)) {
                return;
            }
            e.ownerDiedAtGrant = grantSaid; // a task's CAS came first: look again
            e.grantStaleHeirTid = staleSaid;
        }
    }
}
