package io.machxp.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.workbench.Fairness;
import io.machxp.bench.workload.Guarantees;
import io.machxp.bench.workload.SystemResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The table's workload line under strict alternation says what is true of the measured operations
 * (late8 review F10): with no warm-up each lock's first acquisition, no handoff, is measured; with
 * --ops a node's workers stop once the other nodes have finished, so "N per worker" is at most N.
 */
class BenchTableAlternationTest {
    private static String table(Duration warmup, long ops) {
        BenchOptions o = new BenchOptions(2, 1, 2, 0.9, Duration.ZERO, Duration.ZERO, 0.5, warmup, Duration.ofSeconds(1),
                42, BenchOptions.Api.LOCAL, BenchOptions.Pattern.ALTERNATION, BenchOptions.Data.SHARED, ops);
        SystemResult r = new SystemResult("machxp cached", Guarantees.SINGLE_PAGER, 100, 1, 100,
                new SystemResult.Latency(1, 2, 3, 4), null, 0, 0, new Fairness(5, 4, 1), 1, 0.98, "shared");
        StringWriter out = new StringWriter();
        BenchTable.print(BenchReport.of(o, List.of(r)), new PrintWriter(out));
        return out.toString();
    }

    @Test
    void withoutAWarmUpTheFirstAcquisitionsAreSaidToBeMeasured() {
        assertThat(table(Duration.ZERO, 0)).contains("but each lock's first, measured with no warm-up")
                .doesNotContain("every measured operation a handoff between nodes)");
        assertThat(table(Duration.ofSeconds(1), 0)).contains("every measured operation a handoff between nodes, but a "
                + "lock's first acquisition if the warm-up did not reach it");
    }

    @Test
    void opsUnderAlternationAreAtMostNPerWorker() {
        assertThat(table(Duration.ofSeconds(1), 50)).contains("up to 50 operations measured per worker (a node's workers "
                + "stop once every other node has finished)");
    }
}
