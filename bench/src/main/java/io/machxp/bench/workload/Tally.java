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
        return of(system, o, perNode, messages, counted, o.duration().toNanos() / 1e9);
    }

    /**
     * @param seconds the measurement's length: the window, or for a run bounded by operations the
     *     time from its begin to the last worker's end
     */
    public static SystemResult of(LockService system, BenchOptions o, WorkerStats[] perNode, long messages, long counted,
            double seconds) {
        WorkerStats all = new WorkerStats();
        long[] acquisitions = new long[perNode.length];
        List<Histogram> waits = new ArrayList<>();
        for (int node = 0; node < perNode.length; node++) {
            all.add(perNode[node]);
            acquisitions[node] = perNode[node].ops;
            waits.add(perNode[node].waits);
        }
        long n = all.ops;
        Histogram latency = all.latency;
        return new SystemResult(system.name(), system.guarantees(), n, seconds, n / seconds,
                new SystemResult.Latency(micros(latency.getValueAtPercentile(50)),
                        micros(latency.getValueAtPercentile(99)), micros(latency.getValueAtPercentile(99.9)),
                        micros(latency.getMaxValue())),
                messages < 0 || n == 0 ? null : Math.round(100.0 * messages / n) / 100.0,
                all.violations, all.writes - counted, Fairness.of(acquisitions, waits), o.warmup().toMillis() / 1e3,
                o.pattern() == BenchOptions.Pattern.ALTERNATION && n > 0
                        ? Math.round(1000.0 * all.handoffs / n) / 1000.0 : null,
                DataStep.of(system, o));
    }

    /** The sum of every lock's counter now, where the run keeps them ({@code --data}). */
    public static long counterSum(LockService service, Board board, BenchOptions o) throws Exception {
        return o.data() == BenchOptions.Data.SHARED ? board.counterSum() : counterSum(service, o.locks());
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
