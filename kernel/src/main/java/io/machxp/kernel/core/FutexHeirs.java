package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.OWNER_DIED;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.isNotRecoverable;
import static io.machxp.kernel.futex.FutexWord.isOwnerDied;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.sched.Scheduler;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.AcquirePath;

/**
 * The woken heir of a futex with no owner yet: as Linux's robust-list walk leaves the word
 * OWNER_DIED|WAITERS with no owner and wakes the top waiter, which takes the futex when it runs,
 * a waiter that cannot run at the death (or in a lease grace) is woken and takes it at its run.
 * A PI unlock (or a grant that hands another kernel's unlock to a waiter here) does the same for
 * a waiter that cannot run: Linux's FUTEX_UNLOCK_PI writes the waiter's TID|WAITERS into the word
 * but its rt_mutex has no owner until the waiter runs (mark_wakeup_next_waiter), and a thread of
 * strictly higher priority takes it meanwhile (try_to_take_rt_mutex), fixing the word to its own
 * TID|WAITERS. Part of the kernel's futexes ({@link KernelFutexes}): core thread only.
 *
 * <h2>Overview</h2>
 * The heir is {@code FutexEntry.heir}, a waiter still queued; {@code heirDied} tells a dead
 * owner's futex from an unlock's. Nobody owns the futex while it has an heir: nobody is boosted
 * for it (FutexInheritance.ownerHere), and a stealer waits for nobody. States of a futex with an
 * heir:
 * <pre>
 *  woken (wakeHeir)     a death: word OWNER_DIED|WAITERS, no owner (with the page elsewhere,
 *                       the word there); an unlock: word HEIR|WAITERS (the page is here); the
 *                       heir's run is due when it has its CPU
 *  heir runs (heirRuns) lease checked; in a grace parked until it ends (GraceCalls); page
 *                       elsewhere: faulted in first (refused: its lock fails, heirLeft); then
 *                       it takes the futex (EOWNERDEAD after a death) if the word is still as
 *                       it was left for it
 *  passed over          a higher lock or trylock here (FutexLocks.lock), a higher waiter
 *  (passOverHeir)       elsewhere (FutexRelinquish.onRelinquishFutex), or a waiter raised above it
 *                       (reelect): its run is cancelled and it waits on, or leaves with
 *                       ETIMEDOUT if its timer fired meanwhile; after an unlock, reelect's new
 *                       heir leaves the word naming the passed-over one (heirWordTid) until it
 *                       runs, and a passed-over one that leaves hands the word to the heir
 *                       (wordNamedWaiterLeft)
 *  heir leaves          ended, cancelled, timed out or its page refused: the futex passes on as
 *  (heirLeft)           at the death (with the page elsewhere the next waiter here is woken at
 *                       once) or at the unlock (the page faulted in first; until it is here the
 *                       word names a thread that owns nothing, staleHeirTid: the next page-in,
 *                       whoever asks for it, passes the futex on before anything reads the word)
 *  session ends         forgetFutex fails the waiters and clears the heir (failWaiters): a run
 *                       parked in the grace or due later finds it is no longer the heir
 * </pre>
 */
final class FutexHeirs {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final KernelEnv env;
    private final PageCache pages;
    private final Scheduler scheduler;
    private final FutexInheritance inheritance;
    private final FutexRelinquish relinquish;
    private final boolean pi;

    FutexHeirs(KernelCore core, KernelFutexes futexes, KernelEnv env, PageCache pages, Scheduler scheduler,
            FutexInheritance inheritance, FutexRelinquish relinquish, boolean pi) {
        this.core = core;
        this.futexes = futexes;
        this.env = env;
        this.pages = pages;
        this.scheduler = scheduler;
        this.inheritance = inheritance;
        this.relinquish = relinquish;
        this.pi = pi;
    }

