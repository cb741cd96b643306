package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.FREE;
import static io.machxp.kernel.futex.FutexWord.NOPAGE;
import static io.machxp.kernel.futex.FutexWord.NOT_RECOVERABLE;
import static io.machxp.kernel.futex.FutexWord.OWNER_DIED;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.hasWaiters;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.isNotRecoverable;
import static io.machxp.kernel.futex.FutexWord.isOwnerDied;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.sched.Scheduler;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PageData;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The futexes of one kernel: Linux PI-futex semantics for its threads, the futex extension of XP
 * towards the pager (Parts II-IV of the seed mail), priority inheritance within the kernel and
 * through the pager, and robust futexes. Part of the kernel core: core thread only, except the
 * two fast-path CASes made by callers on their own threads.
 *
 * <h2>Overview</h2>
 * States of a futex (the encoding is in {@link FutexWord}, the cache states in {@link FutexEntry}):
 * <pre>
 *  vm_lock_futex    FREE             -> TID                      (fast path, or here after a race)
 *                   OWNER_DIED       -> TID|OWNER_DIED, EOWNERDEAD
 *                   NOT_RECOVERABLE  -> ENOTRECOVERABLE
 *                   held by another  -> enqueue, set WAITERS, boost the owner (EDEADLK if the
 *                                       owners' chain leads back to the caller)
 *                   ABSENT           -> enqueue; lock_futex(top priority) unless one is out,
 *                                       else a priority update if the top changed
 *  futex_granted    ABSENT           -> the page's word decides: top waiter's TID (PAGER_GRANT,
 *                                       with EOWNERDEAD if the word says an owner died), or kept;
 *                                       without its page: FREE|NOPAGE (grantAwaitsPage) until
 *                                       the page-in, or until a lock that gets the page first
 *                                       finds no waiter left; if the pager refuses the page the
 *                                       waiters fail
 *  vm_unlock_futex  TID              -> FREE                     (fast path)
 *                   TID|OWNER_DIED   -> NOT_RECOVERABLE; every waiter fails
 *                   TID|WAITERS      -> relinquish pending or Part II: released to the pager,
 *                                       re-asked for if local waiters remain
 *                                    -> else the top local waiter (LOCAL_HANDOFF) or FREE
 *  relinquish(p)    nobody owns it   -> ABSENT, futex_released at once, carrying the page (with
 *                                       piggyback also the pages written under the futex)
 *                   held             -> relinquish pending, WAITERS set (the page fetched back
 *                                       writable if it is only readable here), owner boosted to p
 *  owner ends       TID              -> as unlock, with OWNER_DIED passed to the next owner, or
 *                                       OWNER_DIED left in the word (robust futexes)
 *  vm_futex_consistent TID|OWNER_DIED -> TID
 * </pre>
 *
 * <p>Priority inheritance (unless disabled, --no-pi): local waiters are served highest effective
 * priority first, FIFO among equals; a futex's owner runs at the maximum of its base priority,
 * its local waiters' effective priorities and the priority the pager sent with relinquish_futex
 * (the highest waiting on other kernels). A boost flows on along the chain: a boosted owner that
 * waits for another futex raises that futex's owner here, or the priority its kernel asks the
 * pager with. Deboosting follows every unlock, timeout and cancellation the same way.
 *
 * <p>Deadlocks: a lock whose chain of owners leads back to the caller fails with EDEADLK. Within
 * the kernel the chain is followed at once; where it reaches a futex held by another kernel a
 * probe follows it there through the pager (edge chasing), and the kernel of the caller, the only
 * one that can find the caller as an owner, fails its wait when the probe comes back.
 */
final class KernelFutexes {
    private final KernelCore core;
    private final KernelEnv env;
    private final KernelStats stats;
    private final PageCache pages;
    private final Scheduler scheduler;
    private final boolean cacheFutexes;
    private final boolean piggyback;
    private final boolean pi;

    KernelFutexes(KernelCore core, KernelEnv env, KernelStats stats, PageCache pages, Scheduler scheduler,
            boolean cacheFutexes, boolean piggyback, boolean pi) {
        this.core = core;
        this.env = env;
        this.stats = stats;
        this.pages = pages;
        this.scheduler = scheduler;
        this.cacheFutexes = cacheFutexes;
        this.piggyback = piggyback;
        this.pi = pi;
    }

    // ---- requests from tasks ------------------------------------------------------------------

    /** vm_lock_futex / vm_trylock_futex for a validated thread, not blocked in another call. */
    void lockRequest(MachThread thread, FutexEntry e, long address, long timeoutNanos, boolean trylock,
            Reply<Acquired> reply, String call) {
        FutexWaiter w = new FutexWaiter(thread, trylock, reply);
        thread.waitNumber++;
        thread.blockedIn = call;
        thread.waiter = w;
        if (timeoutNanos >= 0) {
            w.timeout = env.schedule(timeoutNanos, () -> abandon(w, KernelError.of(Errno.ETIMEDOUT,
                    "the futex at 0x%x was not acquired by thread %d before its timeout", address, thread.tid)));
        }
        if (cacheFutexes && isAbsent(e.state())) {
            lock(w, e); // ask for the futex first: its page usually comes with the grant
        } else {
            lockWithPage(w, e);
        }
    }

    /** Runs {@code lock} once the futex's page is writable here (Part III: page-in first). */
    private void lockWithPage(FutexWaiter w, FutexEntry e) {
        pages.withAccess(core.object(e.objectId()), e.offset(), Access.READ_WRITE, PageFault.of(() -> {
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
                if (owner(s) == tid) {
                    w.fail(alreadyOwned(tid, e));
                    return;
                }
                if (e.page.access == Access.READ_WRITE) {
                    // FREE | NOPAGE with the page here: a grant whose page-in has not run yet.
                    assert owner(s) == 0 && e.grantAwaitsPage : "a futex without its word: " + e;
                    if (e.waiters.isEmpty()) {
                        serveAwaitedGrant(e); // every waiter it came for has left: kept, or given back
                        continue;
                    }
                    // Its waiters come first: wait in line behind them.
                    if (w.trylock) {
                        w.finish(null);
                    } else {
                        enqueue(w, e);
                    }
                    return;
                }
                lockWithPage(w, e); // held here, page elsewhere: the word can change only with the page
                return;
            }
            if (s == FREE) {
                if (e.tryFastLock(tid)) {
                    acquired(w, e, AcquirePath.FAST_PATH, false);
                    return;
                }
                continue;
            }
            if (isAbsent(s)) {
                if (core.pagerLost()) {
                    w.fail(core.pagerError());
                    return;
                }
                boolean idle = e.request == FutexEntry.Request.NONE && e.waiters.isEmpty();
                if (w.trylock && !idle) {
                    w.finish(null);
                    return;
                }
                enqueue(w, e);
                pages.markWaiters(e);
                if (e.request == FutexEntry.Request.NONE) {
                    askPager(e, w.trylock ? FutexEntry.Request.TRY : FutexEntry.Request.LOCK);
                } else {
                    updatePagerPriority(e);
                }
                probe(w.thread); // a cycle through other kernels?
                return;
            }
            // Live here and not FREE: the fast path cannot change it, except the owner's unlock.
            if (isNotRecoverable(s)) {
                w.fail(notRecoverable(e));
                return;
            }
            int o = owner(s);
            if (o == tid) {
                w.fail(alreadyOwned(tid, e));
                return;
            }
            if (o == 0) { // OWNER_DIED: free, its last owner died holding it
                boolean died = isOwnerDied(s);
                e.setState(FutexWord.held(tid, mustEnterKernel(e), died));
                acquired(w, e, AcquirePath.FAST_PATH, died);
                refresh(e);
                return;
            }
            if (core.livingThread(o) == null) {
                // A TID of no living thread here: its owner died (or the word was written over).
                e.compareAndSetState(s, (s & (WAITERS & 0xffffffffL)) | OWNER_DIED);
                continue;
            }
            if (w.trylock) {
                w.finish(null);
                return;
            }
            if (chase(tid, w.thread.waitNumber, e, w.thread.boostedBy.isEmpty() ? -1 : 0)) {
                w.fail(KernelError.of(Errno.EDEADLK, "thread %d would wait for itself: the owner of the futex at "
                        + "offset 0x%x of '%s' waits, through a chain of futexes, for one thread %d owns",
                        tid, e.offset(), objectName(e), tid));
                return;
            }
            if (hasWaiters(s) || e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                enqueue(w, e);
                refresh(e);
                return;
            }
            // The owner unlocked on the fast path meanwhile: look again.
        }
    }

    /** vm_unlock_futex by {@code tid} of the futex {@code e} (null: not tracked here). */
    void unlock(FutexEntry e, int tid, long address, Reply<Void> reply) {
        long s;
        while (true) {
            s = e == null ? ABSENT : e.state();
            if (isAbsent(s) || owner(s) != tid) {
                reply.fail(KernelError.of(Errno.EPERM, "thread %d does not own the futex at 0x%x, so it cannot unlock it",
                        tid, address));
                return;
            }
            if (isNoPage(s)) {
                // The word can change only with the page: fetch it, then unlock.
                pages.withAccess(core.object(e.objectId()), e.offset(), Access.READ_WRITE,
                        PageFault.of(() -> unlock(e, tid, address, reply), reply::fail));
                return;
            }
            if (!hasWaiters(s) && !isOwnerDied(s)) {
                if (e.tryFastUnlock(tid)) {
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
            failWaiters(e, notRecoverable(e));
            if (e.relinquishPending || !cacheFutexes) {
                releaseToPager(e, NOT_RECOVERABLE);
            }
        } else {
            passOn(e, false);
        }
        refresh(e);
        reply.complete(null);
    }

    /**
     * Ownership leaves a local owner (unlock, or its death): to the pager, a local waiter, or free.
     * The state goes straight from the owner's (which the fast path cannot touch) to the next one:
     * passing through FREE would let a fast-path lock take a futex that is on its way out.
     */
    private void passOn(FutexEntry e, boolean ownerDied) {
        if (e.relinquishPending || !cacheFutexes) {
            releaseToPager(e, ownerDied ? OWNER_DIED : FREE);
        } else if (!handOff(e, AcquirePath.LOCAL_HANDOFF, ownerDied)) {
            e.setState(ownerDied ? OWNER_DIED : FREE);
        }
    }

    /** vm_futex_consistent: the owner repaired what the dead owner left; OWNER_DIED goes. */
    void markConsistent(FutexEntry e, int tid, long address, Reply<Void> reply) {
        long s = e == null ? ABSENT : e.state();
        if (isAbsent(s) || owner(s) != tid || !isOwnerDied(s)) {
            reply.fail(KernelError.of(Errno.EINVAL, "thread %d does not own the futex at 0x%x after an owner's death; "
                    + "vm_futex_consistent is for the thread whose lock answered owner_died", tid, address));
            return;
        }
        if (isNoPage(s)) {
            pages.withAccess(core.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> markConsistent(e, tid, address, reply), reply::fail));
            return;
        }
        e.setState(s & ~(OWNER_DIED & 0xffffffffL));
        reply.complete(null);
    }

    /**
     * The caller of a blocked vm_lock_futex went away, or the thread ended: the thread stops
     * waiting, as on a timeout. A thread that already got the futex keeps it.
     */
    void abandon(FutexWaiter w, KernelError error) {
        if (w.done()) {
            return;
        }
        FutexEntry e = w.entry;
        if (e != null) {
            e.waiters.remove(w);
            clearWaitersIfNoneLeft(e);
        }
        w.fail(error);
        if (e != null) {
            refresh(e); // deboosts the owner here, or lowers the priority asked of the pager
        }
    }

    // ---- robust futexes -----------------------------------------------------------------------

    /**
     * Thread {@code t} ended (terminated, its task ended, its client went away): it stops waiting,
     * and every futex it owns passes on with OWNER_DIED - to the next local waiter, to another
     * kernel through the pager (the word travels in the page), or left free with OWNER_DIED.
     */
    void threadEnded(MachThread t, KernelError error) {
        if (t.waiter != null) {
            abandon(t.waiter, error);
        }
        List<FutexEntry> owned = new ArrayList<>();
        core.forEachFutex(e -> {
            if (!isAbsent(e.state()) && owner(e.state()) == t.tid) {
                owned.add(e);
            }
        });
        owned.forEach(e -> ownerDied(e, t.tid));
        for (FutexEntry e : List.copyOf(t.boostedBy)) {
            e.boosting = null; // its owner-death waits for the page: nobody to boost meanwhile
        }
        t.boostedBy.clear();
    }

    private void ownerDied(FutexEntry e, int tid) {
        long s = e.state();
        if (isAbsent(s) || owner(s) != tid) {
            return; // passed on meanwhile
        }
        if (isNoPage(s)) {
            pages.withAccess(core.object(e.objectId()), e.offset(), Access.READ_WRITE,
                    PageFault.of(() -> ownerDied(e, tid), error -> { /* the pager is gone: forgetFutex fails it */ }));
            return;
        }
        // Take it from the fast path first: a plain TID could still be unlocked by a late call.
        if (!e.compareAndSetState(s, (s & (WAITERS & 0xffffffffL)) | OWNER_DIED)) {
            return; // unlocked on the fast path after all
        }
        env.trace("owner-died", tid, futexName(e));
        passOn(e, true);
        refresh(e);
    }

    // ---- messages from the pager --------------------------------------------------------------

    void onFutexGranted(FutexEntry e, VmObject o, List<PageData> withPages, long fencingToken, boolean ownerDied) {
        e.fencingToken = fencingToken;
        e.ownerDiedAtGrant = ownerDied;
        List<VmPage> installed = new ArrayList<>();
        for (PageData d : withPages) {
            if (d.getOffset() < 0 || d.getOffset() % o.pageSize != 0 || d.getOffset() >= o.size
                    || d.getData().size() != o.pageSize) {
                core.violation("a page granted with a futex that it cannot use", o.objectId, d.getOffset());
                continue;
            }
            VmPage p = pages.installGranted(o, d);
            if (p != null) {
                installed.add(p);
            }
        }
        e.request = FutexEntry.Request.NONE;
        e.grantedAt = pages.writeSequence();
        if (e.page.access == Access.READ_WRITE) {
            serveGrant(e, pages.grantedWord(e));
        } else if (e.waiters.isEmpty()) {
            // Nobody waits: keep it (its word is wherever the page is), or give it back (Part II).
            if (cacheFutexes) {
                e.setState(FREE | NOPAGE);
            } else {
                sendReleased(e);
            }
        } else {
            // A waiter gets it once the page is writable here; until then it counts as held.
            e.setState(FREE | NOPAGE);
            e.grantAwaitsPage = true;
            pages.withAccess(o, e.offset(), Access.READ_WRITE, PageFault.of(() -> serveAwaitedGrant(e),
                    error -> pageRefused(e, error)));
        }
        installed.forEach(pages::resume);
    }

    /**
     * Serves a grant that waited for its page, once: from its page-in, or from a lock that got the
     * page first. To a waiter, else kept or given back. Nothing if it was served or has left.
     */
    private void serveAwaitedGrant(FutexEntry e) {
        if (!e.grantAwaitsPage) {
            return;
        }
        long s = e.state();
        assert isNoPage(s) && !isAbsent(s) && owner(s) == 0 : "a grant awaiting its page, not FREE|NOPAGE: " + e;
        e.grantAwaitsPage = false;
        serveGrant(e, pages.grantedWord(e));
    }

    /**
     * The page a grant waited for did not come (memory_object_data_error, or the pager is gone):
     * the waiters fail with that error. The futex stays here, FREE with its word in the page,
     * unless the pager wants it back or Part II gives every futex back.
     */
    private void pageRefused(FutexEntry e, KernelError error) {
        if (!e.grantAwaitsPage) {
            return; // that grant has left (or was served): who waits now, waits for the futex
        }
        e.grantAwaitsPage = false;
        failWaiters(e, error);
        long s = e.state();
        if (core.pagerLost() || !isNoPage(s) || isAbsent(s) || owner(s) != 0) {
            return; // the pager is gone (forgetFutex cleans up), or the futex has moved on
        }
        if (!cacheFutexes || e.relinquishPending) {
            e.setState(ABSENT);
            sendReleased(e);
        }
    }

    /**
     * A granted futex whose page is writable here, still in a state the fast path cannot take
     * (ABSENT, or FREE | NOPAGE): the word the last owner left in the page decides. To the top
     * local waiter (with EOWNERDEAD if the word says its owner died), else kept or given back.
     */
    private void serveGrant(FutexEntry e, int pageWord) {
        int word = FutexWord.unownedWord(pageWord);
        if (word == NOT_RECOVERABLE) {
            e.setState(NOT_RECOVERABLE);
            failWaiters(e, notRecoverable(e));
        } else if (handOff(e, AcquirePath.PAGER_GRANT, word == OWNER_DIED)) {
            answerTrylocks(e); // another got it: a trylock does not wait for it
            refresh(e);
            return;
        }
        if (cacheFutexes && !e.relinquishPending) {
            e.setState(word & 0xffffffffL); // Part III: keep it
            return;
        }
        e.setState(ABSENT);
        pages.leaveWord(e, word);
        sendReleased(e);
    }

    void onFutexBusy(FutexEntry e) {
        e.request = FutexEntry.Request.NONE;
        answerTrylocks(e);
        if (!e.waiters.isEmpty()) {
            askPager(e, FutexEntry.Request.LOCK);
        }
    }

    /** relinquish_futex: another kernel waits, at {@code priority}; sent again when that changes. */
    void onRelinquishFutex(FutexEntry e, int priority) {
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return; // crossed with our own release: nothing to give back
            }
            if (isLive(s) && owner(s) == 0) {
                if (giveBack(e, s)) {
                    return;
                }
                continue;
            }
            if (isNoPage(s) && owner(s) == 0) {
                if (e.waiters.isEmpty()) {
                    e.setState(ABSENT); // its word is already where the page is
                    sendReleased(e);
                } else {
                    e.relinquishPending = true; // one waiter gets it first, when the page is here
                    e.remotePriority = priority;
                }
                return;
            }
            // A local thread holds it: give it back when that thread unlocks (Part IV), and
            // meanwhile let the owner run at the priority waiting elsewhere.
            e.relinquishPending = true;
            e.remotePriority = priority;
            if (hasWaiters(s)) {
                refresh(e);
                return;
            }
            if (e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                if (isNoPage(s)) {
                    // The word every kernel reads is in a page not writable here: fetch it, so
                    // that WAITERS reaches the word (the owner's unlock needs the page anyway).
                    pages.withAccess(core.object(e.objectId()), e.offset(), Access.READ_WRITE,
                            PageFault.of(() -> { }, error -> { }));
                }
                refresh(e);
                return;
            }
        }
    }

    /** The pager is gone: waiters fail, and held futexes are forgotten once their owners unlock. */
    void forgetFutex(FutexEntry e, KernelError error) {
        e.grantAwaitsPage = false;
        failWaiters(e, error);
        e.request = FutexEntry.Request.NONE;
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return;
            }
            if (owner(s) == 0) {
                if (e.compareAndSetState(s, ABSENT)) {
                    refresh(e);
                    return;
                }
                continue;
            }
            // Held: the owner's unlock must come here, where it finds the futex gone.
            e.relinquishPending = true;
            if (hasWaiters(s) || e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                return;
            }
        }
    }

    /**
     * The stream to the pager broke and the kernel will reclaim what it holds from a pager that
     * may have restarted: a relinquish the old pager asked for is void (the new one asks again if
     * others wait), so an owner's unlock keeps the futex here instead of releasing it into a
     * stream that is gone. Local waiters keep waiting; their lock_futex is asked again.
     */
    void streamBroken(FutexEntry e) {
        if (e.relinquishPending) {
            e.relinquishPending = false;
            e.remotePriority = 0;
            clearWaitersIfNoneLeft(e);
            refresh(e);
        }
    }

    /** After a reclaim: the lock_futex this kernel was waiting for an answer to, asked again. */
    void askAgain(FutexEntry e) {
        if (e.request != FutexEntry.Request.NONE) {
            askPager(e, e.request);
        }
    }

    // ---- priority inheritance -----------------------------------------------------------------

    /** A thread's base priority changed (thread_set_priority). */
    void basePriorityChanged(MachThread t) {
        update(t);
    }

    /**
     * After anything that changes who owns {@code e} or who waits for it: the owner it boosts,
     * and the priority this kernel waits with at the pager.
     */
    private void refresh(FutexEntry e) {
        MachThread owner = ownerHere(e);
        MachThread target = !e.waiters.isEmpty() || e.relinquishPending ? owner : null;
        MachThread old = e.boosting;
        if (old != target) {
            e.boosting = target;
            if (old != null) {
                old.boostedBy.remove(e);
                update(old);
            }
            if (target != null) {
                target.boostedBy.add(e);
                probe(target); // someone now waits for what it owns: a cycle if its own wait leads back
            }
        }
        if (target != null) {
            update(target);
        }
        updatePagerPriority(e);
    }

    /** Recomputes a thread's effective priority; a change moves it on its CPU and along its wait. */
    private void update(MachThread t) {
        if (!pi) {
            return;
        }
        int effective = t.basePriority;
        for (FutexEntry f : t.boostedBy) {
            effective = Math.max(effective, Math.max(f.waiters.topPriority(), f.relinquishPending ? f.remotePriority : 0));
        }
        if (effective == t.effectivePriority) {
            return;
        }
        env.trace(effective > t.effectivePriority ? "boost" : "deboost", t.tid,
                t.effectivePriority + " -> " + effective);
        t.effectivePriority = effective;
        scheduler.priorityChanged(t);
        if (t.waiter != null && t.waiter.entry != null) {
            refresh(t.waiter.entry);
        }
    }

    /**
     * While a lock_futex is out: tell the pager when the top local waiter's priority changed, and
     * priority 0 when the last waiter left (timed out, cancelled, ended), so the owner elsewhere is
     * deboosted. The request itself stays out; a grant nobody waits for is kept or given back.
     */
    private void updatePagerPriority(FutexEntry e) {
        if (!pi || e.request != FutexEntry.Request.LOCK || !isAbsent(e.state())) {
            return;
        }
        int top = e.waiters.topPriority();
        if (top != e.requestedPriority) {
            e.requestedPriority = top;
            core.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(e.objectId()).setOffset(e.offset()).setPriority(top).setUpdate(true)).build());
        }
    }

    /**
     * Deadlock detection: follows the owners' waits from futex {@code e}, for the wait number
     * {@code wait} of thread {@code initiator}. True if the chain comes back to the initiator (a
     * cycle: the caller fails that wait with EDEADLK). A chain that reaches a futex this kernel
     * does not hold goes on at its holder: a memory_object_futex_probe through the pager, with
     * {@code hops} so far; none if {@code hops} is negative (a local check only).
     */
    private boolean chase(int initiator, long wait, FutexEntry e, int hops) {
        for (int step = 0; e != null && step < 1_000_000; step++) {
            long s = e.state();
            if (isAbsent(s)) {
                if (e.request == FutexEntry.Request.LOCK && hops >= 0) {
                    core.send(KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                            .setObjectId(e.objectId()).setOffset(e.offset()).setInitiator(initiator).setWait(wait)
                            .setHops(hops)).build());
                }
                return false;
            }
            MachThread owner = ownerHere(e);
            if (owner == null) {
                return false;
            }
            if (owner.tid == initiator) {
                return true;
            }
            FutexWaiter w = owner.waiter;
            e = w == null || w.trylock ? null : w.entry;
        }
        return false;
    }

    /**
     * Thread {@code t} waits and owns a futex someone waits for: it may close a cycle through
     * other kernels, so its chain of waits is followed (a probe where it leaves the kernel). A
     * thread that owns nothing waited for cannot be in a cycle, which spares a message per wait.
     */
    private void probe(MachThread t) {
        FutexWaiter w = t.waiter;
        if (w != null && !w.trylock && w.entry != null && !t.boostedBy.isEmpty()
                && chase(t.tid, t.waitNumber, w.entry, 0)) {
            deadlock(t);
        }
    }

    private void deadlock(MachThread t) {
        env.trace("deadlock", t.tid, futexName(t.waiter.entry));
        abandon(t.waiter, KernelError.of(Errno.EDEADLK, "thread %d would wait for itself: the futex at offset "
                + "0x%x of '%s' is held, through a chain of futexes across kernels, by a thread that waits for "
                + "one thread %d owns", t.tid, t.waiter.entry.offset(), objectName(t.waiter.entry), t.tid));
    }

    /** memory_object_futex_probe: a chain of waits from another kernel reached a futex held here. */
    void onFutexProbe(FutexEntry e, MemoryObjectFutexProbe p) {
        if (!chase(p.getInitiator(), p.getWait(), e, p.getHops())) {
            return;
        }
        MachThread t = core.livingThread(p.getInitiator());
        // A wait still faulting its page in waits for no futex yet (it sent no probe): no cycle.
        if (t != null && t.waiter != null && t.waiter.entry != null && t.waitNumber == p.getWait()) {
            deadlock(t);
        }
    }

    private MachThread ownerHere(FutexEntry e) {
        long s = e.state();
        return isAbsent(s) || owner(s) == 0 ? null : core.livingThread(owner(s));
    }

    // ---- helpers ------------------------------------------------------------------------------

    private void enqueue(FutexWaiter w, FutexEntry e) {
        w.entry = e;
        e.waiters.add(w);
    }

    private void acquired(FutexWaiter w, FutexEntry e, AcquirePath path, boolean ownerDied) {
        stats.acquired(path);
        w.finish(new Acquired(path, ownerDied, e.fencingToken));
    }

    /** Whether an owner's unlock must come to the core (WAITERS in the word). */
    private boolean mustEnterKernel(FutexEntry e) {
        return !e.waiters.isEmpty() || !cacheFutexes || e.relinquishPending;
    }

    /** Gives a futex this kernel holds to its top local waiter; false if nobody waits. */
    private boolean handOff(FutexEntry e, AcquirePath path, boolean ownerDied) {
        FutexWaiter w = e.waiters.poll(pi);
        if (w == null) {
            return false;
        }
        assert !w.done() : "a waiter that was answered is still queued";
        e.setState(FutexWord.held(w.thread.tid, mustEnterKernel(e), ownerDied));
        if (ownerDied) {
            env.trace("owner-died-handoff", w.thread.tid, futexName(e));
        }
        acquired(w, e, path, ownerDied);
        return true;
    }

    /**
     * Gives the futex back to the pager, leaving {@code word} in its page (FREE, OWNER_DIED or
     * NOT_RECOVERABLE), and asks again if local threads still wait. Called from a state the fast
     * path cannot act on.
     */
    private void releaseToPager(FutexEntry e, long word) {
        assert isLive(e.state()) && e.state() != FREE : "released without its page, or racing the fast path: " + e;
        e.setState(ABSENT);
        pages.leaveWord(e, word);
        sendReleased(e);
        answerTrylocks(e);
        if (!e.waiters.isEmpty()) {
            askPager(e, FutexEntry.Request.LOCK);
        }
    }

    /** Trylocks still queued when the futex went to another thread or back to the pager: busy. */
    private void answerTrylocks(FutexEntry e) {
        List<FutexWaiter> tries = new ArrayList<>();
        for (Iterator<FutexWaiter> it = e.waiters.iterator(); it.hasNext(); ) {
            FutexWaiter w = it.next();
            if (w.trylock) {
                it.remove();
                tries.add(w);
            }
        }
        if (!tries.isEmpty()) {
            clearWaitersIfNoneLeft(e);
            tries.forEach(w -> w.finish(null));
        }
    }

    /**
     * At shutdown, once its threads have ended (nobody here owns a futex): a futex held here goes
     * back to the pager with its word in its page, and with owner_died if its grant said so and
     * the word never got it (its page never came).
     */
    void giveBackAtShutdown(FutexEntry e) {
        long s = e.state();
        if (!isAbsent(s) && owner(s) == 0) {
            giveBack(e, s); // the fast path of an ended thread is closed: nothing races this
        }
    }

    /**
     * A futex nobody here owns leaves for the pager: ABSENT, its word into its page (if the page
     * is writable here), futex_released. False if the fast path took it first.
     */
    private boolean giveBack(FutexEntry e, long s) {
        if (!e.compareAndSetState(s, ABSENT)) {
            return false;
        }
        pages.leaveWord(e, s);
        sendReleased(e);
        return true;
    }

    private void sendReleased(FutexEntry e) {
        e.grantAwaitsPage = false;
        e.relinquishPending = false;
        e.remotePriority = 0;
        MemoryObjectFutexReleased.Builder released = MemoryObjectFutexReleased.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setFencingToken(e.fencingToken)
                .setOwnerDied(e.ownerDiedAtGrant); // the word never had it recorded: the next grant will
        e.ownerDiedAtGrant = false;
        if (cacheFutexes) {
            // The futex leaves for another kernel (or for good): its own page goes with it, the
            // next owner writes the word there. With piggyback, so do the pages dirtied under it.
            int word = e.page.resident() ? pages.wordInPage(e) & ~WAITERS : 0;
            List<PageData> taken = pages.takeForRelease(core.object(e.objectId()), e, piggyback);
            released.addAllPages(taken);
            if ((word == OWNER_DIED || word == NOT_RECOVERABLE)
                    && taken.stream().noneMatch(d -> d.getOffset() == e.page.pageOffset)) {
                // A death recorded only in a page that stays here: should this kernel die before the
                // page goes back, the pager still tells the next owner.
                released.setOwnerDied(true);
            }
        }
        core.send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(released).build());
    }

    private void askPager(FutexEntry e, FutexEntry.Request kind) {
        e.request = kind;
        e.requestedPriority = pi ? e.waiters.topPriority() : 0;
        core.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setTry(kind == FutexEntry.Request.TRY)
                .setPriority(e.requestedPriority)).build());
    }

    private void failWaiters(FutexEntry e, KernelError error) {
        for (FutexWaiter w; (w = e.waiters.poll(false)) != null; ) {
            w.fail(error);
        }
    }

    private void clearWaitersIfNoneLeft(FutexEntry e) {
        long s = e.state();
        if (!isAbsent(s) && hasWaiters(s) && e.waiters.isEmpty() && !e.relinquishPending && cacheFutexes) {
            e.compareAndSetState(s, s & ~(WAITERS & 0xffffffffL));
        }
    }

    private KernelError alreadyOwned(int tid, FutexEntry e) {
        return KernelError.of(Errno.EDEADLK, "thread %d already owns the futex at offset 0x%x of '%s'; "
                + "futexes do not nest", tid, e.offset(), objectName(e));
    }

    private KernelError notRecoverable(FutexEntry e) {
        return KernelError.of(Errno.ENOTRECOVERABLE, "the futex at offset 0x%x of '%s' is not recoverable: an owner "
                + "died holding it and the next owner unlocked it without vm_futex_consistent; "
                + "initialize a new one", e.offset(), objectName(e));
    }

    private String objectName(FutexEntry e) {
        VmObject o = core.object(e.objectId());
        return o == null ? "?" : o.name;
    }

    private String futexName(FutexEntry e) {
        return objectName(e) + "+0x" + Long.toHexString(e.offset());
    }
}
