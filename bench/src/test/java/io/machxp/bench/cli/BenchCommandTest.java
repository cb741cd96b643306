package io.machxp.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.machxp.cli.ExitCodes;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** machxp bench as a user runs it: JSON, the chart, and a clear error for a bad option. */
class BenchCommandTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = BenchMain.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void quickRunPrintsJsonAndDrawsTheChart() throws Exception {
        Path chart = dir.resolve("bench.png");
        Run r = run("bench", "--quick", "--systems", "cached,no-cache", "--kernels", "2", "--threads", "2",
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
        Run r = run("bench", "--quick", "--systems", "cached", "--kernels", "2", "--threads", "2",
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
        Run r = run("bench", "--workload", "zigzag", "--no-chart");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--workload").contains("LOCALITY, ALTERNATION");
    }

    @Test
    void unknownSystemIsAClearError() {
        Run r = run("bench", "--systems", "cached,etcd", "--no-chart");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("unknown system 'etcd'").contains("cached, no-cache, piggyback, curator, hazelcast");
    }

    @Test
    void outOfRangeWorkloadIsAClearError() {
        Run r = run("bench", "--locality", "1.5", "--no-chart");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("--locality must be between 0 and 1");
        Run warmup = run("bench", "--jvm-warmup", "-1s", "--no-chart");
        assertThat(warmup.exit()).as("a usage error").isEqualTo(ExitCodes.USAGE);
        assertThat(warmup.err()).contains("--jvm-warmup").contains("is not a duration");
    }
}
