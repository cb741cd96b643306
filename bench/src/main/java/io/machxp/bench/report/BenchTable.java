package io.machxp.bench.report;

import io.machxp.bench.workload.SystemResult;
import java.io.PrintWriter;
import java.util.Locale;

/** machxp bench's table: one row per system with what it guarantees, then the ratios. */
public final class BenchTable {
    private BenchTable() {}

    public static void print(BenchReport report, PrintWriter out) {
        BenchReport.Workload w = report.workload();
        out.printf(Locale.ROOT, "%nworkload: %d kernels x %d threads, %d locks, %s, critical section %.0f us,"
                + " think %.0f us, writes %.0f%%, %s workers; %.0f s warm-up, %.0f s measured per system%n",
                w.kernels(), w.threadsPerKernel(), w.locks(), w.pattern().equals("alternation") ? "strict alternation"
                        : String.format(Locale.ROOT, "locality %.2f", w.locality()), w.criticalMicros(), w.thinkMicros(),
                100 * w.writes(), w.api(), w.warmupSeconds(), w.durationSeconds());
        out.printf(Locale.ROOT, "machine: %d CPUs, %s, %s%n%n", report.machine().cpus(), report.machine().java(),
                report.machine().os());
        out.printf(Locale.ROOT, "%-50s %-40s %12s %10s %10s %10s %10s %10s %12s %12s %6s %10s%n", "system", "guarantees", "ops/s", "p50 us", "p99 us",
                "p99.9 us", "max us", "XP msg/op", "max wait us", "p99 wait us", "Jain", "correct");
        for (SystemResult r : report.results()) {
            out.printf(Locale.ROOT, "%-50s %-40s %12.0f %10.1f %10.1f %10.1f %10.1f %10s %12.1f %12.1f %6.3f %10s%n",
                    r.system(), r.guarantees() == null ? "-" : r.guarantees().summary(),
                    r.opsPerSecond(), r.latencyMicros().p50(), r.latencyMicros().p99(), r.latencyMicros().p999(),
                    r.latencyMicros().max(), r.messagesPerOp() == null ? "-" : String.format(Locale.ROOT, "%.2f",
                            r.messagesPerOp()), r.fairness().maxWaitMicros(), r.fairness().worstP99WaitMicros(),
                    r.fairness().jain(),
                    r.correct() ? "yes" : "NO (" + r.violations() + " overlaps, " + r.lostUpdates() + " lost)");
        }
        for (BenchReport.Failure f : report.failures()) {
            out.printf(Locale.ROOT, "%-50s FAILED: %s%n", f.system(), f.error());
        }
        if (!report.ratios().isEmpty()) {
            out.println();
            report.ratios().forEach((what, ratio) -> out.printf(Locale.ROOT, "%-100s %8.2fx%s%n", what, ratio,
                    report.likeForLike().contains(what) ? "  (like for like: the peer promises no more)" : ""));
        }
        out.flush();
    }
}
