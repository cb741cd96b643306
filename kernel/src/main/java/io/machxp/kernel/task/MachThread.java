package io.machxp.kernel.task;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.sched.Priority;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A thread of a task. Its TID is its name everywhere, in the futex word too.
 *
 * <p>Scheduling: a thread has a base priority (1-99, higher runs first) and an effective one,
 * the maximum of the base and what it inherits from the futexes it owns (priority inheritance).
 * The {@link io.machxp.kernel.sched.Scheduler} runs the highest effective priorities on the
 * kernel's CPUs. Every field but {@link #tid}, {@link #task}, {@link #blockedIn} (read
 * by the fast path) and the given-up lock fields ({@link #grants}, {@link #abandonedLockSeq},
 * {@link #undosPending}) is core-thread only.
 */
public final class MachThread {
    public final int tid;
    public final MachTask task;
    /**
     * The call the thread is blocked in, or null. Written on the core thread; also read by the gRPC
     * futex fast path, which leaves a blocked thread's lock to the core (EBUSY).
     */
    public volatile String blockedIn;
    /**
     * The thread's futex grants an undo may name, one per futex: recorded at the grant, by the
     * core (a wrapped lock reply, {@code KernelCore.vmLockFutex}) or by the gRPC fast path (after
     * its CAS). An undo of a given-up lock acts only while the grant it names is its futex's
     * recorded grant and the thread owns the futex; it uses the grant up.
     */
    public final ThreadGrants grants = new ThreadGrants();
    /**
     * The highest lock_seq the thread's client gave up on (vm_unlock_futex abandoned_lock_seq),
     * or 0: a lock with that lock_seq or a lower one is refused or, if granted, undone at once.
     */
    public volatile long abandonedLockSeq;
    /**
     * The kernel's own undos of this thread's grants that met a cancelled call, queued on the
     * core and not yet run: meanwhile the thread's locks leave the fast path to the core, behind them.
     */
    public final java.util.concurrent.atomic.AtomicInteger undosPending = new java.util.concurrent.atomic.AtomicInteger();
    /** The futex wait the thread is in, so that it can be abandoned; null otherwise. */
    public FutexWaiter waiter;
    /** The answer owed to a blocked thread_compute, thread_sleep or mach_msg, or null. */
    public io.machxp.kernel.core.Reply<?> blockedReply;
    /** The timer of a thread_sleep, or null. */
    public io.machxp.kernel.core.Timer sleepTimer;
    /** Counts the thread's futex waits, so that a deadlock probe names the wait it is about. */
    public long waitNumber;
    /** When the current futex wait began ({@code KernelEnv.wallMicros}): which wait of a cycle fails. */
    public long waitBeganMicros;
    /** False once the thread is terminated. Written by the core; read by fast paths anywhere. */
    public volatile boolean alive = true;

    public int basePriority = Priority.DEFAULT;
    /** max(base, inherited); what the scheduler and the futex wait queues use. */
    public int effectivePriority = Priority.DEFAULT;
    /** Futexes this thread owns that have waiters here or elsewhere: the sources of its boost. */
    public final Set<FutexEntry> boostedBy = new LinkedHashSet<>();
    /** Priorities donated through Mach RPC (a request received, its reply not yet sent), by donation. */
    public final java.util.Map<Object, Integer> ipcDonations = new java.util.HashMap<>();

    // ---- scheduler state --------------------------------------------------------------------
    /** CPU time still to consume in thread_compute, in nanoseconds; meaningful while computing. */
    public long computeLeft;
    /** When the thread last got a CPU (env time), while it has one. */
    public long runningSince;
    /** Order among runnable threads of one priority (smaller first). */
    public long readyOrder;
    /** Whether the thread holds a CPU now. */
    public boolean onCpu;
    /**
     * On its CPU without computing: it finished a compute this instant and still runs (its next
     * call, if any, comes at the same instant), until it blocks, computes again or is preempted.
     */
    public boolean idleOnCpu;
    /** Answers thread_compute when {@link #computeLeft} reaches 0; null when not computing. */
    public Runnable computeDone;

    public MachThread(int tid, MachTask task) {
        this.tid = tid;
        this.task = task;
    }

    public boolean computing() {
        return computeDone != null;
    }

    @Override
    public String toString() {
        return "thread " + tid + " of task " + task.id;
    }
}
