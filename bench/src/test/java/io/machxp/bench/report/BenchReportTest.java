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
    private static final Guarantees R3 = new Guarantees(3, "Raft (Apache Ratis)", true, Guarantees.Durability.DISK,
            false, "3 pager replicas (Raft), log fsynced");
    private static final Guarantees R3_NOSYNC = new Guarantees(3, "Raft (Apache Ratis)", false,
            Guarantees.Durability.WRITTEN, false, "3 pager replicas (Raft), log not fsynced");
    private static final Guarantees CP = new Guarantees(3, "Raft (Hazelcast CP)", false, Guarantees.Durability.MEMORY,
            true, "3 CP members (Raft), in memory");
    private static final Guarantees UNSAFE = new Guarantees(1, "none", false, Guarantees.Durability.ASYNC_BACKUP, true,
            "CP off: no Raft (unsafe mode), in memory");
    private static final Guarantees ZK = new Guarantees(1, "none", true, Guarantees.Durability.DISK, true,
            "1 server, log fsynced");
    private static final Guarantees ZK_NOSYNC = new Guarantees(1, "none", false, Guarantees.Durability.WRITTEN, true,
            "1 server, forceSync=no");

    private static SystemResult result(String name, Guarantees g, double opsPerSecond) {
        return new SystemResult(name, g, (long) opsPerSecond, 1, opsPerSecond, new SystemResult.Latency(1, 2, 3, 4), null,
                0, 0, new Fairness(5, 4, 1), 15, null, "shared: the same for all");
    }

    private static BenchReport report() {
        BenchOptions o = new BenchOptions(3, 4, 6, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ofSeconds(1),
                Duration.ofSeconds(1), 42, BenchOptions.Api.LOCAL);
        return BenchReport.of(o, List.of(result("machxp cached", Guarantees.SINGLE_PAGER, 50_000),
                result("machxp cached, 3 replicas", R3, 20_000), result("Hazelcast FencedLock", CP, 4_000),
                result("Hazelcast FencedLock, CP off", UNSAFE, 10_000), result("Curator InterProcessMutex", ZK, 1_000),
                result("Curator InterProcessMutex, forceSync=no", ZK_NOSYNC, 2_000)));
    }

    /**
     * The old rule (replicas and fsync only) called these three pairs "like for like: the peer promises
     * no more"; each peer promises more in some respect (a written log, an async backup, every
     * operation committed), and the report must say so.
     */
    @Test
    void eachRatioSaysHowThePeersGuaranteesStandToMachxps() {
        BenchReport r = report();
        assertThat(r.ratios()).hasSize(8).containsEntry("machxp cached, 3 replicas / Hazelcast FencedLock", 5.0)
                .containsEntry("machxp cached / Hazelcast FencedLock, CP off", 5.0);
        assertThat(r.likeForLike()).isEmpty();
        assertThat(r.relations()).containsEntry("machxp cached / Hazelcast FencedLock, CP off", "the peer promises more")
                .containsEntry("machxp cached / Curator InterProcessMutex, forceSync=no", "the peer promises more")
                .containsEntry("machxp cached / Curator InterProcessMutex", "the peer promises more")
                .containsEntry("machxp cached, 3 replicas / Hazelcast FencedLock", "guarantees differ")
                .containsEntry("machxp cached, 3 replicas / Curator InterProcessMutex, forceSync=no", "guarantees differ");
    }

    @Test
    void guaranteesCompareOnCopiesDurabilityAndReach() {
        assertThat(Guarantees.compare(R3_NOSYNC, CP)).as("nosync survives a process crash; CP commits every op")
                .isEqualTo(Guarantees.Relation.DIFFERENT);
        assertThat(Guarantees.compare(Guarantees.SINGLE_PAGER, ZK_NOSYNC)).isEqualTo(Guarantees.Relation.PEER_MORE);
        assertThat(Guarantees.compare(ZK, ZK_NOSYNC)).isEqualTo(Guarantees.Relation.PEER_LESS);
        assertThat(Guarantees.compare(CP, CP)).isEqualTo(Guarantees.Relation.COMPARABLE);
        assertThat(Guarantees.compare(UNSAFE, ZK_NOSYNC)).as("same rank, another kind of durability")
                .isEqualTo(Guarantees.Relation.DIFFERENT);
        assertThat(Guarantees.compare(null, CP)).isNull();
    }

    @Test
    void theTableAndTheCsvSayWhatEachRowGuarantees() {
        StringWriter table = new StringWriter();
        BenchTable.print(report(), new PrintWriter(table));
        assertThat(table.toString()).contains("guarantees").contains("3 pager replicas (Raft), log fsynced")
                .contains("CP off: no Raft (unsafe mode), in memory").contains("1 server, forceSync=no")
                .contains("(the peer promises more)").contains("(guarantees differ)")
                .doesNotContain("like for like").contains("warm-up: 1.0 s for every system")
                .contains("data step of machxp cached: shared: the same for all").contains("closed loop");
        List<String> csv = BenchCsv.of(report()).lines().toList();
        assertThat(csv).hasSize(7);
        assertThat(csv.get(0)).isEqualTo(BenchCsv.HEADER);
        assertThat(csv.get(2)).startsWith("\"machxp cached, 3 replicas\",3,Raft (Apache Ratis),true,disk,false,"
                + "\"3 pager replicas (Raft), log fsynced\",locality 0.90,local,system,15.000,");
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
        assertThat(csv.get(1)).endsWith(",true,shared: the same for all,");
        String failed = csv.get(2);
        assertThat(cells(failed)).hasSize(columns);
        assertThat(failed).isEqualTo("Curator InterProcessMutex,,,,,,,locality 0.90,local,system,,,,,,,,,,,,,,,"
                + "\"port 2181 is taken, say another\"");
    }

    /** A CSV line's cells: commas inside quotes do not split. */
    private static String[] cells(String line) {
        return line.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", -1);
    }
}
