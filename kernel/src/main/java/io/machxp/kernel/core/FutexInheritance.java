package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.hasWaiters;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.sched.Scheduler;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectLockFutex;

/**
 * Priority inheritance and deadlock detection for the kernel's futexes. Part of the kernel core's
 * futexes ({@link KernelFutexes}): core thread only.
 *
 * <h2>Overview</h2>
 * Priority inheritance (unless disabled, --no-pi): local waiters are served highest effective
 * priority first, FIFO among equals; a futex's owner runs at the maximum of its base priority,
 * its local waiters' effective priorities and the priority the pager sent with relinquish_futex
 * (the highest waiting on other kernels; kept over a broken stream to the pager until the session
 * is reclaimed or lost, FutexSessionEnds). A boost flows on along the chain: a boosted owner that
 * waits for another futex raises that futex's owner here, or the priority its kernel asks the
 * pager with (memory_object_lock_futex with update). Deboosting follows every unlock, timeout and
 * cancellation the same way; a priority change that puts another waiter, here or elsewhere,
 * above the woken heir of a futex (a dead owner's or an unlock's, which has no owner to boost
 * until the heir runs) lets that waiter take the heir's place (FutexHeirs.reelect). Priorities donated through Mach RPC ({@link IpcDonations}) count in
 * a thread's effective priority like inherited ones and flow on along its futex wait the same way.
 *
 * <p>Deadlocks: a lock whose chain of owners leads back to the caller fails with EDEADLK. Within
 * the kernel the chain is followed at once; where it reaches a futex held by another kernel a
 * probe follows it there through the pager (edge chasing, memory_object_futex_probe), and the
 * kernel of the caller, the only one that can find the caller as an owner, fails its wait when
 * the probe comes back.
 */
final class FutexInheritance {
    private final KernelCore core;
    private final KernelFutexes futexes;
    private final KernelEnv env;
    private final Scheduler scheduler;
    private final boolean pi;

    FutexInheritance(KernelCore core, KernelFutexes futexes, KernelEnv env, Scheduler scheduler, boolean pi) {
        this.core = core;
        this.futexes = futexes;
        this.env = env;
        this.scheduler = scheduler;
        this.pi = pi;
    }

    /** A thread's base priority changed (thread_set_priority). */
    void basePriorityChanged(MachThread t) {
        update(t);
    }

    /** A thread's Mach RPC donations changed ({@link IpcDonations}). */
    void ipcDonationsChanged(MachThread t) {
        update(t);
    }

    /**
     * After anything that changes who owns {@code e} or who waits for it: the owner it boosts,
     * and the priority this kernel waits with at the pager.
     */
    void refresh(FutexEntry e) {
        MachThread owner = ownerHere(e);
        MachThread target = !e.waiters.isEmpty() || e.relinquishPending || keptBoostHeld(e) ? owner : null;
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
        // Without PI nothing is inherited, but a new base priority still schedules (and a FIFO
        // queue does not move its waiter).
        int effective = pi ? priority(t, null) : t.basePriority;
        if (effective == t.effectivePriority) {
            return;
        }
        env.trace(effective > t.effectivePriority ? "boost" : "deboost", t.tid,
                t.effectivePriority + " -> " + effective);
        int old = t.effectivePriority;
        t.effectivePriority = effective;
        scheduler.priorityChanged(t, old);
        if (pi && t.waiter != null && t.waiter.entry != null) {
            FutexEntry waitedFor = t.waiter.entry;
            waitedFor.waiters.requeue(t.waiter, env.nanoTime()); // behind its new equals, as Linux requeues it
            FutexWaiter before = waitedFor.requeuedNow;
            waitedFor.requeuedNow = t.waiter; // the pager is told, if it is the top waiter
            refresh(waitedFor);
            waitedFor.requeuedNow = before;
            futexes.reelect(waitedFor); // a dead owner's futex: is its woken heir still the top waiter?
        }
    }

    /**
     * A boost kept over a broken stream ({@link FutexEntry#remoteBoostKept}) goes only to an owner
     * whose unlock enters the kernel (FUTEX_WAITERS in the word, which FutexSessionEnds keeps while
     * the boost is kept), so that it ends with the ownership, as Linux's deboost at the unlock; one
     * that took the futex on the fast path (its word had no WAITERS) is not boosted by it.
     */
    private static boolean keptBoostHeld(FutexEntry e) {
        return e.remoteBoostKept && hasWaiters(e.state());
    }

    /**
     * A kernel elsewhere waits for {@code e}: a relinquish is pending, or was when the stream to the
     * pager broke and the session is not yet reclaimed or lost ({@link FutexEntry#remoteBoostKept}).
     */
    private static boolean waitedElsewhere(FutexEntry e) {
        return e.relinquishPending || e.remoteBoostKept;
    }

