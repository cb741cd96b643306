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

/** machxp bench as a user runs it: JSON, the chart, and a clear error for a bad option. */
class BenchCommandTest {
    @TempDir
    Path dir;

    @Test
    void quickRunPrintsJsonAndDrawsTheChart() throws Exception {
        Path chart = dir.resolve("bench.png");
        CliRun r = CliRun.of("bench", "--quick", "--systems", "cached,no-cache", "--kernels", "2", "--threads", "2",
                "--json", "--no-progress", "--chart", chart.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("workload").get("kernels").asInt()).isEqualTo(2);
        assertThat(report.get("results")).hasSize(2);
        for (JsonNode system : report.get("results")) {
            assertThat(system.get("ops").asLong()).isPositive();
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
        CliRun r = CliRun.of("bench", "--quick", "--systems", "cached", "--kernels", "2", "--threads", "2",
                "--workload", "alternation", "--json", "--no-progress", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("workload").get("pattern").asText()).isEqualTo("alternation");
        JsonNode cached = report.get("results").get(0);
        assertThat(cached.get("ops").asLong()).isPositive();
        assertThat(cached.get("fairness").get("jain").asDouble()).isBetween(0.5, 1.0);
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
        CliRun r = CliRun.of("bench", "--quick", "--systems", "machxp-r3", "--kernels", "2", "--threads", "2", "--json",
                "--no-progress", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode system = new ObjectMapper().readTree(r.out()).get("results").get(0);
        assertThat(system.get("system").asText()).isEqualTo("machxp cached, 3 replicas");
        assertThat(system.get("guarantees").get("replicas").asInt()).isEqualTo(3);
        assertThat(system.get("guarantees").get("fsync").asBoolean()).isTrue();
        assertThat(system.get("guarantees").get("consensus").asText()).contains("Ratis");
        assertThat(system.get("ops").asLong()).isPositive();
        assertThat(system.get("messagesPerOp").asDouble()).as("the replicas count XP messages").isPositive();
        assertThat(system.get("violations").asLong()).isZero();
        assertThat(system.get("lostUpdates").asLong()).isZero();
    }

    /**
     * The three replicas with their Raft logs not fsynced: the workload runs correctly, the row says
     * it does not sync, and its ratio to Hazelcast's CP group (in memory) is like for like.
     */
    @Test
    void replicatedMachxpWithoutFsyncSaysSoAndIsLikeForLikeWithHazelcastCp() throws Exception {
        CliRun r = CliRun.of("bench", "--quick", "--systems", "machxp-r3-nosync,hazelcast-cp", "--kernels", "2",
                "--threads", "2", "--json", "--no-progress", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(r.out());
        JsonNode system = report.get("results").get(0);
        assertThat(system.get("system").asText()).isEqualTo("machxp cached, 3 replicas, no fsync");
        assertThat(system.get("guarantees").get("replicas").asInt()).isEqualTo(3);
        assertThat(system.get("guarantees").get("fsync").asBoolean()).isFalse();
        assertThat(system.get("guarantees").get("consensus").asText()).contains("Ratis");
        assertThat(system.get("guarantees").get("summary").asText()).contains("not fsynced");
        assertThat(system.get("ops").asLong()).isPositive();
        assertThat(system.get("messagesPerOp").asDouble()).as("the replicas count XP messages").isPositive();
        assertThat(system.get("violations").asLong()).isZero();
        assertThat(system.get("lostUpdates").asLong()).isZero();
        assertThat(report.get("likeForLike").toString())
                .contains("machxp cached, 3 replicas, no fsync / Hazelcast FencedLock");
    }

    /** Hazelcast with CP off and ZooKeeper without fsync run, and their CSV lines say what they give up. */
    @Test
    void peersWithoutRaftOrFsyncSayWhatTheyGiveUp() {
        CliRun r = CliRun.of("bench", "--quick", "--systems", "hazelcast-unsafe,zookeeper-nosync", "--kernels", "2", "--threads",
                "2", "--csv", "--no-progress", "--no-chart");
        assertThat(r.exit()).as(r.err()).isZero();
        java.util.List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).startsWith("\"Hazelcast FencedLock, CP off\",1,none,false,").endsWith(",true,");
        assertThat(lines.get(2)).startsWith("\"Curator InterProcessMutex, forceSync=no\",1,none,false,")
                .endsWith(",true,"); // correct, and no error
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
