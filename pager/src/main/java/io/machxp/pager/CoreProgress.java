package io.machxp.pager;

import io.netty.channel.EventLoop;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Whether the pager's core thread is doing anything: the CPU time it has used, read from the JVM.
 * A core that does not answer a question may be busy (a long task, many tasks: its CPU time grows)
 * or stuck (blocked or parked for good: it does not); time alone cannot tell the two apart, and
 * neither can a count of tasks run (a busy core may be inside one long task). Close uses it, with
 * the thread's state and the JVM's collection time ({@link StuckCheck}), to stop waiting for a stuck
 * core after a few slices instead of the store's whole bound (late9 review L1: close on a stuck core
 * took at least 65 s). -1 when the JVM does not measure threads' CPU time.
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

    /** The core thread's CPU time so far in ns, or -1 if not known (not measured, or not learnt yet). */
    @Override
    public Thread.State state() {
        long id = coreThread;
        java.lang.management.ThreadInfo info = id == 0 ? null : THREADS.getThreadInfo(id);
        return info == null ? null : info.getThreadState();
    }

    @Override
    public long gcNanos() {
        long ms = 0;
        for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            long t = gc.getCollectionTime();
            if (t < 0) {
                return -1;
            }
            ms += t;
        }
        return ms * 1_000_000;
    }

    @Override
    public long cpuNanos() {
        long id = coreThread;
        if (id == 0) {
            return -1;
        }
        try {
            return THREADS.isThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled()
                    ? THREADS.getThreadCpuTime(id) : -1;
        } catch (UnsupportedOperationException e) {
            return -1;
        }
    }
}
