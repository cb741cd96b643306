package io.machxp.kernel.shm;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * What a test's kernel start did and when, for its failure's report: when a seam ran (from the
 * start's beginning), the session directories other kernels of the JVM made meanwhile, when and how
 * the start ended, and the CPU its thread and the process took, with the load. A start that waited
 * out the test's bound then says whether it was starved (the seam late, little CPU) or stuck (the
 * seam early, the start ended only by the bound's interrupt).
 */
final class StartTimeline {
    private final long began = System.nanoTime();
    private final long threadCpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    private final long processCpu = processCpu();
    private final List<String> seam = new CopyOnWriteArrayList<>();
    private final List<String> others = new CopyOnWriteArrayList<>();

    /** Any thread: the seam ran for the test's own directory and did {@code what}. */
    void seam(String what) {
        seam.add(what + " at " + millis() + " ms");
    }

    /** Any thread: the seam ran for another kernel's directory (not the test's). */
    void other(Path making) {
        others.add(making + " at " + millis() + " ms");
    }

    int seamCalls() {
        return seam.size();
    }

    /** On the start's thread, once it ended with {@code thrown} (null: it returned): the report. */
    String ended(Throwable thrown) {
        return "kernel start: seam " + seam + ", other kernels' directories " + others + ", ended at " + millis()
                + " ms with " + thrown + "; CPU " + TimeUnit.NANOSECONDS.toMillis(
                        ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - threadCpu)
                + " ms on its thread, " + TimeUnit.NANOSECONDS.toMillis(processCpu() - processCpu)
                + " ms in the process; load " + ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private long millis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
    }

    private static long processCpu() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }
}
