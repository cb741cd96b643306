package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.FREE;
import static io.machxp.kernel.futex.FutexWord.NOT_RECOVERABLE;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.hasWaiters;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.isOwnerDied;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.futex.WaitQueue;
import io.machxp.kernel.sched.Scheduler;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.PageData;
import java.util.List;

/**
 * The futexes of one kernel: Linux PI-futex semantics for its threads, the futex extension of XP
 * towards the pager (Parts II-IV of the seed mail), priority inheritance within the kernel and
 * through the pager, and robust futexes. Part of the kernel core: core thread only, except the
 * two fast-path CASes made by callers on their own threads.
 *
 * <h2>Overview</h2>
 * This class unlocks futexes for the kernel's threads and passes them on, and is the entry point
 * of the futex parts, each with its own overview: {@link FutexLocks} (vm_lock_futex and
 * vm_trylock_futex), {@link FutexWaits} (a lock's wait: its queue, timeout, leaving, and being
 * handed the futex), {@link FutexGrants} (what the pager grants), {@link FutexRelinquish} (what it
 * asks back), {@link FutexToPager} (what this kernel asks for and gives back),
 * {@link FutexSessionEnds} (a broken stream, a reclaim, a lost pager, shutdown),
 * {@link FutexInheritance} (priority inheritance and deadlock detection), {@link RobustFutexes}
 * (owners that die) and {@link FutexHeirs} (the woken heir of a dead owner's futex). States of a futex here (the encoding is in {@link FutexWord}, the cache states
 * in {@link FutexEntry}):
 * <pre>
 *  vm_lock_futex    FREE, OWNER_DIED -> TID (EOWNERDEAD after a death); held, ABSENT: queued,
 *                                       asked of the pager if ABSENT ({@link FutexLocks})
 *  vm_unlock_futex  TID              -> FREE                     (fast path)
 *                   TID|OWNER_DIED   -> NOT_RECOVERABLE; every waiter fails
 *  grant undone     as vm_unlock_futex, but TID|OWNER_DIED passes on as a death (its caller
 *  (caller gave up)                     gave up as it came: nobody saw EOWNERDEAD; undoGrant)
 *                   TID|WAITERS      -> relinquish pending or Part II: released to the pager,
 *                                       re-asked for if local waiters remain
 *                                    -> else the top local waiter (LOCAL_HANDOFF) or FREE; with
 *                                       PI, a top waiter that cannot run now (or a lease grace)
 *                                       is the woken heir: HEIR|WAITERS, nobody owns it until
 *                                       it runs ({@link FutexHeirs#wakeUnlockHeir})
 *  timeout, cancel  waiting          -> leaves the queue; WAITERS stays in the word (as Linux
 *                                       leaves it), the owner's unlock clears it
 *  timeout 0        (a lock)         -> as a trylock (asks the pager with try), ETIMEDOUT for
 *                                       busy; held here: WAITERS, EDEADLK for a cycle
 *  owner dies, its top waiter cannot run now (or a lease grace holds)
 *                                    -> OWNER_DIED|WAITERS, no owner; that waiter (the heir) is
 *                                       woken and takes it when it runs: after the grace, after a
 *                                       page-in if the page went meanwhile ({@link FutexHeirs})
 *  heir passed over  a higher lock or trylock here, a higher waiter or trylock elsewhere
 *                   (relinquish, relinquish with try carrying its priority), or
 *                   a priority change that puts another waiter here or elsewhere above it (that
 *                   one takes its place, reelect): the heir waits on, or leaves with ETIMEDOUT
 *                   if its timer fired meanwhile; an heir that leaves passes the futex on as the
 *                   death did (with the page elsewhere: the next waiter here is woken at once); a
 *                   page refused to an heir's run fails its lock (EIO), and the next is woken
 * </pre>
 * A lock, unlock or consistent on a futex held here whose page is elsewhere (NOPAGE) first
 * faults the page in writable: the word can change only with the page.
 */
