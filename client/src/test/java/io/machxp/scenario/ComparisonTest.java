package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.ScenarioResult.StepOutcome;
import io.machxp.scenario.ScenarioResult.ThreadSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The comparison of two runs, on results built by hand: no thread runs. */
class ComparisonTest {
    private static final Step LOCK = new Step(Step.Kind.LOCK, "m", -1, 0, null);
    private static final Step UNLOCK = new Step(Step.Kind.UNLOCK, "m", -1, 0, null);
    private static final Step READ = new Step(Step.Kind.READ, "m", -1, 0, null);

    private static final Scenario SCENARIO = new Scenario("two threads", "", 1, 0, 0,
            List.of(new Scenario.KernelSpec("A", 1)), Map.of("shared", 4096L),
            Map.of("m", new Scenario.WordSpec("m", "shared", 0)),
            List.of(new Scenario.ThreadSpec("L", "A", "L", 10, 0, List.of(LOCK, READ, UNLOCK)),
                    new Scenario.ThreadSpec("H", "A", "H", 90, 0, List.of(LOCK, UNLOCK))),
            List.of(), 1_000_000_000L);

    /** A run in which L got m first with {@code lRead} read, then H; L's highest priority {@code lHighest}. */
    private static ScenarioResult run(String mode, boolean hFirst, String lRead, int lHighest, String hLock) {
        List<StepOutcome> l = List.of(
                new StepOutcome("L", 1, "lock m", Step.Kind.LOCK, "m", "ok", "", 1),
                new StepOutcome("L", 2, "read m", Step.Kind.READ, "m", "ok", lRead, 2),
                new StepOutcome("L", 3, "unlock m", Step.Kind.UNLOCK, "m", "ok", "", 5));
        List<StepOutcome> h = List.of(
                new StepOutcome("H", 1, "lock m", Step.Kind.LOCK, "m", hLock, "", 6),
                new StepOutcome("H", 2, "unlock m", Step.Kind.UNLOCK, "m", "ok", "", 7));
        List<StepOutcome> all = new ArrayList<>();
        if (hFirst) {
            all.addAll(h);
            all.addAll(l);
        } else {
            all.add(l.get(0));
            all.add(l.get(1));
            all.add(l.get(2));
            all.addAll(h);
        }
        return new ScenarioResult(SCENARIO, mode, mode.equals("sim") ? 1 : -1, true, true, List.of(),
                List.of(new ThreadSummary("L", "A", 7, 10, lHighest, 0, 10, 1),
                        new ThreadSummary("H", "A", 8, 90, 90, 0, 10, 1)),
                List.of(), List.of(), all);
    }

    @Test
    void theSameOutcomesBoostsAndOrdersAgreeWhateverTheTimes() {
        Comparison c = Comparison.of(run("sim", false, "L|WAITERS", 90, "ok"), run("linux", false, "L|WAITERS", 90, "ok"));
        assertThat(c.agreed()).isTrue();
        assertThat(c.differences()).isZero();
        assertThat(c.steps()).hasSize(5).noneMatch(Comparison.StepRow::differs);
        assertThat(c.orders()).singleElement().satisfies(o -> assertThat(o.left()).containsExactly("L", "H"));
        assertThat(c.text()).contains("sim and linux agree").doesNotContain("*");
        assertThat(c.json()).contains("\"agreed\" : true");
    }

    @Test
    void aDifferentCodeAValueReadABoostAndAnOrderAreEachFound() {
        assertThat(Comparison.of(run("sim", false, "L", 90, "ok"), run("linux", false, "L", 90, "EDEADLK")).differences())
                .as("H's lock: ok against EDEADLK; H then acquires nothing, so m's order differs too").isEqualTo(2);
        Comparison read = Comparison.of(run("sim", false, "L", 90, "ok"), run("linux", false, "L|WAITERS", 90, "ok"));
        assertThat(read.differences()).isEqualTo(1);
        assertThat(read.steps()).filteredOn(Comparison.StepRow::differs).singleElement()
                .satisfies(r -> assertThat(r.step()).isEqualTo("read m"));
        Comparison boost = Comparison.of(run("sim", false, "L", 90, "ok"), run("linux", false, "L", 10, "ok"));
        assertThat(boost.boosts()).filteredOn(Comparison.BoostRow::differs).singleElement()
                .satisfies(b -> assertThat(b.thread()).isEqualTo("L"));
        Comparison order = Comparison.of(run("sim", false, "L", 90, "ok"), run("linux", true, "L", 90, "ok"));
        assertThat(order.differences()).isEqualTo(1);
        assertThat(order.orders().get(0).right()).containsExactly("H", "L");
        assertThat(order.text()).contains("* m").contains("1 difference (marked *)");
    }

    @Test
    void aStepOneSideNeverReachedIsADifference() {
        ScenarioResult full = run("sim", false, "L", 90, "ok");
        ScenarioResult cut = new ScenarioResult(SCENARIO, "linux", -1, true, false, List.of(), full.threads(), List.of(),
                List.of(), full.outcomes().subList(0, 2));
        Comparison c = Comparison.of(full, cut);
        assertThat(c.steps()).filteredOn(Comparison.StepRow::differs)
                .extracting(Comparison.StepRow::right).containsOnly(Comparison.NOT_REACHED);
        assertThat(c.agreed()).isFalse();
        assertThat(c.text()).contains("linux stopped at the limit");
    }
}
