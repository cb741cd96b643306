package io.machxp.bench.cli;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.locks.LockSupport;

/**
 * Between two systems of one bench run: the earlier system's garbage collected and its threads
 * (Ratis, Hazelcast, ZooKeeper, gRPC) given time to end, so that what it leaves behind does not run
 * during the next system's warm-up and measurement. Waits until the JVM's live threads are back to
 * what they were before the earlier system started, or until their number has not fallen for
 * {@link #STEADY_NANOS} (what is left then are pooled threads that idle out on their own, such as
 * the common fork-join pool's), at most {@link #BOUND_NANOS}; what is left is reported (a bench
 * does not fail for it).
 */
final class Settle {
    private static final long BOUND_NANOS = 10_000_000_000L;
    private static final long STEADY_NANOS = 1_000_000_000L;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private Settle() {}

    /** Live threads now. */
    static int threads() {
        return THREADS.getThreadCount();
    }

    /** Collects garbage and waits for the live threads to fall to {@code baseline}; returns how many more are left. */
    static int after(int baseline) {
        long deadline = System.nanoTime() + BOUND_NANOS;
        System.gc();
        int last = threads();
        long fellAt = System.nanoTime();
        while (last > baseline && System.nanoTime() - deadline < 0 && System.nanoTime() - fellAt < STEADY_NANOS) {
            LockSupport.parkNanos(50_000_000);
            int now = threads();
            if (now < last) {
                fellAt = System.nanoTime();
            }
            last = now;
        }
        System.gc();
        return Math.max(0, threads() - baseline);
    }
}