final class KernelFutexes {
    private final KernelCore core;
    private final KernelEnv env;
    private final PageCache pages;
    private final boolean cacheFutexes;
    private final boolean pi;
    private final FutexInheritance inheritance;
    private final FutexGrants grants;
    private final FutexRelinquish relinquish;
    private final FutexToPager toPager;
    private final FutexSessionEnds sessionEnds;
    final FutexForwards forwards;
    private final RobustFutexes robust;
    final FutexWaits waits;
    final FutexHeirs heirs;
    final FutexRewriteRetry rewriteRetry;
    private final FutexLocks locks;

    KernelFutexes(KernelCore core, KernelEnv env, KernelStats stats, PageCache pages, Scheduler scheduler,
            io.machxp.kernel.policy.FutexPolicy policy, boolean pi) {
        this.core = core;
        this.env = env;
        this.pages = pages;
        this.cacheFutexes = policy.cacheFutexes();
        this.pi = pi;
        this.rewriteRetry = new FutexRewriteRetry(core, pages);
        this.inheritance = new FutexInheritance(core, this, env, scheduler, pi);
        this.waits = new FutexWaits(core, this, env, stats, pages, scheduler, inheritance, cacheFutexes, pi);
        FutexHolds holds = new FutexHolds(core, env, policy, inheritance);
        this.forwards = new FutexForwards(core, this);
        this.toPager = new FutexToPager(core, this, pages, holds, forwards, inheritance, policy, pi);
        this.grants = new FutexGrants(core, this, inheritance, pages, holds, forwards, toPager, cacheFutexes);
        this.relinquish = new FutexRelinquish(core, this, inheritance, pages, holds, toPager, pi);
        this.sessionEnds = new FutexSessionEnds(core, this, inheritance, forwards, toPager, pi);
        this.robust = new RobustFutexes(core, this, inheritance, env, pages);
        this.heirs = new FutexHeirs(core, this, env, pages, scheduler, inheritance, relinquish, pi);
        this.locks = new FutexLocks(core, this, env, pages, inheritance, grants, toPager, heirs, waits, pi);
    }

    /** The bound on the futexes this kernel caches (tests look at its work). */
    FutexCacheBound cache() {
        return toPager.cache;
    }

    // ---- requests from tasks ------------------------------------------------------------------

    /** vm_lock_futex / vm_trylock_futex for a validated thread: see {@link FutexLocks#lockRequest}. */
    void lockRequest(MachThread thread, FutexEntry e, long address, long timeoutNanos, boolean trylock,
            Reply<Acquired> reply, String call) {
        locks.lockRequest(thread, e, address, timeoutNanos, trylock, reply, call);
    }

