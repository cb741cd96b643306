package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.FuzzScenario;
import io.machxp.scenario.FuzzStability;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * machxp linux-fuzz --no-compare (sim only): the seeds are drawn on several threads, and each file
 * is still its seed's first draw the filter keeps, as one seed at a time would find it.
 */
class LinuxFuzzCommandTest {
    @Test
    void eachFileIsItsSeedsFirstStableDraw(@TempDir Path dir) throws Exception {
        ExitCodesTest.Run run = ExitCodesTest.run("linux-fuzz", "--seed", "5", "--count", "4", "--except", "7",
                "--no-compare", "--out", dir.toString());
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).contains("linux-fuzz: 3 files in " + dir);
        assertThat(dir.resolve("fuzz-7.yaml")).doesNotExist();
        for (long seed : new long[] {5, 6, 8}) {
            String expected = null;
            for (int a = 0; a < 30 && expected == null; a++) {
                FuzzScenario s = FuzzScenario.draw(seed, a, FuzzScenario.Kernels.ANY);
                if (FuzzStability.unstable(s, seed) == null) {
                    expected = s.yaml();
                }
            }
            assertThat(Files.readString(dir.resolve("fuzz-" + seed + ".yaml"))).as("seed %d", seed).isEqualTo(expected);
        }
    }
}
