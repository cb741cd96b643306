package io.machxp.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.workbench.WorkbenchResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compare's chart labels its axes the same under every default locale: the same results drawn
 * under the root locale and under de-DE (a decimal comma, a grouping dot) give the same PNG.
 */
class CompareChartLocaleTest {
    @TempDir
    Path dir;

    private static final List<WorkbenchResult> RESULTS = List.of(
            new WorkbenchResult("cache", "locality", 0.25, "lan", 1, 700, 35_670.5, 10, 731, 867, 1.69, 3146, 137,
                    255.3, 737.3, 597, 0.990),
            new WorkbenchResult("cache", "locality", 0.75, "lan", 1, 800, 41_020.5, 10, 600, 700, 1.45, 3000, 120,
                    230.1, 700.2, 560, 0.985),
            new WorkbenchResult("piggyback", "locality", 0.25, "lan", 1, 840, 42_159.8, 10, 383, 522, 1.34, 5050,
                    185, 210.2, 383.5, 373, 0.987),
            new WorkbenchResult("piggyback", "locality", 0.75, "lan", 1, 900, 47_310.2, 10, 350, 480, 1.21, 4800,
                    160, 190.4, 350.1, 340, 0.982));

    private byte[] drawnUnder(Locale locale, String name) throws Exception {
        Locale before = Locale.getDefault();
        Locale.setDefault(locale);
        try {
            Path png = dir.resolve(name);
            CompareChart.write(png, RESULTS, "locality", "lan", 1, "locality");
            return Files.readAllBytes(png);
        } finally {
            Locale.setDefault(before);
        }
    }

    @Test
    void theChartIsTheSameUnderEveryLocale() throws Exception {
        byte[] root = drawnUnder(Locale.ROOT, "root.png");
        assertThat(drawnUnder(Locale.ROOT, "again.png")).as("drawn twice").isEqualTo(root);
        assertThat(drawnUnder(Locale.GERMANY, "de.png")).as("under de-DE").isEqualTo(root);
    }
}