    /** vm_unlock_futex by {@code tid} of the futex {@code e} (null: not tracked here). */
    void unlock(FutexEntry e, int tid, long address, Reply<Void> reply) {
        long s;
        while (true) {
            s = e == null ? ABSENT : e.state();
            if (isAbsent(s) || owner(s) != tid || FutexHeirs.staleHeir(e, s)) { // an unlock's heir that left owns nothing
                reply.fail(KernelError.of(Errno.EPERM, "thread %d does not own the futex at 0x%x, so it cannot unlock it",
                        tid, address));
                return;
            }
            if (isNoPage(s)) {
                // The word can change only with the page: fetch it, then unlock.
                pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE, PageFault.of(() -> {
                    if (core.tasks.livingThread(tid) == null) { // its death passed the futex on meanwhile
                        reply.fail(KernelError.of(Errno.ESRCH, "thread %d ended while its unlock of the futex at "
                                + "0x%x waited for the futex's page", tid, address));
                    } else {
                        unlock(e, tid, address, reply);
                    }
                }, reply::fail));
                return;
            }
            if (!hasWaiters(s) && !isOwnerDied(s)) {
                if (e.compareAndSetState(tid & 0xffffffffL, FREE)) { // the core's CAS: see FutexEntry
                    reply.complete(null);
                    return;
                }
                continue;
            }
            break;
        }
        if (isOwnerDied(s)) {
            // Acquired after an owner died and never marked consistent: nobody can trust it again.
            e.setState(NOT_RECOVERABLE);
            env.trace("not-recoverable", tid, futexName(e));
            waits.failWaiters(e, notRecoverable(e));
            if (e.relinquishPending || givesBackAtUnlock()) {
                toPager.releaseToPager(e, NOT_RECOVERABLE);
            }
        } else {
            passOn(e, false);
        }
        inheritance.refresh(e);
        reply.complete(null);
    }

    /**
     * A grant of a lock or trylock that its caller never learnt of (it gave up as the futex came:
     * its call cancelled at the grant, or vm_unlock_futex with abandoned_lock_seq): undone. A grant
     * without OWNER_DIED is unlocked, as its thread would; one with OWNER_DIED was told to nobody,
     * so it passes on as a death, not as an unlock (which would make it NOT_RECOVERABLE for
     * everyone): see {@link RobustFutexes#grantUndone}. Only {@code grant}: EPERM, changing
     * nothing, unless {@code tid} owns the futex by that grant still (it is the futex's recorded
     * grant in {@link MachThread#grants}, and the thread owns the futex; the owner is read first,
     * the fast path records a grant after its CAS). A null {@code grant}: there is none to undo.
     */
    void undoGrant(FutexEntry e, int tid, long address, io.machxp.kernel.task.FutexGrant grant, Reply<Void> reply) {
        long s = e == null ? ABSENT : e.state();
        MachThread thread = core.tasks.livingThread(tid);
        if (isAbsent(s) || owner(s) != tid || grant == null || thread == null || grant.address() != address
                || !thread.grants.holds(grant)) {
            reply.fail(KernelError.of(Errno.EPERM, "thread %d does not own the futex at 0x%x by the grant of the lock it "
                    + "gave up on (that lock did not get it, or it was undone or unlocked since), so there is nothing to "
                    + "undo", tid, address));
            return;
        }
        if (isNoPage(s)) {
            // OWNER_DIED is read from the word, which can change only with the page: fetch it first.
            pages.withAccess(core.objects.object(e.objectId()), e.offset(), Access.READ_WRITE, PageFault.of(() -> {
                if (core.tasks.livingThread(tid) == null) {
                    reply.fail(KernelError.of(Errno.ESRCH, "thread %d ended while the undoing of its lock of the "
                            + "futex at 0x%x waited for the futex's page", tid, address));
                } else {
                    undoGrant(e, tid, address, grant, reply);
                }
            }, reply::fail));
            return;
        }
        // Used up: a second undo naming the same grant (the kernel's own and the client's both
        // find it when a grant crosses a cancel) must not release a later lock of the same futex,
        // which the task's shared-memory fast path takes without recording a grant.
        thread.grants.useUp(grant);
        if (!isOwnerDied(s)) {
            unlock(e, tid, address, reply);
            return;
        }
        robust.grantUndone(e, tid);
        reply.complete(null);
    }

    /**
     * Ownership leaves a local owner (unlock, or its death): to the pager, a local waiter, or free.
     * The state goes straight from the owner's (which the fast path cannot touch) to the next one:
     * passing through FREE would let a fast-path lock take a futex that is on its way out.
     */
    void passOn(FutexEntry e, boolean ownerDied) {
        // A death leaves the word as Linux's handle_futex_death: its WAITERS stays with OWNER_DIED
        // (a busy trylock or a timed-out lock set it), until the next lock; an unlock leaves 0.
        long left = ownerDied ? FutexWord.deadWord(e.state()) & 0xffffffffL : FREE;
        if ((e.relinquishPending && !localWaiterFirst(e) && !relinquish.holds(e)) || givesBackAtUnlock()) {
            e.releaseHandoff = e.relinquishPending; // to a kernel that waits for it
            toPager.releaseToPager(e, left);
        } else if (!core.plants.handsOffLocally(true) || !waits.handOff(e, AcquirePath.LOCAL_HANDOFF, ownerDied, true)) {
            // A boost kept over a broken stream: the waiter elsewhere still waits, so WAITERS stays
            // in the free word, and the next locker here enters the kernel and is boosted.
            long kept = e.remoteBoostKept ? WAITERS & 0xffffffffL : 0;
            e.setState(left | kept);
        }
    }

    /**
     * Part II gives every futex back at unlock; not while the stream to the pager is down, where
     * a release would be lost: the futex stays here, handed out as a cached one would be, until
     * the kernel has reclaimed it and gives it back ({@link #askAgain}).
     */
    private boolean givesBackAtUnlock() {
        return !cacheFutexes && !core.sessions.disconnected();
    }

    /**
     * With a kernel waiting elsewhere (relinquish pending): whether the top local waiter comes
     * before it - a higher priority, or the same one and blocked before the waiter elsewhere
     * (without PI: blocked before). When the pager said how long the waiter elsewhere has waited,
     * "before" compares when each began waiting (on this kernel's clock); else, when the relinquish
     * came. The futex then goes to that waiter here, and the relinquish stays pending for its
     * unlock; so highest priority first, FIFO among equals, across kernels.
     */
    boolean localWaiterFirst(FutexEntry e) {
        FutexWaiter top = e.waiters.peek(pi, core.plants.arrivalOrderAmongEquals(true));
        if (top == null) {
            return false;
        }
        int local = pi ? top.thread.effectivePriority : 0;
        int remote = pi ? e.remotePriority : 0;
        if (local != remote) {
            return local > remote;
        }
        return e.remoteSinceKnown ? top.sinceNanos < e.remoteSinceNanos : WaitQueue.before(top, e.remoteSince);
    }

    /** The caller of a blocked vm_lock_futex went away, or the thread ended: see {@link FutexWaits#abandon}. */
    void abandon(FutexWaiter w, KernelError error) {
        waits.abandon(w, error);
    }

    /** vm_futex_consistent: see {@link RobustFutexes#markConsistent}. */
    void markConsistent(FutexEntry e, int tid, long address, Reply<Void> reply) {
        robust.markConsistent(e, tid, address, reply);
    }

    /** Task {@code task} ended, its threads first: see {@link FutexShares#taskEnded}. */
    void taskEnded(io.machxp.kernel.task.MachTask task) {
        toPager.shares.taskEnded(task);
    }

    /** The client peers' shares of the futexes this kernel asks for and holds. */
    FutexShares shares() {
        return toPager.shares;
    }

    /** Thread {@code t} ended: see {@link RobustFutexes#threadEnded}. */
    void threadEnded(MachThread t, KernelError error) {
        robust.threadEnded(t, error);
    }

    /** A thread's base priority changed (thread_set_priority). */
    void ipcDonationsChanged(MachThread t) {
        inheritance.ipcDonationsChanged(t);
    }

    void basePriorityChanged(MachThread t) {
        inheritance.basePriorityChanged(t);
    }

    // ---- messages from the pager and session events (FutexGrants, FutexRelinquish, FutexSessionEnds) --

    void onFutexGranted(FutexEntry e, VmObject o, List<PageData> withPages, long fencingToken, boolean ownerDied,
            int staleHeirTid) {
        grants.onFutexGranted(e, o, withPages, fencingToken, ownerDied, staleHeirTid);
    }

    void onFutexBusy(FutexEntry e) {
        grants.onFutexBusy(e);
    }
    void onRelinquishTry(FutexEntry e, int priority) {
        relinquish.onRelinquishTry(e, priority);
    }

    void onRelinquishFutex(FutexEntry e, int priority) {
        relinquish.onRelinquishFutex(e, priority, false, -1);
    }

    /**
     * relinquish_futex, {@code requeued}: the waiter elsewhere just changed priority; it has waited
     * {@code waitedNanos} (-1: the pager did not say) (FutexRelinquish).
     */
    void onRelinquishFutex(FutexEntry e, int priority, boolean requeued, long waitedNanos) {
        relinquish.onRelinquishFutex(e, priority, requeued, waitedNanos);
    }

    void onFutexProbe(FutexEntry e, MemoryObjectFutexProbe p) {
        inheritance.onFutexProbe(e, p);
    }

    void forgetFutex(FutexEntry e, KernelError error) {
        sessionEnds.forgetFutex(e, error);
    }
    void streamBroken(FutexEntry e) {
        sessionEnds.streamBroken(e);
    }

    /** The session's reclaim was welcomed: see {@link FutexSessionEnds#reclaimed}. */
    void reclaimed(FutexEntry e) {
        sessionEnds.reclaimed(e);
    }

    /** After a reclaim: asks again for what was awaited; Part II gives back what it kept meanwhile. */
    void askAgain(FutexEntry e) {
        sessionEnds.askAgain(e);
        if (!cacheFutexes) {
            sessionEnds.giveBackKept(e);
        }
    }

    void giveBackAtShutdown(FutexEntry e) {
        sessionEnds.giveBackAtShutdown(e);
    }

    // ---- helpers, also for the other futex parts ----------------------------------------------

    /** The heir is passed over: see {@link FutexHeirs#passOverHeir}. */
    void passOverHeir(FutexEntry e) {
        heirs.passOverHeir(e);
    }

    /** A waiter of {@code e} changed priority: see {@link FutexHeirs#reelect}. */
    void reelect(FutexEntry e) {
        heirs.reelect(e);
    }

    /**
     * FUTEX_WAITERS off again once nothing waits for {@code e}, here or elsewhere (a relinquish
     * pending, or a boost kept over a broken stream: while one is kept the owner's unlock must
     * enter the kernel, which ends the boost with the ownership), so the fast path takes it again.
     */
    void clearWaitersIfNoneLeft(FutexEntry e) {
        long s = e.state();
        if (!isAbsent(s) && hasWaiters(s) && e.waiters.isEmpty() && !e.relinquishPending && !e.remoteBoostKept
                && cacheFutexes && !deadOwnersWord(s)) {
            e.compareAndSetState(s, s & ~(WAITERS & 0xffffffffL));
        }
    }

    /** A free word a dead owner left: its WAITERS stays to the next lock, as on Linux ({@link FutexWord#deadWord}). */
    private static boolean deadOwnersWord(long s) {
        return owner(s) == 0 && isOwnerDied(s) && !FutexWord.isNotRecoverable(s);
    }

    /**
     * Nobody here can unlock the futex: it is free, or its word names no thread (a task wrote it;
     * it leaves with the word as it is, and lockers anywhere get ESRCH).
     */
    boolean unownedHere(long s) {
        int o = owner(s);
        return o == 0 || core.tasks.livingThread(o) == null && !core.tasks.endedHere(o);
    }

    /** A thread of this kernel that ended still owns {@code e}: OWNER_DIED, passed on. */
    void ownerEnded(FutexEntry e, int tid) {
        robust.ownerDied(e, tid);
    }

    /** ESRCH: the word names an owner that is no thread (Linux: LOCK_PI and TRYLOCK_PI). */
    KernelError noOwner(int owner, FutexEntry e) {
        return KernelError.of(Errno.ESRCH, "the futex at offset 0x%x of '%s' names owner %d, which is no thread: "
                + "its word was written over; only a write of 0 (or a new futex) makes it usable again",
                e.offset(), objectName(e), owner);
    }

    KernelError notRecoverable(FutexEntry e) {
        return KernelError.of(Errno.ENOTRECOVERABLE, "the futex at offset 0x%x of '%s' is not recoverable: an owner "
                + "died holding it and the next owner unlocked it without vm_futex_consistent; "
                + "initialize a new one", e.offset(), objectName(e));
    }

    String objectName(FutexEntry e) {
        VmObject o = core.objects.object(e.objectId());
        return o == null ? "?" : o.name;
    }

    String futexName(FutexEntry e) {
        return objectName(e) + "+0x" + Long.toHexString(e.offset());
    }
}
