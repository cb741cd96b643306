package io.machxp.cli;

import static io.machxp.cli.UnderLocales.OTHERS;
import static io.machxp.cli.UnderLocales.sameUnderEveryLocale;
import static io.machxp.cli.UnderLocales.under;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A scenario's sim run prints the same bytes whatever the JVM's default locale: its timeline and
 * table, its JSON, and the trace command's summary and file. Each runs under the root locale and
 * under locales with a decimal comma or digits of their own, and the outputs are compared whole.
 */
class RunLocaleTest {
    private static final String SCENARIO = "../scenarios/chain-across-kernels.yaml";

    @TempDir
    Path dir;

    @Test
    void aTimelineIsTheSameUnderEveryLocale() {
        sameUnderEveryLocale("run", SCENARIO, "-v");
    }

    @Test
    void aRunsJsonIsTheSameUnderEveryLocale() {
        sameUnderEveryLocale("run", SCENARIO, "--json");
    }

    @Test
    void aTraceAndItsSummaryAreTheSameUnderEveryLocale() throws Exception {
        Path file = dir.resolve("t.json");
        Path chart = dir.resolve("c.svg");
        String rootOut = under(Locale.ROOT, "trace", SCENARIO, "-o", file.toString(), "--chart", chart.toString());
        String rootTrace = Files.readString(file);
        String rootChart = Files.readString(chart);
        for (Locale other : OTHERS) {
            assertThat(under(other, "trace", SCENARIO, "-o", file.toString(), "--chart", chart.toString()))
                    .as("summary under %s", other).isEqualTo(rootOut);
            assertThat(Files.readString(file)).as("trace under %s", other).isEqualTo(rootTrace);
            assertThat(Files.readString(chart)).as("chart under %s", other).isEqualTo(rootChart);
        }
    }
}
