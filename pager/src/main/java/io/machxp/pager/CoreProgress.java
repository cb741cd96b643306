package io.machxp.pager;

import io.netty.channel.EventLoop;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;

/**
 * Whether the pager's core thread is doing anything: the CPU time it has used, read from the JVM.
 * A core that does not answer a question may be busy (a long task, many tasks: its CPU time grows)
 * or stuck (blocked or parked for good: it does not); time alone cannot tell the two apart, and
 * neither can a count of tasks run (a busy core may be inside one long task). Close uses it, with
 * the thread's state and the JVM's collection time ({@link StuckCheck}), to stop waiting for a stuck
 * core after a few slices instead of the store's whole bound (late9 review L1: close on a stuck core
 * took at least 65 s). -1 when the JVM does not measure threads' CPU time. Also the owner of a lock
 * the core waits for (a store thread writing under the file store's monitor: the core is not stuck
 * while it is busy) and the JVM's pause time ({@link GcPauses}).
 */
final class CoreProgress implements StuckCheck.Readings {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** The core thread's id, once its first task ran; 0 until then. */
    private volatile long coreThread;

    private CoreProgress() {}

    /** Learns {@code loop}'s thread from a task on it (the first the core runs). */
    static CoreProgress of(EventLoop loop) {
        CoreProgress p = new CoreProgress();
        @SuppressWarnings("deprecation") // Thread.threadId is Java 19; the release is 17
        Runnable learn = () -> p.coreThread = Thread.currentThread().getId();
        loop.execute(learn);
        return p;
    }

    /** The core thread's state now, or null if not known (not learnt yet, or ended). */
    @Override
    public Thread.State state() {
        long id = coreThread;
        ThreadInfo info = id == 0 ? null : THREADS.getThreadInfo(id);
        return info == null ? null : info.getThreadState();
    }

    /** Stop-the-world collection time so far ({@link GcPauses}: concurrent collectors' cycles left out). */
    @Override
    public long gcNanos() {
        return GcPauses.nanos(ManagementFactory.getGarbageCollectorMXBeans());
    }

    /**
     * The owner of the monitor or lock the core thread is blocked or waiting on (its id from the
     * core's {@link ThreadInfo#getLockOwnerId}), with its CPU time and state; null if none.
     */
    @Override
    public StuckCheck.Owner lockOwner() {
        long id = coreThread;
        ThreadInfo core = id == 0 ? null : THREADS.getThreadInfo(id);
        long owner = core == null ? -1 : core.getLockOwnerId();
        ThreadInfo info = owner < 0 ? null : THREADS.getThreadInfo(owner);
        return info == null ? null : new StuckCheck.Owner(owner, cpuOf(owner), info.getThreadState());
    }

    /** The core thread's CPU time so far in ns, or -1 if not known (not measured, or not learnt yet). */
    @Override
    public long cpuNanos() {
        long id = coreThread;
        if (id == 0) {
            return -1;
        }
        return cpuOf(id);
    }

    /** Thread {@code id}'s CPU time so far in ns, or -1 if not measured. */
    private static long cpuOf(long id) {
        try {
            return THREADS.isThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled()
                    ? THREADS.getThreadCpuTime(id) : -1;
        } catch (UnsupportedOperationException e) {
            return -1;
        }
    }
}
