package io.machxp.kernel.sched;

import io.machxp.kernel.core.KernelEnv;
import io.machxp.kernel.core.Timer;
import io.machxp.kernel.task.MachThread;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's CPUs, shared by the threads that compute: preemptive fixed-priority scheduling as
 * Linux SCHED_FIFO on {@code cpus} processors. Core thread only; time comes from the
 * {@link KernelEnv}, so the same code runs in real time over gRPC and in virtual time in the
 * simulator.
 *
 * <h2>Overview</h2>
 * Only thread_compute uses a CPU; every other call is taken to cost no CPU time. A computing
 * thread is either on a CPU or ready:
 * <pre>
 *   compute(d)          -> ready (at the tail of its priority)      -> dispatch if a CPU is free
 *                                                                      or a lower one runs
 *   ready, dispatched   -> on CPU, its time left falls as env time passes
 *   on CPU, preempted   -> ready, at the head of its priority (SCHED_FIFO)
 *   time left reaches 0 -> done: thread_compute answers, the CPU goes to the best ready thread
 *   priority changes    -> (boost, deboost, thread_set_priority) everything is decided again
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
    private long nextPreemptedOrder = -1;
    private Timer timer;

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
        t.computeLeft = nanos;
        t.computeDone = done;
        t.readyOrder = nextOrder++;
        ready.add(t);
        reschedule();
    }

    /** A thread's effective priority changed: it may now preempt, or be preempted. */
    public void priorityChanged(MachThread t) {
        if (t.computing()) {
            account();
            reschedule();
        }
    }

    /** The thread stops computing without finishing (it was terminated). */
    public void cancel(MachThread t) {
        if (!t.computing()) {
            return;
        }
        account();
        running.remove(t);
        ready.remove(t);
        t.onCpu = false;
        t.computeDone = null;
        reschedule();
    }

    /** Charges the threads on a CPU for the time since they were last charged. */
    private void account() {
        long now = env.nanoTime();
        for (MachThread t : running) {
            t.computeLeft -= now - t.runningSince;
            t.runningSince = now;
        }
    }

    private void reschedule() {
        List<Runnable> finished = new ArrayList<>();
        for (int i = running.size() - 1; i >= 0; i--) {
            MachThread t = running.get(i);
            if (t.computeLeft <= 0) {
                running.remove(i);
                finished.add(finish(t));
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
            worst.readyOrder = nextPreemptedOrder--; // SCHED_FIFO: back at the head of its priority
            ready.add(worst);
            env.trace("preempt", worst.tid, "by " + best.tid);
            dispatch(best);
        }
        armTimer();
        finished.forEach(Runnable::run);
    }

    private Runnable finish(MachThread t) {
        Runnable done = t.computeDone;
        t.computeDone = null;
        t.onCpu = false;
        t.computeLeft = 0;
        return done;
    }

    private void dispatch(MachThread t) {
        ready.remove(t);
        running.add(t);
        t.onCpu = true;
        t.runningSince = env.nanoTime();
        env.trace("run", t.tid, "priority " + t.effectivePriority);
    }

    private void armTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        long soonest = Long.MAX_VALUE;
        for (MachThread t : running) {
            soonest = Math.min(soonest, t.computeLeft);
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
