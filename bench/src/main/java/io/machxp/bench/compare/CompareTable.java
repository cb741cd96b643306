package io.machxp.bench.compare;

import io.machxp.workbench.WorkbenchResult;
import java.util.List;
import java.util.Locale;

/** The table machxp compare prints: one row per (parameter, variant). */
final class CompareTable {
    private CompareTable() {}

    static String text(List<WorkbenchResult> results) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-6s %-18s %10s %9s %9s %8s %9s %8s %10s %10s %10s %6s%n",
                "param", "variant", "ops/s", "p50 µs", "p99 µs", "msg/op", "bytes/op", "handoffs", "handoff µs",
                "max wait", "p99 wait", "Jain"));
        for (WorkbenchResult r : results) {
            b.append(String.format(java.util.Locale.ROOT,
                    "%-6.2f %-18s %10.0f %9.1f %9.1f %8.2f %9.0f %8d %10.1f %10.1f %10.1f %6.3f%n", r.param(), r.variant(),
                    r.opsPerSecond(), r.p50Micros(), r.p99Micros(), r.msgsPerOp(), r.bytesPerOp(), r.handoffs(),
                    r.handoffMicros(), r.maxWaitMicros(), r.worstP99WaitMicros(), r.jain()));
        }
        return b.toString();
    }

    /**
     * compare --mode real: each cell's real figures beside the simulator's and their ratio (real /
     * sim) for throughput, median latency and XP messages per op. {@code sim} and {@code real} are
     * the same grid in the same order.
     */
    static String ratios(List<WorkbenchResult> sim, List<WorkbenchResult> real) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-6s %-18s %10s %10s %7s %9s %9s %7s %8s %8s %7s%n",
                "param", "variant", "sim ops/s", "real ops/s", "ratio", "sim p50", "real p50", "ratio", "sim msg",
                "real msg", "ratio"));
        for (int i = 0; i < sim.size(); i++) {
            WorkbenchResult s = sim.get(i);
            WorkbenchResult r = real.get(i);
            b.append(String.format(java.util.Locale.ROOT,
                    "%-6.2f %-18s %10.0f %10.0f %7.2f %9.1f %9.1f %7.2f %8.2f %8.2f %7.2f%n", s.param(), s.variant(),
                    s.opsPerSecond(), r.opsPerSecond(), ratio(r.opsPerSecond(), s.opsPerSecond()), s.p50Micros(),
                    r.p50Micros(), ratio(r.p50Micros(), s.p50Micros()), s.msgsPerOp(), r.msgsPerOp(),
                    ratio(r.msgsPerOp(), s.msgsPerOp())));
        }
        return b.toString();
    }

    /** real / sim; NaN when the simulator's figure is 0 (printed as NaN: no ratio). */
    static double ratio(double real, double sim) {
        return sim == 0 ? Double.NaN : real / sim;
    }
}