    /**
     * An owner died with {@code w} the top waiter: as Linux's robust-list walk leaves the word
     * OWNER_DIED|WAITERS with no owner and its exit wakes the top waiter, which takes the futex
     * when it runs, {@code w} stays queued and gets it once it has its CPU ({@link #heirRuns});
     * a lock or trylock of a higher priority meanwhile takes it instead (FutexLocks.lock), as
     * does a higher waiter elsewhere ({@link FutexRelinquish#onRelinquishFutex}), and {@code w}
     * then waits for that owner. Also a waiter that can run now is woken so (it runs at the end
     * of the instant, unless a higher thread made ready in it comes first: the heir of another
     * futex of the same death, which then may take this one), except a first grant's waiter.
     */
    void wakeHeir(FutexEntry e, FutexWaiter w, AcquirePath path, boolean waited) {
        e.heir = w;
        e.heirPath = path;
        e.heirWaited = waited;
        e.heirDied = true;
        e.heirWordTid = 0;
        if (!isNoPage(e.state()) || e.page.access == Access.READ_WRITE) {
            // Live, or a grant whose page just came (FREE|NOPAGE until served); with the page
            // elsewhere its word, OWNER_DIED|WAITERS already, stays there until heirRuns faults it in.
            e.setState(OWNER_DIED | (WAITERS & 0xffffffffL));
        }
        env.trace("owner-died-wake", w.thread.tid, futexes.futexName(e));
        scheduler.compute(w.thread, 0, () -> heirRuns(e, w)); // in place of a leave-run its fired timer asked for
    }

    /**
     * A PI unlock here (or a grant of another kernel's unlock) hands the futex to {@code w}, the
     * top waiter, which cannot run now (Scheduler.wouldRunNow) or in a lease grace: as Linux's
     * FUTEX_UNLOCK_PI, the word is w's TID|WAITERS at once, but nobody owns the futex until w
     * runs ({@link #heirRuns}); a strictly higher lock or trylock here (FutexLocks.lock) or waiter
     * elsewhere ({@link FutexRelinquish#onRelinquishFutex}) takes it first, and w then waits for
     * that owner. The page is writable here (an unlock faults it in first, a grant comes with it).
     */
    void wakeUnlockHeir(FutexEntry e, FutexWaiter w, AcquirePath path) {
        e.heir = w;
        e.heirPath = path;
        e.heirWaited = true;
        e.heirDied = false;
        e.heirWordTid = w.thread.tid;
        e.setState(FutexWord.held(w.thread.tid, true, false));
        env.trace("unlock-wake", w.thread.tid, futexes.futexName(e));
        scheduler.compute(w.thread, 0, () -> heirRuns(e, w)); // in place of a leave-run its fired timer asked for
    }

