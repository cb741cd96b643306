package io.machxp.kernel.core;

import io.machxp.kernel.sched.Scheduler;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;

/**
 * The calls a thread blocks in on its own, thread_compute and thread_sleep, and the cancel of any
 * blocked call by its caller. Part of the kernel core beside {@link KernelTasks} (which makes and
 * ends the tasks and threads), core thread only; no state of its own (a thread's call is in its
 * {@link MachThread}: {@code blockedIn}, {@code blockedReply}, {@code sleepTimer}).
 *
 * <h2>Overview</h2>
 * <pre>
 *  idle       thread_compute   -> blocked in thread_compute: runs under the kernel's
 *                                 {@link Scheduler} (preemptive, fixed priority, on {@code cpus}
 *                                 simulated CPUs); idle again once it had its CPU time
 *             thread_sleep     -> blocked in thread_sleep: a timer, no CPU; idle again when it fires
 *             a negative duration
 *                              -> EINVAL, still idle
 *  blocked    thread_compute, thread_sleep
 *                              -> EBUSY: a thread makes one call at a time ({@link KernelTasks#busy})
 *             its caller cancels the call (abortWait)
 *                              -> idle: a compute leaves its CPU, a sleep its timer, a lock
 *                                 the futex's queue ({@link KernelFutexes#abandon}); the call
 *                                 fails with EINTR
 * </pre>
 * A call already answered, or a later call of the thread, is never touched by a wake or a cancel
 * meant for an earlier one: each compares the call's {@link Reply}. A thread that ends while
 * blocked is {@link KernelTasks}' (its call fails with ESRCH).
 */
final class ThreadCalls {
    private final KernelCore core;
    private final KernelEnv env;
    private final Scheduler scheduler;

    ThreadCalls(KernelCore core, KernelEnv env, Scheduler scheduler) {
        this.core = core;
        this.env = env;
        this.scheduler = scheduler;
    }

    /** thread_compute: the thread uses {@code nanos} of CPU under the priority scheduler. */
    void threadCompute(long taskId, int tid, long nanos, Reply<Void> reply) {
        MachThread t = idleThread(taskId, tid, nanos, "thread_compute", reply);
        if (t != null) {
            t.blockedIn = "thread_compute";
            t.blockedReply = reply;
            scheduler.compute(t, nanos, () -> wake(t, reply));
        }
    }

    /** thread_sleep: the thread blocks for {@code nanos} without a CPU. */
    void threadSleep(long taskId, int tid, long nanos, Reply<Void> reply) {
        MachThread t = idleThread(taskId, tid, nanos, "thread_sleep", reply);
        if (t != null) {
            t.blockedIn = "thread_sleep";
            t.blockedReply = reply;
            t.sleepTimer = env.schedule(nanos, () -> wake(t, reply));
        }
    }

    private void wake(MachThread t, Reply<Void> reply) {
        if (t.blockedReply == reply) {
            t.blockedIn = null;
            t.blockedReply = null;
            t.sleepTimer = null;
            reply.complete(null);
        }
    }

    private MachThread idleThread(long taskId, int tid, long nanos, String call, Reply<?> reply) {
        MachThread t = core.tasks.thread(taskId, tid, reply);
        if (t == null) {
            return null;
        }
        if (nanos < 0) {
            reply.fail(KernelError.of(Errno.EINVAL, "%s of %d ns: give a duration of 0 or more", call, nanos));
            return null;
        }
        return KernelTasks.busy(t, reply) ? null : t;
    }

    /**
     * The caller of a blocked call went away (the call answered by {@code call} was cancelled):
     * a futex wait stops as on a timeout; a thread_compute or thread_sleep stops where it is (its
     * CPU goes to the next thread), as a Linux thread interrupted by a signal. The thread is then
     * idle, free for its next call. A call already answered, or a later call of the thread, is
     * not touched.
     */
    void abortWait(long taskId, int tid, Reply<?> call) {
        MachTask task = core.tasks.task(taskId);
        MachThread thread = task == null ? null : task.thread(tid);
        if (thread == null) {
            return;
        }
        KernelError cancelled = KernelError.of(Errno.EINTR, "the call of thread %d was cancelled by its caller", tid);
        if (thread.waiter != null && thread.waiter.answers(call)) {
            core.futexes.abandon(thread.waiter, cancelled);
        } else if (thread.blockedReply == call && call != null) {
            scheduler.cancel(thread);
            if (thread.sleepTimer != null) {
                thread.sleepTimer.cancel();
                thread.sleepTimer = null;
            }
            thread.blockedIn = null;
            thread.blockedReply = null;
            call.fail(cancelled);
        }
    }
}
