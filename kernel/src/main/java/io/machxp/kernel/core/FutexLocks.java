package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.FREE;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.hasWaiters;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.isNotRecoverable;
import static io.machxp.kernel.futex.FutexWord.isOwnerDied;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;

/**
 * vm_lock_futex and vm_trylock_futex that come to the core (the fast path's CAS failed, or the
 * futex is not live here): the futex taken, or the caller queued, or answered busy or with an
 * error. Part of the kernel's futexes ({@link KernelFutexes}): core thread only.
 *
 * <h2>Overview</h2>
 * What a lock finds, by the futex's state here (the encoding is in {@link FutexWord}, the cache
 * states in {@link FutexEntry}); a trylock is busy (null) where a lock is queued:
 * <pre>
 *  FREE             -> TID                      (fast path, or here after a race)
 *  OWNER_DIED       -> TID|OWNER_DIED, EOWNERDEAD
 *  OWNER_DIED|WAITERS, its woken heir not run yet -> above the heir's priority:
 *                      TID|OWNER_DIED|WAITERS, EOWNERDEAD, the heir passed over; else queued
 *                      behind it
 *  HEIR|WAITERS, an unlock's woken heir not run yet (PI) -> above the heir's priority:
 *                      TID|WAITERS, the heir passed over (Linux's rt_mutex steal); else queued
 *                      behind it, boosting nobody (nobody owns it until the heir runs)
 *  NOT_RECOVERABLE  -> ENOTRECOVERABLE
 *  held by itself   -> EDEADLK (futexes do not nest)
 *  held by another  -> queued, WAITERS set, the owner boosted (EDEADLK if the owners' chain leads
 *                      back to the caller); an owner that ended after its death's scan: its
 *                      death now (OWNER_DIED, passed on), then looked at again; a TID of no
 *                      thread: ESRCH, WAITERS left in the word (as Linux)
 *  ABSENT           -> queued; lock_futex(top priority) unless one is out, else a priority
 *                      update if the top changed; its pager lost: the pager's error; nothing
 *                      out and the thread's client peer at its share of futexes: EAGAIN
 *                      (FutexShares, after a look at a few of its futexes)
 *  FREE|NOPAGE      -> with the page here, a grant awaiting its page-in: behind its waiters, or
 *                      served at once if none is left
 *  held here, NOPAGE -> the page faulted in writable first (the word changes only with the
 *                      page), then looked at again; refused: the page's error. A word that
 *                      names the caller is EDEADLK at once, unless it names an unlock's heir
 *                      that left before it ran (FutexHeirs.staleHeir: it owns nothing; the
 *                      page's return passes the futex on first)
 * </pre>
 * A lock with a timeout has its timer ({@link FutexWaits#timedOut}); a timeout of 0 is a trylock
 * that is ETIMEDOUT where a trylock is busy, and walks the owners' chain (EDEADLK) as a lock does.
 */
final class FutexLocks {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final KernelEnv env;
    private final PageCache pages;
    private final FutexInheritance inheritance;
    private final FutexGrants grants;
    private final FutexToPager toPager;
    private final FutexHeirs heirs;
    private final FutexWaits waits;
    private final boolean pi;

    FutexLocks(KernelCore core, KernelFutexes futexes, KernelEnv env, PageCache pages, FutexInheritance inheritance,
            FutexGrants grants, FutexToPager toPager, FutexHeirs heirs, FutexWaits waits, boolean pi) {
        this.core = core;
        this.futexes = futexes;
        this.env = env;
        this.pages = pages;
        this.inheritance = inheritance;
        this.grants = grants;
        this.toPager = toPager;
        this.heirs = heirs;
        this.waits = waits;
        this.pi = pi;
    }

    /** What a timed lock answers when its timeout passes (also one parked in a lease grace). */
    static KernelError timedOut(long address, int tid) {
        return KernelError.of(Errno.ETIMEDOUT, "the futex at 0x%x was not acquired by thread %d before its timeout",
                address, tid);
    }

