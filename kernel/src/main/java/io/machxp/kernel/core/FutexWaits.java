package io.machxp.kernel.core;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.sched.Scheduler;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.AcquirePath;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A lock's wait for a futex, from its queueing to its answer: its timeout, leaving the queue, and
 * being handed the futex. Part of the kernel's futexes ({@link KernelFutexes}): core thread only.
 *
 * <h2>Overview</h2>
 * A waiter ({@link FutexWaiter}) is queued in its futex's {@code WaitQueue}: highest effective
 * priority first with PI, FIFO among equals (arrival order without PI). States of a waiter:
 * <pre>
 *  queued (enqueue)       in e.waiters, w.entry = e; a timed one has its timer; the first lock
 *                         to wait (here or elsewhere), and each thread that takes the futex,
 *                         stamp e.piStateSince: a death hands on its futexes newest first
 *  timer fired (timedOut) timerFired: it leaves when it next has its CPU (leaveWhenItRuns), as a
 *                         Linux thread woken by its timer must run to leave (SCHED_FIFO); until
 *                         then an unlock may still hand it the futex. A woken heir takes the
 *                         futex first, and leaves only if passed over (FutexHeirs.passOverHeir)
 *  woken heir             the top waiter at an owner's death, or (PI) at an unlock that hands
 *                         it the futex, that cannot run now, or in a lease grace (handOff ->
 *                         FutexHeirs.wakeHeir, wakeUnlockHeir): it stays queued, takes the
 *                         futex when it runs
 *  handed the futex       handOff polls the top waiter, giveTo writes its TID into the word
 *  (handOff, giveTo)      (WAITERS for a waiter that waited, as Linux; OWNER_DIED after a death);
 *                         acquired answers it (a fired timer's pending run cancelled) and maps
 *                         the futex's page to its process
 *  left (abandon)         its caller went away, its thread ended, or its timer's run: out of the
 *                         queue (WAITERS stays in the word, as Linux leaves it), answered with
 *                         the error; a woken heir that leaves passes the futex on (heirLeft)
 *  failed (failWaiters)   every waiter at once: the futex is not recoverable, its page refused,
 *                         or its pager lost (forgetFutex); the heir is cleared
 *  trylocks answered      busy (null) when the futex went to another thread or back to the
 *  (answerTrylocks)       pager: a trylock does not wait for it
 * </pre>
 */
final class FutexWaits {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final KernelEnv env;
    private final KernelStats stats;
    private final PageCache pages;
    private final Scheduler scheduler;
    private final FutexInheritance inheritance;
    private final boolean cacheFutexes;
    private final boolean pi;
    /** The order of the moments a futex's wait became one for its owner ({@link #piStateJoinsOwner}). */
    private long piStates;

    FutexWaits(KernelCore core, KernelFutexes futexes, KernelEnv env, KernelStats stats, PageCache pages,
            Scheduler scheduler, FutexInheritance inheritance, boolean cacheFutexes, boolean pi) {
        this.core = core;
        this.futexes = futexes;
        this.env = env;
        this.stats = stats;
        this.pages = pages;
        this.scheduler = scheduler;
        this.inheritance = inheritance;
        this.cacheFutexes = cacheFutexes;
        this.pi = pi;
    }

    void enqueue(FutexWaiter w, FutexEntry e) {
        w.entry = e;
        if (!w.trylock && !anyoneWaits(e)) {
            piStateJoinsOwner(e); // the first waiter: Linux's pi_state is made and joins the owner's list
        }
        e.waiters.add(w, env.nanoTime());
    }

    /**
     * The wait for {@code e} became one for its current owner now (its first waiter blocked, or the
     * owner took it with waiters behind): Linux's pi_state joins the head of that owner's
     * pi_state_list, and the owner's exit wakes the newest first ({@link FutexEntry#piStateSince}).
     * A trylock, or a lock whose timeout had passed, makes no lasting pi_state (Linux frees the one
     * it made before it returns), nor does a waiter's timeout leave one: the next waiter makes anew.
     */
    void piStateJoinsOwner(FutexEntry e) {
        e.piStateSince = ++piStates;
    }

    /**
     * A lock waits for {@code e}: here (a trylock does not count), or on another kernel (a
     * relinquish pending; with PI one above 0: a relinquish of 0 only deboosts, nobody waits).
     */
    boolean anyoneWaits(FutexEntry e) {
        if (e.relinquishPending && (e.remotePriority > 0 || !pi)) {
            return true;
        }
        for (FutexWaiter q : e.waiters) {
            if (!q.trylock) {
                return true;
            }
        }
        return false;
    }

    /**
     * A lock's timeout fired: the waiter stops waiting when it next has its CPU, as a Linux thread
     * woken by its timer must run to leave the wait (SCHED_FIFO: not while a thread of its
     * priority or higher runs there). Until then an unlock may still hand it the futex.
     */
    void timedOut(FutexWaiter w, KernelError error) {
        if (w.done()) {
            return;
        }
        w.timerFired = true;
        w.timedOutWith = error;
        if (w.entry != null && w.entry.heir == w) {
            return; // woken to take a futex nobody owns yet: it takes it first; passed over, it leaves
        }
        leaveWhenItRuns(w);
    }

    /** A waiter whose timer fired leaves its wait (ETIMEDOUT) when it next has its CPU. */
    void leaveWhenItRuns(FutexWaiter w) {
        scheduler.compute(w.thread, 0, () -> {
            w.timerFired = false;
            abandon(w, w.timedOutWith);
        });
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
            e.waiters.remove(w); // WAITERS stays in the word, as Linux leaves it after a timeout
        }
        w.fail(error);
        if (e != null && e.heir == w) {
            futexes.heirs.heirLeft(e);
        } else if (e != null && e.heir != null) {
            futexes.heirs.wordNamedWaiterLeft(e, w.thread.tid); // passed over by reelect, still in the word
        }
        if (e != null) {
            inheritance.refresh(e); // deboosts the owner here, or lowers the priority asked of the pager
        }
    }

    void acquired(FutexWaiter w, FutexEntry e, AcquirePath path, boolean ownerDied) {
        if (w.timerFired) {
            w.timerFired = false;
            scheduler.cancel(w.thread); // it got the futex before it could leave the wait
        }
        stats.acquired(path);
        piStateJoinsOwner(e); // with waiters behind, their wait is now for this owner (pi_state_update_owner)
        e.holdPriority = Math.max(e.holdPriority, w.thread.effectivePriority);
        mapToProcess(w, e);
        w.finish(new Acquired(path, ownerDied, e.fencingToken));
    }

    /**
     * A thread of a task process on this host gets the futex: its page, writable here, is mapped
     * to the process before the answer leaves (the page that came with a grant included), so the
     * new owner reads and writes the data the futex protects in shared memory at once rather than
     * in a page-fault call of its own.
     */
    private void mapToProcess(FutexWaiter w, FutexEntry e) {
        if (e.page.sharedPages != null && e.page.access == Access.READ_WRITE && core.sharesMemory(w.thread.task.id)) {
            pages.map(e.page, true);
        }
    }

    /** Whether an owner's unlock must come to the core (WAITERS in the word). */
    boolean mustEnterKernel(FutexEntry e) {
        return !e.waiters.isEmpty() || !cacheFutexes || e.relinquishPending || e.remoteBoostKept;
    }

    /**
     * Gives a futex this kernel holds to its top local waiter; false if nobody waits. After an
     * owner's death handed on here or through the pager ({@code waited}: a handoff, not a first
     * grant), the waiting lock is woken and gets it only when it runs ({@link FutexHeirs#wakeHeir}),
     * also one that could run now: Linux's exit wakes the top waiter of every futex the dead owner
     * held, and the highest of them runs first and may take the others' futexes (it ran in the
     * same instant as the others before 2026-12-07, scenarios/death-two-higher-heir-steals*.yaml).
     * With PI, after an unlock here or elsewhere, a waiting lock that cannot run now (or in a
     * lease grace) gets it only when it runs ({@link FutexHeirs#wakeUnlockHeir}).
     */
    boolean handOff(FutexEntry e, AcquirePath path, boolean ownerDied, boolean waited) {
        FutexWaiter top = e.waiters.peek(pi, core.plants.arrivalOrderAmongEquals(true));
        if (top != null && (ownerDied || (pi && waited)) && !top.trylock && !top.expiredLock()
                && ((ownerDied && waited) || futexes.heirs.inGrace(e) || !scheduler.wouldRunNow(top.thread))) {
            if (ownerDied) {
                futexes.heirs.wakeHeir(e, top, path, waited);
            } else {
                futexes.heirs.wakeUnlockHeir(e, top, path);
            }
            return true;
        }
        FutexWaiter w = e.waiters.poll(pi, core.plants.arrivalOrderAmongEquals(true));
        if (w == null) {
            return false;
        }
        giveTo(e, w, path, ownerDied, waited);
        return true;
    }

    void giveTo(FutexEntry e, FutexWaiter w, AcquirePath path, boolean ownerDied, boolean waited) {
        assert !w.done() : "a waiter that was answered is still queued";
        // Linux sets WAITERS on every handoff to a thread that waited for an owner, the last too.
        e.setState(FutexWord.held(w.thread.tid, (waited && !w.trylock) || mustEnterKernel(e), ownerDied));
        if (ownerDied) {
            env.trace("owner-died-handoff", w.thread.tid, futexes.futexName(e));
        }
        acquired(w, e, path, ownerDied);
    }

    void failWaiters(FutexEntry e, KernelError error) {
        e.heir = null;
        for (FutexWaiter w; (w = e.waiters.poll(false)) != null; ) {
            w.fail(error);
        }
    }

    /** Trylocks still queued when the futex went to another thread or back to the pager: busy. */
    void answerTrylocks(FutexEntry e) {
        List<FutexWaiter> tries = new ArrayList<>();
        for (Iterator<FutexWaiter> it = e.waiters.iterator(); it.hasNext(); ) {
            FutexWaiter w = it.next();
            if (w.trylock) {
                it.remove();
                tries.add(w);
            }
        }
        if (!tries.isEmpty()) {
            futexes.clearWaitersIfNoneLeft(e);
            tries.forEach(w -> w.finish(null));
        }
    }
}
