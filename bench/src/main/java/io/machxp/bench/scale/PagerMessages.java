package io.machxp.bench.scale;

import io.machxp.pager.Pager;
import io.machxp.pager.core.PagerStats;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;

/** What the pager has done: XP messages received and sent, and the CPU time of its core thread. */
public final class PagerMessages {
    private PagerMessages() {}

    public static long total(Pager pager) {
        PagerStats stats = pager.stats();
        return stats.receivedByRoutine().values().stream().mapToLong(Long::longValue).sum()
                + stats.sentByRoutine().values().stream().mapToLong(Long::longValue).sum();
    }

    /** CPU nanoseconds used so far by this JVM's pager core threads (named "pager-..."). */
    public static long coreThreadCpuNanos() {
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
