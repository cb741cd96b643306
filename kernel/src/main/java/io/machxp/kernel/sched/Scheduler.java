package io.machxp.kernel.sched;

import io.machxp.kernel.core.KernelEnv;
import io.machxp.kernel.core.Timer;
import io.machxp.kernel.task.MachThread;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel's CPUs, shared by the threads that compute: preemptive fixed-priority scheduling as
 * Linux SCHED_FIFO on {@code cpus} processors. Core thread only; time comes from the
 * {@link KernelEnv}, so the same code runs in real time over gRPC and in virtual time in the
 * simulator.
 *
 * <h2>Overview</h2>
 * thread_compute uses a CPU, and so does a thread that must run before it can act: one whose
 * lock timed out leaves the wait only once it has its CPU (its ETIMEDOUT comes then), and the
 * scenario runner makes every call of a thread first take a syscall's cost of CPU, so that under
 * SCHED_FIFO a thread that cannot get its CPU does nothing. A computing thread is either on a
 * CPU or ready:
 * <pre>
 *   compute(d)          -> ready (at the tail of its priority)      -> dispatch if a CPU is free
 *                                                                      or a lower one runs
 *   ready, dispatched   -> on CPU, its time left falls as env time passes
 *   on CPU, preempted   -> ready, where it stood among its priority: the head unless a thread
 *                          was lowered to the head since it got its CPU (SCHED_FIFO: Linux
 *                          leaves a running task in its place on its priority's list)
 *   dispatched with 0   -> (a timed-out waiter that must run to leave its wait) done only if
 *   left                   it still has its CPU at the end of this instant: a higher thread
 *                          whose next call comes later in this instant (just handed a futex, or
 *                          between two calls) takes the CPU first
 *   time left reaches 0 -> done: thread_compute answers; the thread keeps its CPU for the rest of
 *                          that instant (idle on CPU), as a SCHED_FIFO thread runs on into its
 *                          next call; computing again then continues on the CPU at once, and a
 *                          thread of the same priority that was ready does not get in between.
 *                          At the end of the instant the CPU goes to the best ready thread
 *   priority changes    -> (boost, deboost, thread_set_priority) everything is decided again;
 *                          a ready or running thread raised goes to the tail of its new
 *                          priority, one lowered to the head (Linux's rt_mutex_setprio and
 *                          sched_setscheduler, as POSIX asks), one whose priority went up and
 *                          back at once ({@link #raisedAndLoweredBack}) to the head too
 *   cancel              -> the thread leaves (terminated)
 * </pre>
 * Invariant after every {@link #reschedule}: no ready thread has a higher effective priority than
 * a thread on a CPU, and no CPU is idle while a thread is ready. One timer is armed, for the
 * earliest end of a running compute.
 */
public final class Scheduler {
    private final int cpus;
    private final KernelEnv env;
    private final List<MachThread> running = new ArrayList<>();
    private final List<MachThread> ready = new ArrayList<>();
    private long nextOrder;
    /** Orders below every other: a thread placed at the head of its priority (lowered). */
    private long nextHeadOrder = -1;
    private Timer timer;
    /** An event at the end of the current instant frees the CPUs of threads idle on them. */
    private boolean releaseArmed;
    /** Threads dispatched with nothing left to compute, not yet confirmed on their CPU: the dispatch's number. */
    private final Map<MachThread, Long> unconfirmed = new HashMap<>();
    private long dispatches;

    public Scheduler(int cpus, KernelEnv env) {
        if (cpus < 1) {
            throw new IllegalArgumentException("a kernel needs at least one CPU, not " + cpus);
        }
        this.cpus = cpus;
        this.env = env;
    }

    /** thread_compute: {@code done} runs once the thread has had {@code nanos} of CPU. */
    public void compute(MachThread t, long nanos, Runnable done) {
        account();
        if (t.computing()) {
            // A pending run it no longer needs (a timed-out wait that got its futex first).
            running.remove(t);
            ready.remove(t);
            unconfirmed.remove(t);
            t.onCpu = false;
        }
        t.computeLeft = nanos;
        t.computeDone = done;
        if (t.idleOnCpu) {
            t.idleOnCpu = false; // still on its CPU: it runs on
            t.runningSince = env.nanoTime();
        } else {
            t.readyOrder = nextOrder++;
            ready.add(t);
        }
        reschedule();
    }

    /**
     * Whether {@code t}, made ready now, would get a CPU at once: fewer threads than CPUs come
     * before it, those on a CPU at its priority or higher and those ready at its priority or
     * higher (SCHED_FIFO: a thread made ready joins the tail of its priority; a CPU freed goes to
     * the best ready thread). A thread that has ended and still holds its CPU for this instant
     * (its death is being handled) counts as gone.
     */
    public boolean wouldRunNow(MachThread t) {
        long ahead = java.util.stream.Stream.concat(running.stream(), ready.stream())
                .filter(r -> r.alive && r != t && r.effectivePriority >= t.effectivePriority).count();
        return ahead < cpus;
    }

    /**
     * A thread's effective priority changed from {@code oldPriority}: it may now preempt, or be
     * preempted. A ready or running thread moves as Linux moves a runnable SCHED_FIFO task: raised,
     * to the tail of its new priority; lowered, to the head (one on a CPU keeps it meanwhile, and
     * stands there when it is preempted).
     */
    public void priorityChanged(MachThread t, int oldPriority) {
        if ((ready.contains(t) || running.contains(t)) && t.effectivePriority != oldPriority) {
            t.readyOrder = t.effectivePriority > oldPriority ? nextOrder++ : nextHeadOrder--;
        }
        if (t.computing() || t.idleOnCpu) {
            account();
            reschedule();
        }
    }

    /**
     * A thread's priority went up and came back at once (a lock whose timeout had passed queued
     * behind it for an instant, and Linux boosted and lowered it): unchanged for the scheduler
     * but for its place, which is that of a thread lowered, the head of its priority if it is
     * ready (or on a CPU, for when it is preempted).
     */
    public void raisedAndLoweredBack(MachThread t) {
        if (ready.contains(t) || running.contains(t)) {
            t.readyOrder = nextHeadOrder--;
        }
    }

    /** The thread stops computing without finishing (it was terminated). */
    public void cancel(MachThread t) {
        if (t.idleOnCpu) {
            t.idleOnCpu = false;
            running.remove(t);
            t.onCpu = false;
            reschedule();
            return;
        }
        if (!t.computing()) {
            return;
        }
        account();
        running.remove(t);
        ready.remove(t);
        unconfirmed.remove(t);
        t.onCpu = false;
        t.computeDone = null;
        reschedule();
    }

    /** Charges the threads on a CPU for the time since they were last charged. */
    private void account() {
        long now = env.nanoTime();
        for (MachThread t : running) {
            if (!t.idleOnCpu) {
                t.computeLeft -= now - t.runningSince;
            }
            t.runningSince = now;
        }
    }

    private void reschedule() {
        List<Runnable> finished = new ArrayList<>();
        for (int i = running.size() - 1; i >= 0; i--) {
            MachThread t = running.get(i);
            if (!t.idleOnCpu && t.computeLeft <= 0 && !unconfirmed.containsKey(t)) {
                finished.add(finish(t)); // it keeps its CPU for the rest of this instant
            }
        }
        while (!ready.isEmpty()) {
            MachThread best = best(ready);
            if (running.size() < cpus) {
                dispatch(best);
                continue;
            }
            MachThread worst = worst(running);
            if (best.effectivePriority <= worst.effectivePriority) {
                break;
            }
            running.remove(worst);
            worst.onCpu = false;
            unconfirmed.remove(worst);
            if (worst.idleOnCpu) {
                worst.idleOnCpu = false; // it had nothing left to compute
            } else {
                // SCHED_FIFO: it keeps its place among its priority (readyOrder), the head unless
                // a thread was lowered to the head since it got its CPU
                ready.add(worst);
                env.trace("preempt", worst.tid, "by " + best.tid);
            }
            dispatch(best);
        }
        armTimer();
        finished.forEach(Runnable::run);
        armRelease();
    }

    /** At the end of this instant, threads still idle on their CPU leave them. */
    private void armRelease() {
        if (releaseArmed || running.stream().noneMatch(t -> t.idleOnCpu)) {
            return;
        }
        releaseArmed = true;
        // at the end of the instant, not one event later: a thread whose call answers at once (an
        // unlock, a lock of a free futex) makes its next call in this instant and keeps its CPU
        // meanwhile, as a SCHED_FIFO thread does; an equal that is ready does not get in between
        env.scheduleAtEndOfInstant(() -> {
            releaseArmed = false;
            account();
            boolean freed = running.removeIf(t -> {
                if (!t.idleOnCpu) {
                    return false;
                }
                t.idleOnCpu = false;
                t.onCpu = false;
                return true;
            });
            if (freed) {
                reschedule();
            }
        });
    }

    private Runnable finish(MachThread t) {
        Runnable done = t.computeDone;
        t.computeDone = null;
        t.idleOnCpu = true;
        t.computeLeft = 0;
        return done;
    }

    private void dispatch(MachThread t) {
        ready.remove(t);
        running.add(t);
        t.onCpu = true;
        t.runningSince = env.nanoTime();
        env.trace("run", t.tid, "priority " + t.effectivePriority);
        if (t.computeLeft <= 0) {
            // A run of no time is done only if the thread still has its CPU at the end of this
            // instant: a preemption in it (a higher thread's next call, however many events later)
            // comes first, as for the release of an idle CPU (late8 review F5: one event later let
            // a call that came two events later lose to it).
            long number = ++dispatches;
            unconfirmed.put(t, number);
            env.scheduleAtEndOfInstant(() -> {
                if (unconfirmed.remove(t, number) && t.onCpu) {
                    account();
                    reschedule();
                }
            });
        }
    }

    private void armTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        long soonest = Long.MAX_VALUE;
        for (MachThread t : running) {
            if (!t.idleOnCpu && !unconfirmed.containsKey(t)) { // an unconfirmed run ends at its own event
                soonest = Math.min(soonest, t.computeLeft);
            }
        }
        if (soonest != Long.MAX_VALUE) {
            timer = env.schedule(Math.max(0, soonest), () -> {
                timer = null;
                account();
                reschedule();
            });
        }
    }

    /** Highest effective priority; among equals the smallest ready order. */
    private static MachThread best(List<MachThread> threads) {
        MachThread best = null;
        for (MachThread t : threads) {
            if (best == null || t.effectivePriority > best.effectivePriority
                    || (t.effectivePriority == best.effectivePriority && t.readyOrder < best.readyOrder)) {
                best = t;
            }
        }
        return best;
    }

    /** Lowest effective priority; among equals the one that got its CPU last. */
    private static MachThread worst(List<MachThread> threads) {
        MachThread worst = null;
        for (MachThread t : threads) {
            if (worst == null || t.effectivePriority < worst.effectivePriority
                    || (t.effectivePriority == worst.effectivePriority && t.runningSince >= worst.runningSince)) {
                worst = t;
            }
        }
        return worst;
    }
}
