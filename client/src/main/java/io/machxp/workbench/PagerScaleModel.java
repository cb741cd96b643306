package io.machxp.workbench;

import io.machxp.variant.Variants;
import java.util.ArrayList;
import java.util.List;

/**
 * Throughput against the number of pagers in the simulator's CPU-cost model, where each pager and
 * each kernel is a CPU of its own that spends the network model's cost on every message it
 * receives, one message at a time ({@link NetworkModel}: 2 µs on a LAN, 1 µs in a datacenter).
 * What a machine with a core per pager would give, which a 2-core machine cannot show.
 *
 * <p>The load is the pager-bound one of {@code machxp scale}'s saturation row: Part II
 * ({@code no-cache}, every lock and unlock a round trip to the futex's pager), locality 0.9, with
 * enough kernels and workers that one pager's CPU is the bottleneck; the futexes are spread over
 * the pagers (futex i on pager i mod P), each pager serving one object.
 */
public final class PagerScaleModel {
    /** 64 kernels of 4 workers, 256 futexes, 1 µs critical sections, 5 µs think, 50 ms virtual. */
    public static final WorkbenchRun.Setup SETUP = new WorkbenchRun.Setup(64, 4, 256, 50_000_000L, 1_000, 5_000);
    /** A smaller one for smoke tests: 32 kernels of 4 workers, 128 futexes, 5 ms virtual (one pager still saturates). */
    public static final WorkbenchRun.Setup QUICK = new WorkbenchRun.Setup(32, 4, 128, 5_000_000L, 1_000, 5_000);
    public static final String VARIANT = "no-cache";
    public static final double LOCALITY = 0.9;

    /**
     * One point of the model.
     *
     * @param speedup throughput over the first point's (the fewest pagers asked for)
     * @param busiestPagerCpu the busiest pager's CPU share while measured (1: saturated)
     */
    public record Point(int pagers, double opsPerSecond, double speedup, double msgsPerOp, double busiestPagerCpu,
            double p99Micros) {}

    private PagerScaleModel() {}

    /** The model at each pager count of {@code pagers}, with {@code setup}, on {@code network}. */
    public static List<Point> run(List<Integer> pagers, NetworkModel network, WorkbenchRun.Setup setup, long seed) {
        List<Point> points = new ArrayList<>();
        double first = 0;
        for (int p : pagers) {
            WorkbenchRun.OnPagers r = WorkbenchRun.onPagers(Variants.of(VARIANT),
                    new Workload("locality", LOCALITY, setup.kernels(), setup.futexes()), LOCALITY, network, setup, seed,
                    p);
            double ops = r.result().opsPerSecond();
            if (points.isEmpty()) {
                first = ops;
            }
            points.add(new Point(p, Math.round(ops), Math.round(100 * ops / Math.max(first, 1e-9)) / 100.0,
                    Math.round(100 * r.result().msgsPerOp()) / 100.0, Math.round(1000 * r.busiestPagerCpu()) / 1000.0,
                    r.result().p99Micros()));
        }
        return points;
    }


}
