package io.machxp.bench.report;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.SystemResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What machxp bench prints and writes as JSON: the machine, the workload, each system's result,
 * and machxp cached's throughput as a multiple of each peer's.
 */
public record BenchReport(Machine machine, Workload workload, List<SystemResult> results, Map<String, Double> ratios) {

    /** Where the numbers were measured. */
    public record Machine(int cpus, String java, String os) {
        public static Machine current() {
            return new Machine(Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                    System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        }
    }

    /** The workload, in plain numbers. */
    public record Workload(int kernels, int threadsPerKernel, int locks, double locality, double criticalMicros,
            double thinkMicros, double writes, double warmupSeconds, double durationSeconds, long seed, String api,
            String pattern) {
        static Workload of(BenchOptions o) {
            return new Workload(o.nodes(), o.threadsPerNode(), o.locks(), o.locality(), o.critical().toNanos() / 1e3,
                    o.think().toNanos() / 1e3, o.writes(), o.warmup().toMillis() / 1e3, o.duration().toMillis() / 1e3,
                    o.seed(), o.api().name().toLowerCase(java.util.Locale.ROOT),
                    o.pattern().name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    public static BenchReport of(BenchOptions options, List<SystemResult> results) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        Optional<SystemResult> cached = results.stream().filter(r -> r.system().startsWith("machxp cached")).findFirst();
        cached.ifPresent(c -> results.stream().filter(r -> !r.system().startsWith("machxp") && r.ops() > 0).forEach(peer ->
                ratios.put(c.system() + " / " + peer.system(),
                        Math.round(10 * c.opsPerSecond() / Math.max(peer.opsPerSecond(), 1e-9)) / 10.0)));
        return new BenchReport(Machine.current(), Workload.of(options), List.copyOf(results), ratios);
    }

    public boolean correct() {
        return results.stream().allMatch(SystemResult::correct);
    }
}
