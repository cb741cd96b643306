package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The contended mix (machxp chaos --mix contended) on the real cores: a few seeds pass, and
 * together reach every path the mix is there for, so that this test fails if the workload stops
 * reaching one (ContendedPaths; a session ended for an answer overdue needs a kernel that keeps
 * its lease without answering, which no fault makes: it must stay 0). The standard mix makes
 * none of the mix's calls.
 */
class ContendedMixTest {
    /** The CLI's defaults but for a shorter workload: about a second a seed on a loaded machine. */
    static final ChaosOptions CONTENDED = new ChaosOptions(3, 3, 4, 600_000_000L, 20_000_000L, 50_000L, 1_000_000L,
            100_000_000L, ChaosMix.CONTENDED);

    @Test
    void aFewSeedsPassAndReachEveryPath() {
        Map<String, Long> totals = new TreeMap<>();
        for (long seed = 1; seed <= 6; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, CONTENDED).run();
            assertThat(r.violations()).as("seed %d's violations", seed).isEmpty();
            assertThat(r.stuck()).as("seed %d's stuck waiters", seed).isEmpty();
            r.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
        }
        assertThat(totals.getOrDefault(ContendedPaths.TRYLOCKS_ACQUIRED, 0L))
                .as("trylocks that got the futex (not every one busy) in %s", totals).isPositive();
        for (String path : ContendedPaths.NAMES) {
            if (path.equals(ContendedPaths.ANSWERS_OVERDUE)) {
                assertThat(totals.getOrDefault(path, 0L)).as(path).isZero();
            } else {
                assertThat(totals.getOrDefault(path, 0L)).as("%s in %s", path, totals).isPositive();
            }
        }
    }

    @Test
    void theStandardMixMakesNoneOfItsCalls() {
        ChaosRun.Result r = new ChaosRun(1, CONTENDED.withMix(ChaosMix.STANDARD)).run();
        assertThat(r.history().entries()).noneMatch(e -> e.kind() == History.Kind.CALL && (e.detail().startsWith("trylock")
                || e.detail().startsWith("peek") || e.detail().startsWith("poke") || e.detail().equals("compute")));
        assertThat(r.counts()).doesNotContainKeys(ContendedPaths.TRYLOCKS, ContendedPaths.OWNERS_KILLED);
    }
}
