package io.machxp.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Guarantees;
import io.machxp.bench.workload.SystemResult;
import io.machxp.workbench.Fairness;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The report's ratios say which compare like with like, and every format (table, CSV) carries
 * each row's guarantees. Results made up here: what is checked is the report, not a run.
 */
class BenchReportTest {
    private static final Guarantees R3 = new Guarantees(3, "Raft (Apache Ratis)", true, "3 pager replicas (Raft), log fsynced");
    private static final Guarantees CP = new Guarantees(3, "Raft (Hazelcast CP)", false, "3 CP members (Raft), in memory");
    private static final Guarantees UNSAFE = new Guarantees(1, "none", false, "CP off: no Raft (unsafe mode), in memory");
    private static final Guarantees ZK = new Guarantees(1, "none", true, "1 server, log fsynced");
    private static final Guarantees ZK_NOSYNC = new Guarantees(1, "none", false, "1 server, forceSync=no");

    private static SystemResult result(String name, Guarantees g, double opsPerSecond) {
        return new SystemResult(name, g, (long) opsPerSecond, 1, opsPerSecond, new SystemResult.Latency(1, 2, 3, 4), null,
                0, 0, new Fairness(5, 4, 1));
    }

    private static BenchReport report() {
        BenchOptions o = new BenchOptions(3, 4, 6, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ofSeconds(1),
                Duration.ofSeconds(1), 42, BenchOptions.Api.LOCAL);
        return BenchReport.of(o, List.of(result("machxp cached", Guarantees.SINGLE_PAGER, 50_000),
                result("machxp cached, 3 replicas", R3, 20_000), result("Hazelcast FencedLock", CP, 4_000),
                result("Hazelcast FencedLock, CP off", UNSAFE, 10_000), result("Curator InterProcessMutex", ZK, 1_000),
                result("Curator InterProcessMutex, forceSync=no", ZK_NOSYNC, 2_000)));
    }

    @Test
    void likeForLikeMeansThePeerPromisesNoMore() {
        BenchReport r = report();
        assertThat(r.ratios()).hasSize(8).containsEntry("machxp cached, 3 replicas / Hazelcast FencedLock", 5.0)
                .containsEntry("machxp cached / Hazelcast FencedLock, CP off", 5.0);
        assertThat(r.likeForLike()).containsExactly("machxp cached / Hazelcast FencedLock, CP off",
                "machxp cached / Curator InterProcessMutex, forceSync=no",
                "machxp cached, 3 replicas / Hazelcast FencedLock");
    }

    @Test
    void theTableAndTheCsvSayWhatEachRowGuarantees() {
        StringWriter table = new StringWriter();
        BenchTable.print(report(), new PrintWriter(table));
        assertThat(table.toString()).contains("guarantees").contains("3 pager replicas (Raft), log fsynced")
                .contains("CP off: no Raft (unsafe mode), in memory").contains("1 server, forceSync=no")
                .contains("(like for like: the peer promises no more)");
        List<String> csv = BenchCsv.of(report()).lines().toList();
        assertThat(csv).hasSize(7);
        assertThat(csv.get(0)).isEqualTo(BenchCsv.HEADER);
        assertThat(csv.get(2)).startsWith("\"machxp cached, 3 replicas\",3,Raft (Apache Ratis),true,"
                + "\"3 pager replicas (Raft), log fsynced\",locality 0.90,local,");
        assertThat(csv.get(4)).startsWith("\"Hazelcast FencedLock, CP off\",1,none,false,");
        assertThat(csv.get(6)).startsWith("\"Curator InterProcessMutex, forceSync=no\",1,none,false,");
    }

    @Test
    void aSystemThatFailedIsNamedWithItsReasonAndTheOthersKeepTheirRows() {
        BenchOptions o = new BenchOptions(3, 4, 6, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ofSeconds(1),
                Duration.ofSeconds(1), 42, BenchOptions.Api.LOCAL);
        BenchReport r = BenchReport.of(o, List.of(result("machxp cached", Guarantees.SINGLE_PAGER, 50_000)),
                List.of(new BenchReport.Failure("Curator InterProcessMutex", "port 2181 is taken, say another")));
        StringWriter table = new StringWriter();
        BenchTable.print(r, new PrintWriter(table));
        assertThat(table.toString()).contains("machxp cached")
                .containsPattern("Curator InterProcessMutex +FAILED: port 2181 is taken, say another");
        assertThat(r.ratios()).isEmpty();
        List<String> csv = BenchCsv.of(r).lines().toList();
        assertThat(csv).hasSize(3);
        int columns = BenchCsv.HEADER.split(",", -1).length;
        assertThat(cells(csv.get(1))).hasSize(columns);
        assertThat(csv.get(1)).endsWith(",true,");
        String failed = csv.get(2);
        assertThat(cells(failed)).hasSize(columns);
        assertThat(failed).isEqualTo("Curator InterProcessMutex,,,,,locality 0.90,local,,,,,,,,,,,,"
                + "\"port 2181 is taken, say another\"");
    }

    /** A CSV line's cells: commas inside quotes do not split. */
    private static String[] cells(String line) {
        return line.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", -1);
    }
}