    /**
     * A thread's priority from its base, its donations and what it inherits, leaving out what it
     * inherits from other kernels through {@code apartFrom} (null: nothing left out).
     */
    private int priority(MachThread t, FutexEntry apartFrom) {
        int effective = t.basePriority;
        for (int donated : t.ipcDonations.values()) {
            effective = Math.max(effective, donated);
        }
        for (FutexEntry f : t.boostedBy) {
            boolean remote = waitedElsewhere(f) && f != apartFrom;
            int inherited = core.plants.inheritedFromOtherKernels(remote ? f.remotePriority : 0);
            effective = Math.max(effective, Math.max(f.waiters.topPriority(), inherited));
        }
        return effective;
    }

    /**
     * The priority {@code e}'s owner here would run at if no other kernel waited for {@code e}
     * (0: nobody here owns it): what a hold's PI exception compares the waiter elsewhere with, since
     * a boost that came from that waiter is no priority of this kernel's own.
     */
    int ownerPriorityHere(FutexEntry e) {
        MachThread owner = ownerHere(e);
        if (owner == null) {
            return 0;
        }
        return pi ? priority(owner, e) : owner.effectivePriority;
    }

    /**
     * While a lock_futex is out: tell the pager when the top local waiter's priority changed, and
     * priority 0 when the last waiter left (timed out, cancelled, ended), so the owner elsewhere is
     * deboosted. The request itself stays out; a grant nobody waits for is kept or given back.
     * When the top waiter is the one just requeued after its priority changed, the update says
     * {@code requeued}: the kernel's place among the kernels of that priority is now. A top waiter
     * of the same priority that began waiting later than the one told of (that one left) is told
     * too, with how long it has waited (xp-spec 8.6): it is no requeue, the kernel keeps its place
     * at the pager, but the holder places its wait among its own waiters by that time.
     */
    void updatePagerPriority(FutexEntry e) {
        if (!pi || e.request != FutexEntry.Request.LOCK || !isAbsent(e.state())) {
            return;
        }
        int top = e.waiters.topPriority();
        FutexWaiter head = e.waiters.peek(true);
        boolean younger = head != null && head.sinceNanos > e.requestedSince;
        if (top != e.requestedPriority || younger) {
            e.requestedPriority = top;
            if (head != null) {
                e.requestedSince = head.sinceNanos;
            }
            MemoryObjectLockFutex.Builder update = MemoryObjectLockFutex.newBuilder()
                    .setObjectId(e.objectId()).setOffset(e.offset()).setPriority(top).setUpdate(true)
                    .setRequeued(e.requeuedNow != null && e.waiters.peek(true) == e.requeuedNow);
            long waited = e.waiters.topWaitedNanos(true, env.nanoTime());
            if (waited >= 0) {
                update.setWaitedNanos(waited);
            }
            core.sessions.send(KernelToPager.newBuilder().setMemoryObjectLockFutex(update).build());
        }
    }

    /**
     * Deadlock detection: follows the owners' waits from futex {@code e}, for the wait
     * {@code initiator}, carrying {@code youngest}, the wait on the path so far that began last.
     * Returns that wait if the chain comes back to the initiator's thread (a cycle: the wait that
     * began last closed it and is the one to fail), null otherwise. A chain that reaches a futex
     * this kernel does not hold goes on at its holder: a memory_object_futex_probe through the
     * pager, with {@code hops} so far; none if {@code hops} is negative (a local check only).
     */
    WaitStamp chase(WaitStamp initiator, FutexEntry e, int hops) {
        return chase(initiator, initiator, e, hops);
    }

    private WaitStamp chase(WaitStamp initiator, WaitStamp youngest, FutexEntry e, int hops) {
        for (int step = 0; e != null && step < 1_000_000; step++) {
            long s = e.state();
            if (isAbsent(s)) {
                if (e.request == FutexEntry.Request.LOCK && hops >= 0) {
                    core.sessions.send(KernelToPager.newBuilder().setMemoryObjectFutexProbe(youngest.into(
                            MemoryObjectFutexProbe.newBuilder().setObjectId(e.objectId()).setOffset(e.offset())
                                    .setInitiator(initiator.tid()).setWait(initiator.waitNumber()).setHops(hops))).build());
                }
                return null;
            }
            MachThread owner = ownerHere(e);
            if (owner == null) {
                return null;
            }
            if (owner.tid == initiator.tid()) {
                return youngest;
            }
            FutexWaiter w = owner.waiter;
            e = w == null || w.trylock ? null : w.entry;
            if (e != null) {
                youngest = youngest.younger(WaitStamp.of(owner));
            }
        }
        return null;
    }

    /**
     * Thread {@code t} waits and owns a futex someone waits for: it may close a cycle through
     * other kernels, so its chain of waits is followed (a probe where it leaves the kernel). A
     * thread that owns nothing waited for cannot be in a cycle, which spares a message per wait.
     */
    void probe(MachThread t) {
        FutexWaiter w = t.waiter;
        if (w != null && !w.trylock && w.entry != null && !t.boostedBy.isEmpty()) {
            WaitStamp closing = chase(WaitStamp.of(t), w.entry, 0);
            if (closing != null) {
                cycleClosedBy(closing, w.entry);
            }
        }
    }