    /** vm_lock_futex / vm_trylock_futex for a validated thread, not blocked in another call. */
    void lockRequest(MachThread thread, FutexEntry e, long address, long timeoutNanos, boolean trylock,
            Reply<Acquired> reply, String call) {
        if (core.sessions.pagerLost(e.objectId())) {
            // Its pager is lost (with several pagers the kernel goes on): waiting for a local owner
            // would outlast the futex, which is forgotten here.
            reply.fail(core.sessions.pagerError(e.objectId()));
            return;
        }
        // A lock whose timeout has passed already (0) waits for no owner, as Linux's FUTEX_LOCK_PI
        // with a past deadline: it takes the futex if it is free, also from the pager or after a
        // page-in (a fault, which a Linux timeout does not bound either), and is ETIMEDOUT where
        // a trylock is busy. A timer of 0 would fire before the pager's or the page's answer.
        boolean expired = !trylock && timeoutNanos == 0;
        FutexWaiter w = expired ? new FutexWaiter(thread, timedOut(address, thread.tid), reply)
                : new FutexWaiter(thread, trylock, reply);
        thread.waitNumber++;
        thread.waitBeganMicros = env.wallMicros();
        thread.blockedIn = call;
        thread.waiter = w;
        if (timeoutNanos > 0) {
            w.timeout = env.schedule(timeoutNanos, () -> waits.timedOut(w, timedOut(address, thread.tid)));
        }
        if (isAbsent(e.state())) {
            lock(w, e); // ask first, at the waiter's priority (a page-in first left the owner unboosted)
        } else {
            lockWithPage(w, e);
        }
    }

