package io.machxp.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.machxp.cli.ExitCodes;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * machxp bench as a user runs it: JSON, the chart, and a clear error for a bad option. Runs are
 * bounded by operations ({@code --ops}), not by a measured window: a loaded machine slows them
 * down, it cannot make them complete nothing.
 */
class BenchCommandTest {
    private static final String OPS = "40";
    @TempDir
    Path dir;

    @Test
    void quickRunPrintsJsonAndDrawsTheChart() throws Exception {
        Path chart = dir.resolve("bench.png");
        CliRun r = CliRun.of("bench", "--quick", "--ops", OPS, "--systems", "cached,no-cache", "--kernels", "2",
                "--threads", "2", "--json", "--no-progress", "--chart", chart.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("workload").get("kernels").asInt()).isEqualTo(2);
        assertThat(report.get("results")).hasSize(2);
        for (JsonNode system : report.get("results")) {
            assertThat(system.get("ops").asLong()).isEqualTo(4 * Long.parseLong(OPS));
            assertThat(system.get("violations").asLong()).isZero();
            assertThat(system.get("lostUpdates").asLong()).isZero();
            assertThat(system.get("latencyMicros").get("p99").asDouble()).isPositive();
        }
        assertThat(report.get("results").get(0).get("system").asText()).isEqualTo("machxp cached");
        assertThat(report.get("results").get(1).get("system").asText()).isEqualTo("machxp --no-cache");
        BufferedImage image = ImageIO.read(chart.toFile());
        assertThat(image).isNotNull();
        assertThat(image.getWidth()).isGreaterThan(image.getHeight());
    }

    @Test
    void strictAlternationIsNamedInTheReport() throws Exception {
        CliRun r = CliRun.of("bench", "--quick", "--ops", OPS, "--systems", "cached", "--kernels", "2", "--threads", "2",
                "--workload", "alternation", "--json", "--no-progress", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("workload").get("pattern").asText()).isEqualTo("alternation");
        JsonNode cached = report.get("results").get(0);
        assertThat(cached.get("ops").asLong()).isPositive();
        assertThat(cached.get("handoffShare").asDouble()).as("every operation but a lock's first a handoff")
                .isGreaterThan(0.9);
        CliRun table = CliRun.of("bench", "--quick", "--ops", OPS, "--systems", "cached", "--kernels", "2", "--threads",
                "2", "--workload", "alternation", "--no-progress", "--no-chart");
        assertThat(table.exit()).as(table.err()).isZero();
        assertThat(table.out()).contains("handoffs").contains("strict alternation (every measured operation a handoff");
    }

    /** Every system the same warm-up, said per row; the order and the shared warm-up in the report. */
    @Test
    void everySystemGetsTheSameWarmupAndTheReportSaysSo() throws Exception {
        CliRun r = CliRun.of("bench", "--warmup", "200ms", "--jvm-warmup", "300ms", "--ops", OPS, "--systems",
                "cached,no-cache,piggyback", "--shuffle", "--kernels", "2", "--threads", "1", "--json", "--no-progress",
                "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        for (JsonNode system : report.get("results")) {
            assertThat(system.get("warmupSeconds").asDouble()).as(system.get("system").asText()).isEqualTo(0.2);
            assertThat(system.get("data").asText()).startsWith("shared:");
        }
        assertThat(report.get("order").get("sharedWarmupSeconds").asDouble()).isEqualTo(0.3);
        assertThat(report.get("order").get("shuffled").asBoolean()).isTrue();
        assertThat(report.get("order").get("systems")).hasSize(3);
        assertThat(report.get("workload").get("data").asText()).isEqualTo("shared");
    }

    @Test
    void unknownWorkloadIsAClearError() {
        CliRun r = CliRun.of("bench", "--workload", "zigzag", "--no-chart");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--workload").contains("LOCALITY, ALTERNATION");
    }

    @Test
    void unknownSystemIsAClearError() {
        CliRun r = CliRun.of("bench", "--systems", "cached,etcd", "--no-chart");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("unknown system 'etcd'").contains("machxp, no-cache, piggyback, machxp-r3");
    }

