package io.machxp.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.bench.cli.BenchMain;
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

    @Test
    void aBadSweepIsAUsageError() {
        CommandLine cl = BenchMain.commandLine();
        cl.setErr(new PrintWriter(new StringWriter()));
        assertThat(cl.execute("compare", "--workload", "alternation", "--sweep", "locality=0..1")).isEqualTo(1);
        assertThat(cl.execute("compare", "--sweep", "locality=1..0")).isEqualTo(1);
    }
}
