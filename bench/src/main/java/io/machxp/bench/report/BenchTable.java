package io.machxp.bench.report;

import io.machxp.bench.workload.SystemResult;
import java.io.PrintWriter;
import java.util.Locale;

/** machxp bench's table: one row per system with what it guarantees, then the ratios. */
public final class BenchTable {
    private BenchTable() {}

    private static boolean alternation(BenchReport.Workload w) {
        return w.pattern().equals("alternation");
    }

    /**
     * What strict alternation promises of the measured operations: a lock's first acquisition
     * (nobody held it) is no handoff, and only a warm-up that reached every lock keeps it out of
     * the measurement (late8 review F10: the header said "every measured operation" also with
     * --warmup 0). The handoffs column gives the share measured.
     */
    private static String alternationHeader(BenchReport.Workload w) {
        return w.warmupSeconds() > 0
                ? "strict alternation (every measured operation a handoff between nodes, but a lock's first acquisition "
                        + "if the warm-up did not reach it: see handoffs)"
                : "strict alternation (every operation a handoff between nodes but each lock's first, measured with no "
                        + "warm-up: see handoffs)";
    }

    public static void print(BenchReport report, PrintWriter out) {
        BenchReport.Workload w = report.workload();
        out.printf(Locale.ROOT, "%nworkload: %d kernels x %d threads, %d locks, %s, critical section %.0f us,"
                + " think %.0f us, writes %.0f%%, %s workers, data %s; %s%n",
                w.kernels(), w.threadsPerKernel(), w.locks(), alternation(w)
                        ? alternationHeader(w)
                        : String.format(Locale.ROOT, "locality %.2f", w.locality()), w.criticalMicros(), w.thinkMicros(),
                100 * w.writes(), w.api(), w.data(), w.opsPerWorker() > 0
                        ? String.format(Locale.ROOT, alternation(w) ? "up to %d operations measured per worker (a node's "
                                + "workers stop once every other node has finished)" : "%d operations measured per worker",
                                w.opsPerWorker())
                        : String.format(Locale.ROOT, "%.0f s measured per system", w.durationSeconds()));
        BenchReport.Order order = report.order();
        out.printf(Locale.ROOT, "warm-up: %.1f s for every system (its own code)%s; order: %s%s%n", w.warmupSeconds(),
                order.sharedWarmupSeconds() > 0 ? String.format(Locale.ROOT, ", after %.1f s shared by all on"
                        + " ReentrantLocks (no system's code)", order.sharedWarmupSeconds())
                        : w.api().equals("process") ? ", each system's worker JVMs starting cold" : "",
                String.join(", ", order.systems()), order.shuffled() ? " (drawn from the seed)" : " (as given)");
        out.printf(Locale.ROOT, "machine: %d CPUs, %s, %s%n%n", report.machine().cpus(), report.machine().java(),
                report.machine().os());
        out.printf(Locale.ROOT, "%-50s %-95s %9s %12s %10s %10s %10s %10s %10s %9s %12s %12s %6s %10s%n", "system",
                "guarantees", "warm-up s", "ops/s", "p50 us", "p99 us", "p99.9 us", "max us", "XP msg/op", "handoffs",
                "max wait us", "p99 wait us", "Jain", "correct");
        for (SystemResult r : report.results()) {
            out.printf(Locale.ROOT, "%-50s %-95s %9.1f %12.0f %10.1f %10.1f %10.1f %10.1f %10s %9s %12.1f %12.1f %6.3f %10s%n",
                    r.system(), r.guarantees() == null ? "-" : r.guarantees().summary(), r.warmupSeconds(),
                    r.opsPerSecond(), r.latencyMicros().p50(), r.latencyMicros().p99(), r.latencyMicros().p999(),
                    r.latencyMicros().max(), r.messagesPerOp() == null ? "-" : String.format(Locale.ROOT, "%.2f",
                            r.messagesPerOp()), r.handoffShare() == null ? "-"
                            : String.format(Locale.ROOT, "%.1f%%", 100 * r.handoffShare()),
                    r.fairness().maxWaitMicros(), r.fairness().worstP99WaitMicros(), r.fairness().jain(),
                    r.correct() ? "yes" : "NO (" + r.violations() + " overlaps, " + r.lostUpdates() + " lost)");
        }
        for (BenchReport.Failure f : report.failures()) {
            out.printf(Locale.ROOT, "%-50s FAILED: %s%n", f.system(), f.error());
        }
        out.println();
        for (SystemResult r : report.results()) {
            out.printf(Locale.ROOT, "data step of %s: %s%n", r.system(), r.data());
        }
        if (!report.ratios().isEmpty()) {
            out.println();
            report.ratios().forEach((what, ratio) -> out.printf(Locale.ROOT, "%-100s %8.2fx%s%n", what, ratio,
                    report.relations().containsKey(what) ? "  (" + report.relations().get(what) + ")" : ""));
        }
        out.println();
        out.println("latency: per operation, lock called to unlock returned, closed loop (no intended start times:"
                + " coordinated omission applies); p50 over operations is a cached lock's CAS when most are cached."
                + " See docs/performance.md.");
        out.flush();
    }
}
