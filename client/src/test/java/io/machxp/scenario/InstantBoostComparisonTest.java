package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.ScenarioResult.ThreadSummary;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A boost of an instant (a lock whose timeout had passed, which Linux queues all the same, boosting
 * the owner for microseconds) on scenarios/expired-lock-requeues-ready-owner.yaml: the simulator
 * traces it as an "instant-boost" and keeps T3's lasting highest priority at 60; Linux's sampler
 * saw 80 in some runs (CI, 2026-12-07) and 60 in others, and both must agree with the simulator.
 */
class InstantBoostComparisonTest {
    private static final Scenario SCENARIO =
            ScenarioParser.parse(Path.of("..", "scenarios", "expired-lock-requeues-ready-owner.yaml"));

    @Test
    void theSimulatorTracesTheExpiredLocksBoostOfTheOwnerAsAnInstant() {
        ScenarioResult sim = ScenarioRun.sim(SCENARIO, 1, true);
        assertThat(sim.events()).filteredOn(e -> e.event().equals(Comparison.INSTANT_BOOST))
                .singleElement().satisfies(e -> {
                    assertThat(e.thread()).isEqualTo("T3");
                    assertThat(e.detail()).isEqualTo("60 -> 80 -> 60");
                });
        assertThat(summary(sim, "T3").maxPriority()).as("the lasting highest priority").isEqualTo(60);
        assertThat(ScenarioRun.sim(SCENARIO, 1, false).events()).as("--no-pi: nobody is boosted, not even for an instant")
                .noneMatch(e -> e.event().equals(Comparison.INSTANT_BOOST));
    }

    @Test
    void linuxSeeingTheInstantBoostOrNotAgreesAndNothingElseDoes() {
        ScenarioResult sim = ScenarioRun.sim(SCENARIO, 1, true);
        Comparison missed = Comparison.of(sim, linuxLike(sim, 60));
        Comparison seen = Comparison.of(sim, linuxLike(sim, 80));
        Comparison above = Comparison.of(sim, linuxLike(sim, 95));
        assertThat(missed.agreed()).isTrue();
        assertThat(seen.agreed()).as(seen.text()).isTrue();
        assertThat(seen.text()).contains("60 (80 for an instant)");
        assertThat(seen.json()).contains("\"simForAnInstant\" : 80");
        assertThat(above.boosts()).filteredOn(Comparison.BoostRow::differs).singleElement()
                .satisfies(b -> assertThat(b.thread()).isEqualTo("T3"));
    }

    @Test
    void theRangesMeetEitherWay() {
        assertThat(new Comparison.BoostRow("T", 60, 60, 80, 70, 70).differs()).isFalse();
        assertThat(new Comparison.BoostRow("T", 60, 70, 70, 60, 80).differs()).isFalse();
        assertThat(new Comparison.BoostRow("T", 60, 60, 0, 61, 0).differs()).as("no instants: equal or not").isTrue();
        assertThat(new Comparison.BoostRow("T", 60, 90, 90, 60, 80).differs()).as("a lasting 90 is no instant").isTrue();
    }

    /** The simulator's run with its instant-boost events dropped and T3's highest priority as {@code t3}. */
    private static ScenarioResult linuxLike(ScenarioResult sim, int t3) {
        List<ThreadSummary> threads = sim.threads().stream()
                .map(t -> t.name().equals("T3") ? new ThreadSummary(t.name(), t.kernel(), t.tid(), t.priority(), t3,
                        t.started(), t.finished(), t.waited()) : t)
                .toList();
        return new ScenarioResult(sim.scenario(), "linux", -1, true, true,
                sim.events().stream().filter(e -> !e.event().equals(Comparison.INSTANT_BOOST)).toList(), threads,
                List.of(), List.of(), sim.outcomes());
    }

    private static ThreadSummary summary(ScenarioResult r, String name) {
        return r.threads().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    }
}