    /** The pager as three Ratis replicas in this JVM: it runs the workload correctly and says what it promises. */
    @Test
    void replicatedMachxpSaysItKeepsThreeReplicasAndFsyncs() throws Exception {
        CliRun r = CliRun.of("bench", "--quick", "--ops", OPS, "--systems", "machxp-r3", "--kernels", "2", "--threads",
                "2", "--json", "--no-progress", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode system = new ObjectMapper().readTree(r.out()).get("results").get(0);
        assertThat(system.get("system").asText()).isEqualTo("machxp cached, 3 replicas");
        assertThat(system.get("guarantees").get("replicas").asInt()).isEqualTo(3);
        assertThat(system.get("guarantees").get("fsync").asBoolean()).isTrue();
        assertThat(system.get("guarantees").get("consensus").asText()).contains("Ratis");
        assertThat(system.get("guarantees").get("everyOperation").asBoolean()).as("cached ops stay in the kernel")
                .isFalse();
        assertThat(system.get("guarantees").get("summary").asText()).contains("handoffs committed")
                .contains("cached ops stay in the kernel");
        assertThat(system.get("ops").asLong()).isEqualTo(4 * Long.parseLong(OPS));
        assertThat(system.get("violations").asLong()).isZero();
        assertThat(system.get("lostUpdates").asLong()).isZero();
    }

    /**
     * The three replicas with their Raft logs not fsynced: the workload runs correctly, the row says
     * it does not sync, and its ratio to Hazelcast's CP group says the guarantees differ (its log
     * survives a crash of every replica process, Hazelcast CP commits every operation).
     */
    @Test
    void replicatedMachxpWithoutFsyncSaysSoAndHowItComparesWithHazelcastCp() throws Exception {
        CliRun r = CliRun.of("bench", "--quick", "--ops", OPS, "--systems", "machxp-r3-nosync,hazelcast-cp", "--kernels",
                "2", "--threads", "2", "--json", "--no-progress", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        JsonNode system = report.get("results").get(0);
        assertThat(system.get("system").asText()).isEqualTo("machxp cached, 3 replicas, no fsync");
        assertThat(system.get("guarantees").get("replicas").asInt()).isEqualTo(3);
        assertThat(system.get("guarantees").get("fsync").asBoolean()).isFalse();
        assertThat(system.get("guarantees").get("consensus").asText()).contains("Ratis");
        assertThat(system.get("guarantees").get("summary").asText()).contains("not fsynced");
        assertThat(system.get("ops").asLong()).isEqualTo(4 * Long.parseLong(OPS));
        assertThat(system.get("violations").asLong()).isZero();
        assertThat(system.get("lostUpdates").asLong()).isZero();
        assertThat(report.get("likeForLike")).isEmpty();
        assertThat(report.get("relations").get("machxp cached, 3 replicas, no fsync / Hazelcast FencedLock").asText())
                .isEqualTo("guarantees differ");
    }

    /** Hazelcast with CP off and ZooKeeper without fsync run, and their CSV lines say what they give up. */
    @Test
    void peersWithoutRaftOrFsyncSayWhatTheyGiveUp() {
        CliRun r = CliRun.of("bench", "--quick", "--ops", OPS, "--systems", "hazelcast-unsafe,zookeeper-nosync", "--kernels",
                "2", "--threads", "2", "--csv", "--no-progress", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        java.util.List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).startsWith("\"Hazelcast FencedLock, CP off\",1,none,false,async_backup,true,")
                .endsWith(",true,\"" + io.machxp.bench.workload.DataStep.SHARED + "\",");
        assertThat(lines.get(2)).startsWith("\"Curator InterProcessMutex, forceSync=no\",1,none,false,written,true,")
                .endsWith(",true,\"" + io.machxp.bench.workload.DataStep.SHARED + "\","); // correct, and no error
    }

    @Test
    void outOfRangeWorkloadIsAClearError() {
        CliRun r = CliRun.of("bench", "--locality", "1.5", "--no-chart");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("--locality must be between 0 and 1");
        CliRun warmup = CliRun.of("bench", "--jvm-warmup", "-1s", "--no-chart");
        assertThat(warmup.exit()).as("a usage error").isEqualTo(ExitCodes.USAGE);
        assertThat(warmup.err()).contains("--jvm-warmup").contains("is not a duration");
    }
}
