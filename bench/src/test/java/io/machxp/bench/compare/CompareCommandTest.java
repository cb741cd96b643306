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
            Path file = dir.resolve("t-" + variant + "-0.9.json"); // the one point: alternation takes no parameter
            assertThat(out.toString()).contains(file.toString());
            String json = Files.readString(file);
            assertThat(TraceEventFormat.assertValid(json).values()).containsExactly("pager", "kernel k0", "kernel k1");
            var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            assertThat(root.get("otherData").get("title").asText()).contains(variant, "seed 1");
            assertThat(TraceEventFormat.assertFlows(root.get("traceEvents"))).isPositive();
        }
    }

    /**
     * --mode real on a tiny grid: each cell runs again over gRPC on loopback, its row lands in the
     * CSV as network loopback, and the ratio table is printed. Part II sends every lock and unlock
     * to the pager in both worlds (lock_futex, granted, released: 2 or more messages per op). A
     * cell is measured until as many ops as workers finished, however loaded the machine (no clock
     * ends it: before, 30 s did, and a cell could end with no op).
     */
    @Test
    void modeRealRunsTheGridOverGrpcAndPrintsTheRatios() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cl = BenchMain.commandLine();
        cl.setOut(new PrintWriter(out));
        int code = cl.execute("compare", "--variants", "no-cache,cache", "--workload", "locality", "--kernels", "2",
                "--threads", "1", "--futexes", "2", "--duration-ms", "50", "--csv", dir.resolve("c.csv").toString(),
                "--chart", dir.resolve("c.png").toString(), "--jobs", "1", "--mode", "real");
        assertThat(code).isZero();
        assertThat(out.toString()).contains("real / sim", "over gRPC on loopback", "--mode real");
        List<String> real = Files.readAllLines(dir.resolve("c.csv")).stream().filter(l -> l.contains(",loopback,")).toList();
        assertThat(real).hasSize(2);
        String[] partTwo = real.get(0).split(",");
        assertThat(partTwo[0]).isEqualTo("no-cache");
        assertThat(Long.parseLong(partTwo[5])).as("ops: at least one per worker").isGreaterThanOrEqualTo(2);
        assertThat(Double.parseDouble(partTwo[10])).as("msgs per op").isGreaterThanOrEqualTo(2.0);
        assertThat(Long.parseLong(real.get(1).split(",")[5])).isGreaterThanOrEqualTo(2);
    }

    @Test
    void aBadSweepIsAUsageError() {
        CommandLine cl = BenchMain.commandLine();
        cl.setErr(new PrintWriter(new StringWriter()));
        assertThat(cl.execute("compare", "--workload", "alternation", "--sweep", "locality=0..1")).isEqualTo(1);
        assertThat(cl.execute("compare", "--sweep", "locality=1..0")).isEqualTo(1);
        assertThat(cl.execute("compare", "--mode", "linux")).isEqualTo(1);
    }
}
