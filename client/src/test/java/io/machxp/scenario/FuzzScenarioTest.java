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

    @Test
    void aLockOfAFutexHandedToAWaiterThatHasNotRunIsFound() {
        Path dir = Path.of("..", "scenarios");
        ScenarioResult steal = ScenarioRun.sim(ScenarioParser.parse(
                dir.resolve("linux-differs/unlock-higher-relock-before-woken-waiter-runs.yaml")), 1, true);
        assertThat(FuzzStability.stealWindow(steal)).contains("H locks m handed to L");
        ScenarioResult plain = ScenarioRun.sim(ScenarioParser.parse(dir.resolve("unlock-waiters-priority-then-fifo.yaml")), 1, true);
        assertThat(FuzzStability.stealWindow(plain)).isNull();
    }
}
