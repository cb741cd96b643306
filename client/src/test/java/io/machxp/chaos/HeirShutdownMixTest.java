package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The heir-shutdown mix (machxp chaos --mix heir-shutdown, {@link StaleHeirShutdowns}) on the real
 * cores: a few seeds pass and reach the stale_heir_tid path end to end (a woken unlock heir's lock
 * cancelled with its page gone, the kernel saying it left with the page elsewhere, the shutdown,
 * and the pager taking a release that names it), which the contended mix never reached (0 over
 * 3,000 seeds). Its seeds run the contended workload: up to the first cancel their histories are
 * the contended ones.
 */
class HeirShutdownMixTest {
    private static final ChaosOptions HEIR_SHUTDOWN = ContendedMixTest.CONTENDED.withMix(ChaosMix.HEIR_SHUTDOWN);

    @Test
    void aFewSeedsPassAndReachTheStaleHeirPath() {
        Map<String, Long> totals = new TreeMap<>();
        for (long seed = 1; seed <= 4; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, HEIR_SHUTDOWN).run();
            assertThat(r.violations()).as("seed %d's violations", seed).isEmpty();
            assertThat(r.stuck()).as("seed %d's stuck waiters", seed).isEmpty();
            r.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
        }
        for (String path : StaleHeirShutdowns.NAMES) {
            assertThat(totals.getOrDefault(path, 0L)).as("%s in %s", path, totals).isPositive();
        }
    }

    @Test
    void theCliNamesTheMix() {
        assertThat(ChaosMix.of("heir-shutdown")).isEqualTo(ChaosMix.HEIR_SHUTDOWN);
        assertThat(ChaosMix.HEIR_SHUTDOWN.cliName()).isEqualTo("heir-shutdown");
        assertThat(ChaosMix.HEIR_SHUTDOWN.contended()).isTrue();
        assertThat(ChaosMix.STANDARD.contended()).isFalse();
    }
}
