package io.machxp.bench.workload;

import io.machxp.workbench.Fairness;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/** Turns what each node's workers measured into a system's result, the same for threads and processes. */
public final class Tally {
    private Tally() {}

    /**
     * @param perNode each node's workers' stats, merged
     * @param messages XP messages during the measurement, or -1 when the system does not count them
     * @param counted the counters' growth over the whole run, warm-up included
     */
    public static SystemResult of(LockService system, BenchOptions o, WorkerStats[] perNode, long messages, long counted) {
        WorkerStats all = new WorkerStats();
        long[] acquisitions = new long[perNode.length];
        List<Histogram> waits = new ArrayList<>();
        for (int node = 0; node < perNode.length; node++) {
            all.add(perNode[node]);
            acquisitions[node] = perNode[node].ops;
            waits.add(perNode[node].waits);
        }
        double seconds = o.duration().toNanos() / 1e9;
        long n = all.ops;
        Histogram latency = all.latency;
        return new SystemResult(system.name(), system.guarantees(), n, seconds, n / seconds,
                new SystemResult.Latency(micros(latency.getValueAtPercentile(50)),
                        micros(latency.getValueAtPercentile(99)), micros(latency.getValueAtPercentile(99.9)),
                        micros(latency.getMaxValue())),
                messages < 0 || n == 0 ? null : Math.round(100.0 * messages / n) / 100.0,
                all.violations, all.writes - counted, Fairness.of(acquisitions, waits));
    }

    /** The sum of every lock's counter now. */
    public static long counterSum(LockService service, int locks) throws Exception {
        long sum = 0;
        for (int lock = 0; lock < locks; lock++) {
            sum += service.counter(lock);
        }
        return sum;
    }

    private static double micros(long nanos) {
        return Math.round(nanos / 100.0) / 10.0;
    }
}
