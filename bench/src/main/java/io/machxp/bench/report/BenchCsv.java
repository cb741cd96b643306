package io.machxp.bench.report;

import io.machxp.bench.workload.Guarantees;
import io.machxp.bench.workload.SystemResult;
import java.util.List;
import java.util.Locale;

/**
 * machxp bench's report as CSV: a header, then one line per system, its guarantees first; a system
 * that could not be run has its name, empty measurements and the reason in {@code error}.
 */
public final class BenchCsv {
    public static final String HEADER = "system,replicas,consensus,fsync,durability,every_op_replicated,guarantees,"
            + "workload,api,data,warmup_s,ops,ops_per_s,p50_us,p99_us,p999_us,max_us,xp_msgs_per_op,handoff_share,"
            + "max_wait_us,worst_p99_wait_us,jain,correct,data_step,error";

    private BenchCsv() {}

    public static String of(BenchReport report) {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        String workload = report.workload().pattern().equals("alternation") ? "alternation"
                : String.format(Locale.ROOT, "locality %.2f", report.workload().locality());
        for (SystemResult r : report.results()) {
            Guarantees g = r.guarantees();
            b.append(String.join(",", List.of(cell(r.system()), g == null ? "" : Integer.toString(g.replicas()),
                    g == null ? "" : cell(g.consensus()), g == null ? "" : Boolean.toString(g.fsync()),
                    g == null ? "" : g.durability().name().toLowerCase(Locale.ROOT),
                    g == null ? "" : Boolean.toString(g.everyOperation()),
                    g == null ? "" : cell(g.summary()), cell(workload), report.workload().api(), report.workload().data(),
                    num(r.warmupSeconds()), Long.toString(r.ops()),
                    num(r.opsPerSecond()), num(r.latencyMicros().p50()), num(r.latencyMicros().p99()),
                    num(r.latencyMicros().p999()), num(r.latencyMicros().max()),
                    r.messagesPerOp() == null ? "" : num(r.messagesPerOp()),
                    r.handoffShare() == null ? "" : num(r.handoffShare()), num(r.fairness().maxWaitMicros()),
                    num(r.fairness().worstP99WaitMicros()), num(r.fairness().jain()), Boolean.toString(r.correct()),
                    cell(r.data() == null ? "" : r.data()), "")))
                    .append('\n');
        }
        for (BenchReport.Failure f : report.failures()) {
            // system, 6 empty guarantee cells, workload, api, data, 14 empty measurements, error
            b.append(cell(f.system())).append(",".repeat(7)).append(cell(workload)).append(',')
                    .append(report.workload().api()).append(',').append(report.workload().data())
                    .append(",".repeat(15)).append(cell(f.error())).append('\n');
        }
        return b.toString();
    }

    /** A field quoted when it holds a comma or a quote (RFC 4180). */
    static String cell(String text) {
        if (text.indexOf(',') < 0 && text.indexOf('"') < 0) {
            return text;
        }
        return '"' + text.replace("\"", "\"\"") + '"';
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
