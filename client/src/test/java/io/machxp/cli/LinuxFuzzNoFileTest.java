package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.FuzzScenario;
import io.machxp.scenario.FuzzStability;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * machxp linux-fuzz when seeds draw no file (none of --draws stable in sim): the summary counts
 * them, and a run where fewer than half of the seeds gave a file fails (2) rather than passing
 * having compared nothing. Sim only (--no-compare); the rule is the same with the comparison.
 */
class LinuxFuzzNoFileTest {
    @Test
    void fewerThanHalfOfTheSeedsWithAFileFails() {
        assertThat(LinuxFuzzCommand.tooFewFiles(1, 0)).isTrue();
        assertThat(LinuxFuzzCommand.tooFewFiles(30, 0)).isTrue();
        assertThat(LinuxFuzzCommand.tooFewFiles(30, 14)).isTrue();
        assertThat(LinuxFuzzCommand.tooFewFiles(30, 15)).isFalse();
        assertThat(LinuxFuzzCommand.tooFewFiles(30, 29)).isFalse();
        assertThat(LinuxFuzzCommand.tooFewFiles(2, 1)).isFalse();
        assertThat(LinuxFuzzCommand.tooFewFiles(1, 1)).isFalse();
    }

    /** A seed whose first draw the filter refuses, followed by one whose first draw it keeps. */
    private static long refusedThenKept() {
        for (long s = 1; ; s++) {
            if (!stable(s) && stable(s + 1)) {
                return s;
            }
        }
    }

    private static boolean stable(long seed) {
        return FuzzStability.unstable(FuzzScenario.draw(seed, 0, FuzzScenario.Kernels.ANY), seed) == null;
    }

    @Test
    void aRunWhoseEverySeedDrewNoFileFails(@TempDir Path dir) {
        long s = refusedThenKept();
        ExitCodesTest.Run run = ExitCodesTest.run("linux-fuzz", "--seed", Long.toString(s), "--count", "1",
                "--draws", "1", "--no-compare", "--out", dir.toString());
        assertThat(run.out()).contains("no file   seed " + s)
                .contains("linux-fuzz: 0 files in " + dir).contains("1 of 1 seeds drew no stable file");
        assertThat(run.err()).contains("1 of 1 seeds drew no file").contains("nothing was compared");
        assertThat(run.exit()).isEqualTo(ExitCodes.CHECK_FAILED);
    }

    @Test
    void aSeedWithoutAFileIsCountedAndHalfTheRangeStillPasses(@TempDir Path dir) {
        long s = refusedThenKept();
        ExitCodesTest.Run run = ExitCodesTest.run("linux-fuzz", "--seed", Long.toString(s), "--count", "2",
                "--draws", "1", "--no-compare", "--out", dir.toString());
        assertThat(run.out()).contains("linux-fuzz: 1 files in " + dir).contains("1 of 2 seeds drew no stable file");
        assertThat(run.exit()).as(run.err()).isZero();
    }

    @Test
    void exceptLeavingNoSeedIsAUsageError(@TempDir Path dir) {
        ExitCodesTest.Run run = ExitCodesTest.run("linux-fuzz", "--seed", "3", "--count", "1", "--except", "3",
                "--no-compare", "--out", dir.toString());
        assertThat(run.err()).contains("--except leaves no seed");
        assertThat(run.exit()).isEqualTo(ExitCodes.USAGE);
    }
}
