package io.machxp.bench.compare;

import io.machxp.workbench.WorkbenchResult;
import java.util.List;

/** The table machxp compare prints: one row per (parameter, variant). */
final class CompareTable {
    private CompareTable() {}

    static String text(List<WorkbenchResult> results) {
        StringBuilder b = new StringBuilder(String.format("%-6s %-18s %10s %9s %9s %8s %9s %8s %10s %10s %10s %6s%n",
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
}
