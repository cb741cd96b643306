package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.LinuxDisturbance;
import io.machxp.scenario.LinuxRun;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioResult;
import io.machxp.scenario.ScenarioRun;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The rerun policy and verdicts of --compare linux with a fake Linux runner (the simulator's own run
 * stands in for Linux's): a disturbed run is rerun, up to 3 runs; a clean run's verdict stands,
 * agreed or differed, and a difference is never rerun; files with no clean run are "not compared",
 * counted apart, and fail the run only beyond --max-uncompared.
 */
class LinuxComparisonsRerunTest {
    private static final Path A = Path.of("..", "scenarios", "timeout-without-cpu.yaml");
    private static final Path B = Path.of("..", "scenarios", "classic-inversion.yaml");

    /** What the fake Linux gives each file's successive runs. */
    private enum Kind { CLEAN_AGREES, CLEAN_DIFFERS, DISTURBED }

    private static final class FakeLinux implements Function<Scenario, LinuxRun> {
        private final Map<String, Deque<Kind>> plans = new java.util.HashMap<>();
        final List<String> runs = new ArrayList<>();

        FakeLinux plan(Path file, Kind... kinds) {
            plans.put(ScenarioParser.parse(file).name(), new ArrayDeque<>(List.of(kinds)));
            return this;
        }

        @Override
        public LinuxRun apply(Scenario s) {
            runs.add(s.name());
            Kind k = plans.get(s.name()).poll();
            ScenarioResult r = ScenarioRun.sim(s, s.seed(), true);
            if (k == Kind.CLEAN_DIFFERS) {
                r = differing(r);
            }
            String why = k == Kind.DISTURBED ? "L held off its CPU 12ms that no scenario thread explains" : null;
            return new LinuxRun(r, new LinuxDisturbance.Verdict(why, Map.of(), 2_500_000));
        }

        long runsOf(Path file) {
            String name = ScenarioParser.parse(file).name();
            return runs.stream().filter(name::equals).count();
        }
    }

    /** The same run with its first step's outcome changed. */
    private static ScenarioResult differing(ScenarioResult r) {
        List<ScenarioResult.StepOutcome> outcomes = new ArrayList<>(r.outcomes());
        ScenarioResult.StepOutcome o = outcomes.get(0);
        outcomes.set(0, new ScenarioResult.StepOutcome(o.thread(), o.number(), o.step(), o.kind(), o.word(), "EPERM",
                o.value(), o.time()));
        return new ScenarioResult(r.scenario(), "linux", -1, true, r.completed(), r.events(), r.threads(), r.checks(),
                r.stepFailures(), outcomes);
    }

    private record Result(int exit, String out) {}

    private static Result compare(FakeLinux linux, int maxUncompared, Path... files) {
        StringWriter out = new StringWriter();
        int exit = new LinuxComparisons(new PrintWriter(out), new PrintWriter(new StringWriter()), false, maxUncompared,
                linux).run(List.of(files), null);
        return new Result(exit, out.toString());
    }

    @Test
    void aDisturbedRunIsRerunAndTheFirstCleanRunIsCompared() {
        FakeLinux linux = new FakeLinux().plan(A, Kind.DISTURBED, Kind.DISTURBED, Kind.CLEAN_AGREES);
        Result r = compare(linux, Integer.MAX_VALUE, A);
        assertThat(linux.runsOf(A)).isEqualTo(3);
        assertThat(r.out()).contains("agreed   " + A + " (after 2 disturbed runs: 2 runs; last: L held off its CPU 12ms")
                .contains("1 agreed, 0 differed\n");
        assertThat(r.exit()).isZero();
    }

    @Test
    void aCleanRunThatDiffersIsNeverRerun() {
        FakeLinux linux = new FakeLinux().plan(A, Kind.CLEAN_DIFFERS, Kind.CLEAN_AGREES, Kind.CLEAN_AGREES);
        Result r = compare(linux, Integer.MAX_VALUE, A);
        assertThat(linux.runsOf(A)).isEqualTo(1);
        assertThat(r.out()).contains("DIFFERED " + A + "\n").contains("0 agreed, 1 differed\n");
        assertThat(r.exit()).isEqualTo(2);
        FakeLinux after = new FakeLinux().plan(A, Kind.DISTURBED, Kind.CLEAN_DIFFERS, Kind.CLEAN_AGREES);
        Result r2 = compare(after, Integer.MAX_VALUE, A);
        assertThat(after.runsOf(A)).as("rerun only while disturbed").isEqualTo(2);
        assertThat(r2.out()).contains("DIFFERED " + A + " (after 1 disturbed run: L held off");
        assertThat(r2.exit()).isEqualTo(2);
    }

    @Test
    void threeDisturbedRunsAreNotComparedAndCountedApart() {
        FakeLinux linux = new FakeLinux().plan(A, Kind.DISTURBED, Kind.DISTURBED, Kind.DISTURBED, Kind.CLEAN_AGREES)
                .plan(B, Kind.CLEAN_AGREES);
        Result r = compare(linux, Integer.MAX_VALUE, A, B);
        assertThat(linux.runsOf(A)).isEqualTo(3);
        assertThat(r.out()).contains("not compared " + A + " (disturbed: 3 runs; last: L held off its CPU 12ms")
                .contains("agreed   " + B + "\n")
                .contains("1 agreed, 0 differed, 1 not compared (disturbed)\n")
                .doesNotContain("too busy");
        assertThat(r.exit()).as("not compared does not fail a run by itself").isZero();
    }

    @Test
    void moreFilesNotComparedThanAllowedFailTheRunNamingThem() {
        FakeLinux linux = new FakeLinux().plan(A, Kind.DISTURBED, Kind.DISTURBED, Kind.DISTURBED)
                .plan(B, Kind.DISTURBED, Kind.DISTURBED, Kind.DISTURBED);
        Result r = compare(linux, 1, A, B);
        assertThat(r.out()).contains("0 agreed, 0 differed, 2 not compared (disturbed)\n")
                .contains("the machine was too busy to compare 2 files (more than --max-uncompared 1): every Linux run of "
                        + A + ", " + B + " was disturbed");
        assertThat(r.exit()).isEqualTo(2);
        FakeLinux one = new FakeLinux().plan(A, Kind.DISTURBED, Kind.DISTURBED, Kind.DISTURBED).plan(B, Kind.CLEAN_AGREES);
        assertThat(compare(one, 1, A, B).exit()).as("one not compared, one allowed").isZero();
    }

    @Test
    void maxUncomparedIsACountWithCompareLinuxOnly() {
        ExitCodesTest.Run r = ExitCodesTest.run("run", A.toString(), "--max-uncompared", "2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("--max-uncompared takes a count of 0 or more, with --compare linux");
        assertThat(ExitCodesTest.run("run", A.toString(), "--compare", "linux", "--max-uncompared", "-1").exit())
                .isEqualTo(1);
    }
}
