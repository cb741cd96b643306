package io.machxp.bench.cli;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.locks.LockSupport;

/**
 * Between two systems of one bench run: the earlier system's garbage collected and its threads
 * (Ratis, Hazelcast, ZooKeeper, gRPC) given time to end, so that what it leaves behind does not run
 * during the next system's warm-up and measurement. Waits until the JVM's live threads are back to
 * what they were before the earlier system started, at most {@link #BOUND_NANOS}; what is left is
 * reported (a bench does not fail for it).
 */
final class Settle {
    private static final long BOUND_NANOS = 10_000_000_000L;
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
        while (threads() > baseline && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(50_000_000);
        }
        System.gc();
        return Math.max(0, threads() - baseline);
    }
}