    /** Runs {@code lock} once the futex's page is writable here (held here, the word elsewhere). */
    private void lockWithPage(FutexWaiter w, FutexEntry e) {
        pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE, PageFault.of(() -> {
            if (!w.done()) {
                lock(w, e);
            }
        }, w::fail));
    }

    private void lock(FutexWaiter w, FutexEntry e) {
        int tid = w.thread.tid;
        while (true) {
            long s = e.state();
            if (isNoPage(s) && !isAbsent(s)) {
                if (owner(s) == tid && !FutexHeirs.staleHeir(e, s)) { // (an unlock's heir that left owns nothing)
                    w.fail(alreadyOwned(tid, e));
                    return;
                }
                if (e.page.access == Access.READ_WRITE) {
                    // FREE | NOPAGE with the page here: a grant whose page-in has not run yet.
                    assert owner(s) == 0 && e.grantAwaitsPage : "a futex without its word: " + e;
                    if (e.waiters.isEmpty()) {
                        grants.serveAwaitedGrant(e); // every waiter it came for has left: kept, or given back
                        continue;
                    }
                    // Its waiters come first: wait in line behind them.
                    if (w.trylock) {
                        w.finish(null);
                    } else {
                        waits.enqueue(w, e);
                    }
                    return;
                }
                lockWithPage(w, e); // held here, page elsewhere: the word can change only with the page
                return;
            }
            if (s == FREE) {
                // WAITERS while anything waits, here or elsewhere (a relinquish pending): its unlock enters the kernel
                boolean enter = waits.mustEnterKernel(e);
                if (e.compareAndSetState(FREE, FutexWord.held(tid, enter, false))) { // the core's CAS: see FutexEntry
                    waits.acquired(w, e, AcquirePath.FAST_PATH, false);
                    if (enter) {
                        inheritance.refresh(e); // a waiter elsewhere (a relinquish pending under a hold): boosted
                    }
                    return;
                }
                continue;
            }
            if (isAbsent(s)) {
                if (core.sessions.pagerLost(e.objectId())) {
                    w.fail(core.sessions.pagerError(e.objectId()));
                    return;
                }
                boolean idle = e.request == FutexEntry.Request.NONE && e.waiters.isEmpty();
                if (w.trylock && !idle) {
                    w.finish(null);
                    return;
                }
                boolean ask = e.request == FutexEntry.Request.NONE;
                if (ask) {
                    // A futex more for the kernel to hold: within the thread's client peer's share
                    // (FutexShares; the fast path, on a futex cached here, never comes here)
                    KernelError share = toPager.shares.admit(w.thread.task);
                    if (share != null) {
                        w.fail(share);
                        return;
                    }
                }
                waits.enqueue(w, e);
                PageWords.markWaiters(e);
                if (ask) {
                    toPager.shares.charge(e, w.thread.task);
                    toPager.askPager(e, w.trylock ? FutexEntry.Request.TRY : FutexEntry.Request.LOCK);
                } else {
                    inheritance.updatePagerPriority(e);
                }
                inheritance.probe(w.thread); // a cycle through other kernels?
                return;
            }
            // Live here and not FREE: the fast path cannot change it, except the owner's unlock.
            if (e.staleHeirTid != 0) {
                heirs.passOnStaleHeir(e); // (the page's return did it already: never reached)
                continue;
            }
            if (isNotRecoverable(s)) {
                w.fail(futexes.notRecoverable(e));
                return;
            }
            int o = owner(s);
            if (o == tid) {
                w.fail(alreadyOwned(tid, e));
                return;
            }
            if (e.heir != null && !(pi && w.thread.effectivePriority > e.heir.thread.effectivePriority)) {
                // A futex whose woken heir (after a death or an unlock) has not run yet, at the
                // heir's priority or below: wait behind it (a trylock is busy), as on Linux: an
                // equal real-time thread does not steal.
                if (w.trylock) {
                    w.finish(null);
                } else {
                    waits.enqueue(w, e);
                    inheritance.refresh(e);
                }
                return;
            }
            if (o == 0 || e.heir != null) { // OWNER_DIED: free, its last owner died holding it (or a heir not yet run)
                if (e.heir != null) {
                    // A higher thread takes it before the woken heir runs; the heir waits on.
                    env.trace(e.heirDied ? "owner-died-taken-before-heir" : "unlock-taken-before-heir", tid,
                            futexes.futexName(e));
                    heirs.passOverHeir(e);
                }
                boolean died = isOwnerDied(s);
                e.setState(FutexWord.held(tid, waits.mustEnterKernel(e), died));
                waits.acquired(w, e, AcquirePath.FAST_PATH, died);
                inheritance.refresh(e);
                return;
            }
            if (core.tasks.livingThread(o) == null) {
                if (core.tasks.endedHere(o)) {
                    // Its owner ended after the death's scan of what it owned (a fast-path lock that
                    // raced the death): a death the system saw, so OWNER_DIED, passed on as any.
                    futexes.ownerEnded(e, o);
                    continue;
                }
                // A TID of no thread (a task wrote it): Linux's LOCK_PI and TRYLOCK_PI answer ESRCH
                // and leave WAITERS in the word.
                if (!hasWaiters(s) && !e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                    continue;
                }
                w.fail(futexes.noOwner(o, e));
                return;
            }
            // Linux's TRYLOCK_PI on a held futex leaves WAITERS in the word, and LOCK_PI sets it
            // before it finds a deadlock (and leaves it).
            if (!hasWaiters(s) && !e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                continue; // unlocked on the fast path meanwhile: look again
            }
            if (!w.trylock || w.expiredLock()) { // a lock with a past timeout walks the chain too
                if (inheritance.chase(WaitStamp.of(w.thread), e, w.thread.boostedBy.isEmpty() ? -1 : 0) != null) {
                    w.fail(KernelError.of(Errno.EDEADLK, "thread %d would wait for itself: the owner of the futex at "
                            + "offset 0x%x of '%s' waits, through a chain of futexes, for one thread %d owns",
                            tid, e.offset(), futexes.objectName(e), tid));
                    return;
                }
            }
            if (w.trylock) {
                if (w.expiredLock()) {
                    inheritance.queuedForAnInstant(w.thread.effectivePriority, e); // Linux queues it for an instant
                }
                w.finish(null); // busy, or ETIMEDOUT for a lock whose timeout had passed
                return;
            }
            waits.enqueue(w, e);
            inheritance.refresh(e);
            return;
        }
    }

    private KernelError alreadyOwned(int tid, FutexEntry e) {
        return KernelError.of(Errno.EDEADLK, "thread %d already owns the futex at offset 0x%x of '%s'; "
                + "futexes do not nest", tid, e.offset(), futexes.objectName(e));
    }
}