    /** memory_object_futex_probe: a chain of waits from another kernel reached a futex held here. */
    void onFutexProbe(FutexEntry e, MemoryObjectFutexProbe p) {
        WaitStamp initiator = new WaitStamp(p.getInitiator(), p.getWait(), 0);
        WaitStamp closing = chase(initiator, WaitStamp.youngestOf(p), e, p.getHops());
        MachThread t = closing == null ? null : core.tasks.livingThread(p.getInitiator());
        // A wait still faulting its page in waits for no futex yet (it sent no probe): no cycle.
        if (t != null && t.waiter != null && t.waiter.entry != null && t.waitNumber == p.getWait()) {
            cycleClosedBy(closing, t.waiter.entry);
        }
    }

    /**
     * A cycle was found, through futex {@code from} that a thread of this kernel waits for: the
     * wait {@code closing}, which began last, fails. Here if it is this kernel's; otherwise a probe
     * for it goes on around the cycle from {@code from}, to its kernel.
     */
    private void cycleClosedBy(WaitStamp closing, FutexEntry from) {
        MachThread t = core.tasks.livingThread(closing.tid());
        if (t == null) {
            chase(closing, from, 0);
        } else if (t.waiter != null && t.waiter.entry != null && t.waitNumber == closing.waitNumber()) {
            deadlock(t);
        }
    }

    private void deadlock(MachThread t) {
        env.trace("deadlock", t.tid, futexes.futexName(t.waiter.entry));
        futexes.abandon(t.waiter, KernelError.of(Errno.EDEADLK, "thread %d would wait for itself: the futex at offset "
                + "0x%x of '%s' is held, through a chain of futexes across kernels, by a thread that waits for "
                + "one thread %d owns", t.tid, t.waiter.entry.offset(), futexes.objectName(t.waiter.entry), t.tid));
    }

    /**
     * A lock whose timeout had passed found {@code e} held here (it answers ETIMEDOUT): Linux's
     * LOCK_PI queues it for an instant all the same, which boosts the chain
     * of owners to its priority and lowers them again at its timeout. It lasts microseconds, so
     * no boost is logged, only an "instant-boost" trace per owner (a sampler of Linux's priorities
     * sees such a boost in some runs and not in others: a comparison accepts either). What lasts
     * is where it leaves them: each owner on the chain below that priority is placed as a thread that was
     * lowered, at the head of its priority if it is ready (rt_mutex_setprio) and behind its
     * equals in the queue of the futex it waits for (the chain walk requeues its waiter, step 7
     * of rt_mutex_adjust_prio_chain, before it looks at that futex's owner). The chain is followed
     * within this kernel: a futex held elsewhere, or with no owner, ends it, after the requeue (a
     * futex with a woken heir then has its heir checked, reelect, as Linux wakes the new top
     * waiter of a lock with no owner; the waiter's place at the pager is not changed).
     * (A lock that fails with EDEADLK for a cycle here is queued for an instant on Linux too; it
     * is not modelled: docs/linux-mode.md.)
     */
    void queuedForAnInstant(int priority, FutexEntry e) {
        if (!pi) {
            return;
        }
        java.util.Set<MachThread> seen = new java.util.HashSet<>();
        MachThread t = ownerHere(e);
        while (t != null && t.effectivePriority < priority && seen.add(t)) {
            // Traced as an instant boost, not a boost: Linux's may or may not be seen by a sampler.
            env.trace("instant-boost", t.tid, t.effectivePriority + " -> " + priority + " -> " + t.effectivePriority);
            scheduler.raisedAndLoweredBack(t);
            FutexWaiter w = t.waiter;
            FutexEntry next = w == null || w.trylock ? null : w.entry; // a trylock waits for no owner
            if (next == null) {
                return;
            }
            MachThread nextOwner = ownerHere(next);
            next.waiters.requeue(w, env.nanoTime());
            if (nextOwner == null) {
                futexes.reelect(next); // nothing without a woken heir
                return;
            }
            t = nextOwner;
        }
    }

    /**
     * The thread of this kernel that owns {@code e}, or null. None while {@code e} has a woken
     * heir (FutexHeirs): after an unlock the heir's TID is in the word, but as Linux's rt_mutex
     * the futex has no owner until the heir runs, so nobody is boosted for it and no chain leads
     * through it. None either while the word still names an unlock's heir that left before it ran,
     * its page elsewhere (FutexHeirs.staleHeir): that thread owns nothing.
     */
    MachThread ownerHere(FutexEntry e) {
        long s = e.state();
        return isAbsent(s) || owner(s) == 0 || e.heir != null || FutexHeirs.staleHeir(e, s) ? null
                : core.tasks.livingThread(owner(s));
    }
}