    /**
     * The woken heir has its CPU: it takes the futex, unless another did meanwhile. In a lease
     * grace it waits for the grace's end (the kernel hands out nothing while its lease is in
     * doubt, LeaseGrace), and with the page elsewhere it first faults the page in (the word can
     * change only with the page); it stays the heir meanwhile.
     */
    private void heirRuns(FutexEntry e, FutexWaiter w) {
        if (e.heir != w || w.done()) {
            return;
        }
        KernelSession session = core.sessions.forObject(e.objectId());
        session.checkLeaseNow(); // a run that waited out the lease in a paused kernel: lost, forgetFutex failed it
        if (e.heir != w || w.done()) {
            return;
        }
        if (session.inGrace()) {
            core.sessions.parked.park(session, null, () -> heirRuns(e, w));
            return;
        }
        long s = e.state();
        if (isNoPage(s) && !isAbsent(s)) {
            // A refused page (memory_object_data_error, from a live pager) fails the heir's lock as
            // it fails any lock's page-in; the next waiter is woken in its place (heirLeft). A lost
            // pager fails the page-in just before its forgetFutex fails every waiter: nobody is woken.
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> heirRuns(e, w), error -> {
                        if (e.heir == w && !core.sessions.pagerLost(e.objectId())) {
                            futexes.abandon(w, error);
                        }
                    }));
            return;
        }
        e.heir = null;
        if (isNotRecoverable(s)) {
            futexes.waits.failWaiters(e, futexes.notRecoverable(e)); // a word written over elsewhere meanwhile
            return;
        }
        boolean died = e.heirDied;
        // An unlock's word names the heir, or the waiter a priority change put it in place of (reelect).
        if (isAbsent(s) || (died ? owner(s) != 0 || !isOwnerDied(s) : owner(s) != e.heirWordTid || isOwnerDied(s))) {
            return; // not the futex left for it any more: it waits as any waiter
        }
        e.waiters.remove(w);
        w.timerFired = false; // it takes the futex before it looks at the time
        futexes.waits.giveTo(e, w, e.heirPath, died, e.heirWaited);
        inheritance.refresh(e);
    }

    /**
     * The heir left its wait before it ran (it ended, was cancelled, left on its timeout, or its
     * page was refused): the dead owner's futex passes on as at the death, to the next waiter
     * (woken, or given it if it can run and no lease grace holds), the pager, or free. With its
     * page elsewhere the next waiter here is woken at once, the page faulted in when it runs (a
     * lock meanwhile compares with it, as with any heir, and a refused page fails it in turn);
     * with no waiter here, or a waiter elsewhere first, the futex passes on once the page is
     * here again (refused: the top waiter here, if any, is woken all the same, so that no waiter
     * here is left without a run that faults the page in or fails; with none, the page is asked
     * for again with a backoff while a waiter elsewhere waits, FutexRewriteRetry).
     */
    void heirLeft(FutexEntry e) {
        int tid = e.heir.thread.tid;
        e.heir = null;
        if (!e.heirDied) {
            unlockHeirLeft(e, tid, e.heirWordTid);
            return;
        }
        if (isNoPage(e.state()) && !isAbsent(e.state())) {
            if (!wakeNextHeir(e, false)) {
                pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                        PageFault.of(() -> passOnOwnerless(e), error -> {
                            if (!core.sessions.pagerLost(e.objectId()) // lost: forgetFutex fails the waiters
                                    && !wakeNextHeir(e, true)) {
                                // Nobody here to fault it in: asked again while a waiter elsewhere waits.
                                futexes.rewriteRetry.refused(e, () -> ownerlessDeadOwners(e),
                                        () -> passOnOwnerless(e));
                            }
                        }));
            }
            return;
        }
        passOnOwnerless(e);
    }

    /**
     * The heir {@code tid} of an unlock left before it ran (cancelled, timed out, or its lock failed:
     * its page refused; one that ended dies holding it, below): the futex passes on from its word as
     * at the unlock (to the next waiter, woken as heir if it cannot run, the pager, or free). With
     * the page elsewhere, the word there names {@code tid} until the page is here: the pending
     * rewrite is remembered ({@link FutexEntry#staleHeirTid}) and done by whichever page-in comes
     * first ({@link #passOnStaleHeir}, before any fault waiting for the page resumes), this one's
     * or a later lock's, relinquish's or death's; meanwhile nobody owns the futex (nobody is
     * boosted for it, and the thread's own lock or unlock is not judged by the word). A refused
     * page-in fails the waiters here, as a lock's page-in (a lost pager: forgetFutex fails them);
     * the rewrite waits for the next page-in, which is asked for again with a backoff while a
     * waiter elsewhere waits (FutexRewriteRetry). Nothing if the futex went on meanwhile.
     */
    private void unlockHeirLeft(FutexEntry e, int tid, int wordTid) {
        long s = e.state();
        if (core.tasks.livingThread(tid) == null) {
            // It ended: Linux's woken waiter, interrupted, still takes the ownerless lock on its
            // way out (fixup_pi_owner) and then dies holding it. Its TID is in the word (written
            // now if the word still names the waiter it took the place of, reelect), and the
            // end's scan of what it owns (RobustFutexes.threadEnded, right after) passes the futex
            // on as a death: OWNER_DIED, EOWNERDEAD for the next owner.
            if (wordTid != tid && FutexWord.isLive(s) && owner(s) == wordTid && !isOwnerDied(s)) {
                e.setState(FutexWord.held(tid, true, false));
            }
            return;
        }
        if (isAbsent(s) || owner(s) != wordTid || isOwnerDied(s)) {
            return;
        }
        e.staleHeirTid = wordTid;
        if (isNoPage(s)) {
            env.trace("unlock-heir-left-page-elsewhere", tid, futexes.futexName(e)); // (chaos --mix heir-shutdown)
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> passOnStaleHeir(e), error -> { // (the page's return passed it on already)
                        if (!core.sessions.pagerLost(e.objectId())) {
                            futexes.waits.failWaiters(e, error);
                            inheritance.refresh(e);
                            // A waiter elsewhere still waits for the rewrite: asked again (FutexRewriteRetry).
                            futexes.rewriteRetry.refused(e, () -> e.staleHeirTid == tid, () -> { });
                        }
                    }));
            return;
        }
        core.sessions.forObject(e.objectId()).checkLeaseNow(); // lost: forgetFutex failed the waiters
        passOnStaleHeir(e);
    }

    /**
     * The page of {@code e} is writable here (or was already): if its word still names an unlock's
     * heir that left before it ran ({@link FutexEntry#staleHeirTid}), the futex passes on as at the
     * unlock, as Linux's FUTEX_UNLOCK_PI would have left it had the waiter not been woken: to the
     * next waiter (woken as heir if it cannot run), the pager if a waiter elsewhere comes first, or
     * free. Called before any fault waiting for the page resumes (FutexRelinquish's writable hook),
     * so a lock that faulted the page in finds the futex passed on; also if that thread has ended
     * since (it owned nothing). True if it passed the futex on.
     */
    boolean passOnStaleHeir(FutexEntry e) {
        int tid = e.staleHeirTid;
        if (tid == 0) {
            return false;
        }
        long s = e.state();
        if (isNoPage(s) && !isAbsent(s)) {
            return false; // the page still elsewhere
        }
        e.staleHeirTid = 0;
        if (e.heir != null || !FutexWord.isLive(s) || owner(s) != tid || isOwnerDied(s) || isNotRecoverable(s)) {
            return false;
        }
        env.trace("unlock-heir-left-passed-on", tid, futexes.futexName(e));
        futexes.passOn(e, false);
        inheritance.refresh(e);
        return true;
    }

    /** Whether the word {@code s} of {@code e} names an unlock's heir that left before it ran (nobody owns it). */
    static boolean staleHeir(FutexEntry e, long s) {
        return e.staleHeirTid != 0 && !isAbsent(s) && owner(s) == e.staleHeirTid;
    }

    /**
     * With the page of a dead owner's futex elsewhere and no heir: wakes the top local waiter as
     * the heir unless none waits here, or a waiter elsewhere comes first (unless
     * {@code despiteElsewhere}); true if one was woken.
     */
    private boolean wakeNextHeir(FutexEntry e, boolean despiteElsewhere) {
        FutexWaiter top = e.waiters.peek(pi, core.plants.arrivalOrderAmongEquals(true));
        long s = e.state();
        if (e.heir != null || top == null || top.trylock || top.expiredLock() || !isNoPage(s) || isAbsent(s)
                || e.page.access == Access.READ_WRITE // a grant awaiting its page-in, not a dead owner's word
                || (!despiteElsewhere && e.relinquishPending && !futexes.localWaiterFirst(e))) {
            return false;
        }
        wakeHeir(e, top, e.heirPath, e.heirWaited);
        return true;
    }

    /** A dead owner's futex that no heir is woken for and nobody passed on yet: live, no owner, OWNER_DIED. */
    private boolean ownerlessDeadOwners(FutexEntry e) {
        long s = e.state();
        return e.heir == null && !isAbsent(s) && owner(s) == 0 && isOwnerDied(s) && !isNotRecoverable(s);
    }

    /** Passes on a dead owner's futex that no heir is woken for, if it is still that (live, no owner, OWNER_DIED). */
    private void passOnOwnerless(FutexEntry e) {
        core.sessions.forObject(e.objectId()).checkLeaseNow(); // lost: forgetFutex failed the waiters
        long s = e.state();
        if (e.heir != null || !FutexWord.isLive(s) || owner(s) != 0 || !isOwnerDied(s) || isNotRecoverable(s)) {
            return;
        }
        futexes.passOn(e, true);
        inheritance.refresh(e);
    }

    /**
     * The heir is passed over (a higher thread here or elsewhere takes the futex, or another
     * waiter is now above it): its run is cancelled and it waits on as any waiter, or, if its
     * timer fired meanwhile, leaves with ETIMEDOUT when it runs, as Linux's waiter that finds the
     * lock taken and its timeout passed.
     */
    void passOverHeir(FutexEntry e) {
        FutexWaiter h = e.heir;
        e.heir = null;
        scheduler.cancel(h.thread);
        if (h.timerFired) {
            futexes.waits.leaveWhenItRuns(h);
        }
    }

    /**
     * A waiter of {@code e} changed priority: if a dead owner's futex has a woken heir that is no
     * longer the top waiter, the new top one takes its place, as Linux's priority-chain walk wakes
     * the new top waiter of a lock with no owner: a waiter here is woken (or takes it now if it can
     * run), a waiter elsewhere (a pending relinquish above it) gets it through the pager.
     */
    void reelect(FutexEntry e) {
        FutexWaiter h = e.heir;
        if (h == null) {
            return;
        }
        long s = e.state();
        if (!e.heirDied && isNoPage(s) && !isAbsent(s)) {
            // An unlock's heir whose page left: the word (the heir's TID) changes only with the page.
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> reelect(e), error -> { })); // refused: the heir's own run fails it
            return;
        }
        // It may hand the futex out (handOff, or to the pager): the lease first, as in heirRuns. A
        // priority change can run late, from a timer due before the lease's end (a waiter's leave
        // after a pause), while the lease's own timer, due later, has not run: lost, forgetFutex
        // failed the waiters and cleared the heir; in a grace, handOff wakes the top waiter as the
        // heir instead, and its run is parked.
        core.sessions.forObject(e.objectId()).checkLeaseNow();
        if (e.heir != h) {
            return;
        }
        FutexWaiter top = e.waiters.peek(pi, core.plants.arrivalOrderAmongEquals(true));
        int remote = pi && e.relinquishPending ? e.remotePriority : -1;
        if (remote > top.thread.effectivePriority) {
            relinquish.onRelinquishFutex(e, remote, false, -1); // above the heir: it passes the heir over
            if (e.heir != h) {
                return;
            }
            // A hold policy kept the futex here (FutexHolds) and the heir stayed: the top waiter here
            // may still have risen above it.
        }
        if (top == h) {
            return;
        }
        boolean died = e.heirDied;
        int wordTid = e.heirWordTid;
        env.trace(died ? "owner-died-reelect" : "unlock-reelect", top.thread.tid, futexes.futexName(e));
        passOverHeir(e);
        if (died && isNoPage(e.state())) {
            wakeHeir(e, top, e.heirPath, e.heirWaited);
        } else {
            futexes.waits.handOff(e, e.heirPath, died, e.heirWaited);
            if (!died && e.heir != null && e.heir != h) {
                // Linux's chain walk wakes the new top waiter of the ownerless rt_mutex but leaves
                // the word as FUTEX_UNLOCK_PI wrote it (the passed-over waiter's TID|WAITERS) until
                // the new one runs and takes it (fixup_pi_state_owner): measured,
                // scenarios/unlock-heir-passed-by-raised-waiter.yaml. A new top waiter that can run
                // now is given it at once (Linux's fixup is then microseconds away).
                e.heirWordTid = wordTid;
                e.setState(FutexWord.held(wordTid, true, false));
            }
        }
        inheritance.refresh(e);
    }

    /**
     * A waiter left its wait (timed out, cancelled, ended) while the word still names it though an
     * unlock's heir took its place (reelect): the word names the heir from now on, as Linux's leaving
     * waiter, still the pi_state's owner, fixes the word up for the waiter that takes the lock
     * (fixup_pi_state_owner) rather than leave its own TID there, owning nothing. With the page
     * elsewhere it is faulted in first (the word changes only with it).
     */
    void wordNamedWaiterLeft(FutexEntry e, int tid) {
        FutexWaiter h = e.heir;
        if (h == null || e.heirDied || e.heirWordTid != tid || h.thread.tid == tid) {
            return;
        }
        long s = e.state();
        if (isNoPage(s) && !isAbsent(s)) {
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> wordNamedWaiterLeft(e, tid), error -> { })); // refused: the heir's run fails it
            return;
        }
        if (!FutexWord.isLive(s) || owner(s) != tid || isOwnerDied(s)) {
            return;
        }
        e.heirWordTid = h.thread.tid;
        e.setState(FutexWord.held(h.thread.tid, true, false));
    }

    boolean inGrace(FutexEntry e) {
        return core.sessions.forObject(e.objectId()).inGrace();
    }
}
