package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** machxp linux-fuzz's drawing (FuzzScenario) and its filter (FuzzStability), in sim only. */
class FuzzScenarioTest {
    @Test
    void theSameSeedDrawsTheSameFile() {
        for (long seed = 1; seed <= 20; seed++) {
            assertThat(FuzzScenario.draw(seed, 0, FuzzScenario.Kernels.ANY).yaml())
                    .isEqualTo(FuzzScenario.draw(seed, 0, FuzzScenario.Kernels.ANY).yaml());
        }
        assertThat(FuzzScenario.draw(1, 0, FuzzScenario.Kernels.ANY).yaml())
                .isNotEqualTo(FuzzScenario.draw(2, 0, FuzzScenario.Kernels.ANY).yaml());
    }

    @Test
    void everyDrawParsesAndFitsTwoCpus() {
        for (FuzzScenario.Kernels k : FuzzScenario.Kernels.values()) {
            for (long seed = 1; seed <= 100; seed++) {
                Scenario s = ScenarioParser.parse(FuzzScenario.draw(seed, 0, k).yaml(), "fuzz.yaml");
                assertThat(s.kernels().stream().mapToInt(Scenario.KernelSpec::cpus).sum()).isBetween(1, 2);
                if (k != FuzzScenario.Kernels.ANY) {
                    assertThat(s.kernels()).hasSize(k == FuzzScenario.Kernels.ONE ? 1 : 2);
                }
                assertThat(s.threads()).allSatisfy(t -> assertThat(t.priority()).isGreaterThan(1));
            }
        }
    }

    /**
     * On two CPUs the waiter an unlock hands the futex to can run, and gets it at once; a lock by
     * the unlocker right after races its run (Linux's window is microseconds): found. The one-CPU
     * file where the woken waiter cannot run is modelled (the woken heir) and not refused.
     */
    @Test
    void aLockOfAFutexHandedToAWaiterThatHasNotRunIsFound() {
        Path dir = Path.of("..", "scenarios");
        ScenarioResult steal = ScenarioRun.sim(ScenarioParser.parse("""
                kernels: [{name: A, cpus: 2}]
                words: {m: {object: shared, offset: 0}}
                threads:
                  - {name: W, priority: 95, program: [{lock: m}, {unlock: m}]}
                  - {name: H, priority: 70, start: 10ms, program: [{lock: m}, {sleep: 30ms}, {unlock: m}, {lock: m}, {unlock: m}]}
                  - {name: L, priority: 20, start: 20ms, program: [{lock: m}, {compute: 5ms}, {unlock: m}]}
                """, "steal.yaml"), 1, true);
        assertThat(FuzzStability.stealWindow(steal)).contains("H locks m handed to L");
        ScenarioResult heir = ScenarioRun.sim(ScenarioParser.parse(
                dir.resolve("unlock-higher-relock-before-woken-waiter-runs.yaml")), 1, true);
        assertThat(FuzzStability.stealWindow(heir)).isNull();
        ScenarioResult plain = ScenarioRun.sim(ScenarioParser.parse(dir.resolve("unlock-waiters-priority-then-fifo.yaml")), 1, true);
        assertThat(FuzzStability.stealWindow(plain)).isNull();
    }

    /**
     * The draws the first filter (four random jittered runs) kept for seeds 6, 10, 15, 17, 22 and
     * 30, whose sim outcome a review found to change under more jitter (late8 F1): moving one timed
     * value alone by 3 or 10 ms changes each, so the filter refuses them whatever its random draws.
     */
    @Test
    void theMarginRefusesTheDrawsWhoseOutcomeMoreJitterChanged() {
        long[][] seedAndDraw = {{6, 0}, {10, 0}, {15, 2}, {17, 0}, {22, 2}, {30, 0}};
        for (long[] sd : seedAndDraw) {
            assertThat(FuzzStability.unstable(FuzzScenario.draw(sd[0], (int) sd[1], FuzzScenario.Kernels.ANY), sd[0]))
                    .as("seed %d draw %d", sd[0], sd[1]).contains("timed value").contains("differs in sim");
        }
    }

    @Test
    void eachTimedValueIsCountedOnce() {
        FuzzScenario s = FuzzScenario.draw(6, 0, FuzzScenario.Kernels.ANY);
        assertThat(FuzzStability.timedValues(s)).isEqualTo(25);
        int[] seen = {0};
        String moved = s.yaml(n -> seen[0]++ == 0 ? n + 1_000_000L : n, -1);
        assertThat(moved).isNotEqualTo(s.yaml()).contains("start: 11ms");
    }
}
