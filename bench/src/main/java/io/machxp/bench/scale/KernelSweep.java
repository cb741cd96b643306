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
 * @param pagerCoreCpu share of one CPU the pager's core thread used over the whole run (warm-up included)
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
            long cpu0 = PagerCpu.coreThreadCpuNanos();
            long t0 = System.nanoTime();
            SystemResult r = new Workload(options).run(service);
            double wall = System.nanoTime() - t0;
            double cpu = (PagerCpu.coreThreadCpuNanos() - cpu0) / wall;
            double perSecond = r.messagesPerOp() == null ? 0 : r.messagesPerOp() * r.opsPerSecond();
            return new KernelSweep(label, options.nodes(), r, Math.round(perSecond), Math.round(cpu * 1000) / 1000.0);
        }
    }
}
