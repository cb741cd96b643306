package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.Comparison;
import io.machxp.scenario.LinuxCompare;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioResult;
import io.machxp.scenario.ScenarioRun;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * linux-fuzz's comparisons (LinuxComparisons.rerunningDifferences): a file that differed is compared
 * once more, and counts as agreed only if that comparison agrees. Linux's runs are recorded ones:
 * the simulator's run of the file itself (agrees) or of the same file without PI (differs: no boost).
 */
class LinuxComparisonsRerunTest {
    private static final Path FILE = Path.of("..", "scenarios", "classic-inversion.yaml");

    private record Outcome(int exit, String out) {}

    private static Outcome compare(boolean rerun, boolean... agrees) {
        Scenario s = ScenarioParser.parse(FILE);
        ScenarioResult noPi = ScenarioRun.sim(s, s.seed(), false);
        Deque<Boolean> answers = new ArrayDeque<>();
        for (boolean a : agrees) {
            answers.add(a);
        }
        StringWriter out = new StringWriter();
        LinuxComparisons c = new LinuxComparisons(new PrintWriter(out), new PrintWriter(new StringWriter()), false);
        if (rerun) {
            c.rerunningDifferences();
        }
        c.linux = (scenario, sim) -> new LinuxCompare(Comparison.of(sim, answers.pop() ? sim : noPi), List.of());
        int exit = c.run(List.of(FILE), null);
        assertThat(answers).as("comparisons left unused").isEmpty();
        return new Outcome(exit, out.toString());
    }

    @Test
    void aDifferenceThatDoesNotComeBackIsAgreedAndShown() {
        Outcome o = compare(true, false, true);
        assertThat(o.exit()).isZero();
        assertThat(o.out()).contains("agreed   " + FILE + " (when run again; its first run differed, as follows)")
                .contains("1 agreed, 0 differed (1 of the agreed differed once and agreed when run again)");
    }

    @Test
    void aDifferenceThatComesBackDiffers() {
        Outcome o = compare(true, false, false);
        assertThat(o.exit()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(o.out()).contains("DIFFERED " + FILE).contains("0 agreed, 1 differed");
    }

    @Test
    void withoutRerunsADifferenceIsFinal() {
        Outcome o = compare(false, false);
        assertThat(o.exit()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(o.out()).contains("0 agreed, 1 differed");
    }
}
