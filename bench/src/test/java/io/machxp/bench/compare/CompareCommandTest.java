package io.machxp.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.bench.cli.BenchMain;
import io.machxp.trace.TraceEventFormat;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** machxp compare runs a grid of variants and sweep points and writes its table, CSV and chart. */
class CompareCommandTest {
    @TempDir
    Path dir;

    @Test
    void aSweepOfTwoVariantsWritesOneRowPerPointAndVariant() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cl = BenchMain.commandLine();
        cl.setOut(new PrintWriter(out));
        int code = cl.execute("compare", "--variants", "cache,no-cache", "--workload", "locality", "--sweep",
                "locality=0..1:0.5", "--duration-ms", "10", "--csv", dir.resolve("c.csv").toString(), "--chart",
                dir.resolve("c.png").toString(), "--jobs", "2");
        assertThat(code).isZero();
        List<String> csv = Files.readAllLines(dir.resolve("c.csv"));
        assertThat(csv).hasSize(1 + 3 * 2);
        assertThat(csv.get(0)).startsWith("variant,workload,param");
        assertThat(out.toString()).contains("seed 1", "no-cache", "Jain");
        assertThat(Files.size(dir.resolve("c.png"))).isPositive();
    }

    /** --trace: one trace-event file per run of the grid, each of the shared structure, in virtual time. */
    @Test
    void traceWritesOneValidFilePerRun() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cl = BenchMain.commandLine();
        cl.setOut(new PrintWriter(out));
        Path base = dir.resolve("t.json");
        int code = cl.execute("compare", "--variants", "cache,piggyback", "--workload", "alternation", "--kernels", "2",
                "--threads", "1", "--futexes", "2", "--duration-ms", "2", "--csv", dir.resolve("c.csv").toString(),
                "--chart", dir.resolve("c.png").toString(), "--jobs", "2", "--trace", base.toString());
        assertThat(code).isZero();
        assertThat(Files.exists(base)).as("a grid of two runs: one file each").isFalse();
        for (String variant : List.of("cache", "piggyback")) {
            Path file = dir.resolve("t-" + variant + "-0.0.json");
            assertThat(out.toString()).contains(file.toString());
            String json = Files.readString(file);
            assertThat(TraceEventFormat.assertValid(json).values()).containsExactly("pager", "kernel k0", "kernel k1");
            var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            assertThat(root.get("otherData").get("title").asText()).contains(variant, "seed 1");
            assertThat(TraceEventFormat.assertFlows(root.get("traceEvents"))).isPositive();
        }
    }

    @Test
    void aBadSweepIsAUsageError() {
        CommandLine cl = BenchMain.commandLine();
        cl.setErr(new PrintWriter(new StringWriter()));
        assertThat(cl.execute("compare", "--workload", "alternation", "--sweep", "locality=0..1")).isEqualTo(1);
        assertThat(cl.execute("compare", "--sweep", "locality=1..0")).isEqualTo(1);
    }
}
