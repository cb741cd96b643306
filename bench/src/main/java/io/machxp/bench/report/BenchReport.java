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
 * a multiple of each peer's, keyed "machxp row / peer row". {@code relations} says for each ratio
 * how the peer's guarantees stand to the machxp row's ({@link Guarantees#compare}: copies,
 * durability, and whether every operation reaches them); {@code likeForLike} names the ratios whose
 * guarantees are comparable (the same in all three). {@code order} is the order the systems ran in
 * and the shared warm-up before them. {@code failures} names the systems that could not be run.
 */
public record BenchReport(Machine machine, Workload workload, Order order, List<SystemResult> results,
        Map<String, Double> ratios, Map<String, String> relations, List<String> likeForLike, List<Failure> failures) {

    /**
     * How the run was ordered: the systems in the order they ran, whether that order was drawn from
     * the seed, the shared warm-up before the first (seconds; on ReentrantLocks, no system's code),
     * and per system the threads of earlier systems still alive when it started (none is best).
     */
    public record Order(List<String> systems, boolean shuffled, double sharedWarmupSeconds,
            Map<String, Integer> leftoverThreads) {
        static Order of(List<SystemResult> results) {
            return new Order(results.stream().map(SystemResult::system).toList(), false, 0, Map.of());
        }
    }

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
            String pattern, String data, long opsPerWorker) {
        static Workload of(BenchOptions o) {
            return new Workload(o.nodes(), o.threadsPerNode(), o.locks(), o.locality(), o.critical().toNanos() / 1e3,
                    o.think().toNanos() / 1e3, o.writes(), o.warmup().toMillis() / 1e3, o.duration().toMillis() / 1e3,
                    o.seed(), o.api().name().toLowerCase(java.util.Locale.ROOT),
                    o.pattern().name().toLowerCase(java.util.Locale.ROOT), o.data().name().toLowerCase(java.util.Locale.ROOT),
                    o.opsPerWorker());
        }
    }

    public static BenchReport of(BenchOptions options, List<SystemResult> results) {
        return of(options, results, List.of());
    }

    public static BenchReport of(BenchOptions options, List<SystemResult> results, List<Failure> failures) {
        return of(options, results, failures, Order.of(results));
    }

    public static BenchReport of(BenchOptions options, List<SystemResult> results, List<Failure> failures, Order order) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        Map<String, String> relations = new LinkedHashMap<>();
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
                Guarantees.Relation relation = Guarantees.compare(machxp.guarantees(), peer.guarantees());
                if (relation != null) {
                    relations.put(key, relation.words);
                }
                if (relation == Guarantees.Relation.COMPARABLE) {
                    likeForLike.add(key);
                }
            }
        }
        return new BenchReport(Machine.current(), Workload.of(options), order, List.copyOf(results), ratios, relations,
                List.copyOf(likeForLike), List.copyOf(failures));
    }

    /** Whether every system that ran kept mutual exclusion and lost no update (failures aside). */
    public boolean correct() {
        return results.stream().allMatch(SystemResult::correct);
    }
}
