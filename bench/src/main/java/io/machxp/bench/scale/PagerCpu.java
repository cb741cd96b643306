package io.machxp.bench.scale;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;

/** The CPU time of the pager's core thread, read from the JVM. */
final class PagerCpu {
    private PagerCpu() {}

    /** CPU nanoseconds used so far by this JVM's pager threads (every thread named "pager-...", the core among them). */
    static long coreThreadCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("pager-")) {
                long cpu = threads.getThreadCpuTime(info.getThreadId());
                sum += Math.max(cpu, 0);
            }
        }
        return sum;
    }
}
