package io.machxp.bench.report;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Guarantees;
import io.machxp.bench.workload.SystemResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What machxp bench prints and writes as JSON: the machine, the workload, each system's result
 * with its guarantees, and the throughput of each machxp cached row (one pager, or replicated) as
 * a multiple of each peer's, keyed "machxp row / peer row". {@code likeForLike} names the ratios
 * whose peer promises no more than the machxp row: as many replicas, and fsync only if machxp
 * fsyncs too. {@code failures} names the systems that could not be run (the others ran).
 */
public record BenchReport(Machine machine, Workload workload, List<SystemResult> results, Map<String, Double> ratios,
        List<String> likeForLike, List<Failure> failures) {

    /** A system that did not start or whose run broke off, and the sentence that says why. */
    public record Failure(String system, String error) {}

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
        return of(options, results, List.of());
    }

    public static BenchReport of(BenchOptions options, List<SystemResult> results, List<Failure> failures) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        List<String> likeForLike = new ArrayList<>();
        for (SystemResult machxp : results) {
            if (!machxp.system().startsWith("machxp cached")) {
                continue;
            }
            for (SystemResult peer : results) {
                if (peer.system().startsWith("machxp") || peer.ops() == 0) {
                    continue;
                }
                String key = machxp.system() + " / " + peer.system();
                ratios.put(key, Math.round(100 * machxp.opsPerSecond() / Math.max(peer.opsPerSecond(), 1e-9)) / 100.0);
                if (likeForLike(machxp.guarantees(), peer.guarantees())) {
                    likeForLike.add(key);
                }
            }
        }
        return new BenchReport(Machine.current(), Workload.of(options), List.copyOf(results), ratios,
                List.copyOf(likeForLike), List.copyOf(failures));
    }

    /** Whether {@code peer} promises no more than {@code machxp}: as many replicas, fsync only if machxp's does. */
    static boolean likeForLike(Guarantees machxp, Guarantees peer) {
        return machxp != null && peer != null && machxp.replicas() == peer.replicas() && (machxp.fsync() || !peer.fsync());
    }

    /** Whether every system that ran kept mutual exclusion and lost no update (failures aside). */
    public boolean correct() {
        return results.stream().allMatch(SystemResult::correct);
    }
}
