package io.machxp.bench.pagerload;

import io.machxp.bench.systems.MachxpService;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.SystemResult;
import io.machxp.bench.workload.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Pager efficiency: XP messages the pager handles per second of its own CPU. The pager runs as
 * {@code machxp pager} in a child process; kernels in this JVM drive the bench workload on it in
 * the Part II variant (--no-cache: every lock and unlock is a request to the pager) over real
 * gRPC on loopback. Over the measured window it counts the XP messages the pager received and
 * sent and the CPU time (user + system, every thread) of the pager's process.
 *
 * <p>The kernels' leases are those of {@code machxp pager --lease-ms}; on a loaded machine a kernel
 * starved of CPU for a whole lease is declared dead and its futexes become unrecoverable, which
 * ends the run: a long lease keeps the measurement about message handling.
 */
public final class PagerEfficiency {
    /**
     * @param messages XP messages at the pager over the window, both directions
     * @param seconds the window's wall time
     * @param pagerCpuSeconds CPU time of the pager process over the window
     * @param loadAverage the machine's load averages (1, 5, 15 minutes) at the end (other processes share the cores)
     * @param workload what the workers saw (throughput, latency, violations, lost updates)
     * @param threadCpuSeconds the pager's CPU over the window by thread name, the largest first
     *     ("pager-NAME-1-1" is the core thread; the rest is the JIT, GC and gRPC's helpers)
     */
    public record Result(long messages, double seconds, double pagerCpuSeconds, String loadAverage,
            SystemResult workload, Map<String, Double> threadCpuSeconds) {
        public double messagesPerSecond() {
            return messages / seconds;
        }

        /** The share of one CPU the pager used. */
        public double pagerCpuShare() {
            return pagerCpuSeconds / seconds;
        }

        public double messagesPerCpuSecond() {
            return messages / pagerCpuSeconds;
        }

        public boolean correct() {
            return workload.violations() == 0 && workload.lostUpdates() == 0;
        }
    }

    private PagerEfficiency() {}

    /** Runs {@code options}' workload (the warm-up, then the measured window) on a pager process. */
    public static Result measure(BenchOptions options, long leaseMillis, List<String> pagerJvmArgs) throws Exception {
        Map.Entry<String, Long> object = MachxpService.objectBytes(options);
        try (PagerProcess pager = PagerProcess.start(object.getKey(), object.getValue(), leaseMillis,
                pagerJvmArgs)) {
            String target = pager.target(120);
            try (MeteredService service = new MeteredService(
                    MachxpService.onPager(MachxpService.Mode.NO_CACHE, options, target), pager, target)) {
                SystemResult workload;
                try {
                    workload = new Workload(options).run(service);
                } catch (IllegalStateException e) {
                    throw new IllegalStateException(e.getMessage() + "\nthe pager process's output:\n" + pager.output(), e);
                }
                List<MeteredService.Sample> s = service.samples();
                MeteredService.Sample begin = s.get(s.size() - 2);
                MeteredService.Sample end = s.get(s.size() - 1);
                return new Result(end.messages() - begin.messages(), (end.nanoTime() - begin.nanoTime()) / 1e9,
                        (end.cpuNanos() - begin.cpuNanos()) / 1e9, loadAverage(), workload, byThread(begin, end));
            }
        }
    }

    private static Map<String, Double> byThread(MeteredService.Sample begin, MeteredService.Sample end) {
        Map<String, Double> used = new java.util.LinkedHashMap<>();
        end.threadCpuNanos().entrySet().stream()
                .map(e -> Map.entry(e.getKey(), (e.getValue() - begin.threadCpuNanos().getOrDefault(e.getKey(), 0L)) / 1e9))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> used.put(e.getKey(), e.getValue()));
        return used;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
