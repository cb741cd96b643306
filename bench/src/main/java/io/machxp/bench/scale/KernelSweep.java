package io.machxp.bench.scale;

import io.machxp.bench.systems.MachxpService;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.SystemResult;
import io.machxp.bench.workload.Workload;

/**
 * One point of the scale measurements: the bench workload on machxp with a given number of
 * kernels (one pager, all in this JVM), and what the pager did meanwhile.
 *
 * @param kernels kernels connected to the one pager
 * @param result the workload's result (throughput, latency, messages per operation, checks)
 * @param pagerMessagesPerSecond XP messages the pager received and sent per second while measured
 * @param pagerCoreCpu share of one CPU used by this JVM's threads named "pager-..." (the pager's core
 *     and its other threads), from the measurement's begin to the workers' end (no warm-up)
 */
public record KernelSweep(String label, int kernels, SystemResult result, double pagerMessagesPerSecond,
        double pagerCoreCpu) {

    public static KernelSweep run(String label, MachxpService.Mode mode, BenchOptions options) throws Exception {
        return run(label, mode, options, 1);
    }

    /** As {@link #run(String, MachxpService.Mode, BenchOptions)} with {@code pagers} pagers (CPU and messages summed). */
    public static KernelSweep run(String label, MachxpService.Mode mode, BenchOptions options, int pagers)
            throws Exception {
        try (MachxpService service = new MachxpService(mode, options, pagers)) {
            long[] atBegin = new long[2]; // the pager threads' CPU and the time when the measurement begins
            SystemResult r = new Workload(options).atBegin(() -> {
                atBegin[0] = PagerCpu.coreThreadCpuNanos();
                atBegin[1] = System.nanoTime();
            }).run(service);
            double wall = System.nanoTime() - atBegin[1];
            double cpu = (PagerCpu.coreThreadCpuNanos() - atBegin[0]) / wall;
            double perSecond = r.messagesPerOp() == null ? 0 : r.messagesPerOp() * r.opsPerSecond();
            return new KernelSweep(label, options.nodes(), r, Math.round(perSecond), Math.round(cpu * 1000) / 1000.0);
        }
    }
}
