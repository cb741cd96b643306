package io.machxp.cli;

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
    private static final Locale[] OTHERS = {Locale.GERMANY, Locale.forLanguageTag("ar-EG"),
            Locale.forLanguageTag("th-TH-u-nu-thai")};

    @TempDir
    Path dir;

    private static String under(Locale locale, String... args) {
        Locale before = Locale.getDefault();
        Locale.setDefault(locale);
        try {
            ExitCodesTest.Run r = ExitCodesTest.run(args);
            assertThat(r.exit()).as(r.err()).isZero();
            return r.out();
        } finally {
            Locale.setDefault(before);
        }
    }

    private static void sameUnderEveryLocale(String... args) {
        String root = under(Locale.ROOT, args);
        for (Locale other : OTHERS) {
            assertThat(under(other, args)).as("%s under %s", String.join(" ", args), other).isEqualTo(root);
        }
    }

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
