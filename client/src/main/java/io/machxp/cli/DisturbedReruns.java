package io.machxp.cli;

import io.machxp.scenario.Comparison;
import io.machxp.scenario.LinuxRun;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioResult;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The rerun policy of {@code machxp run --compare linux}: a Linux run judged disturbed (the machine
 * held a thread or the runner off its CPU beyond what the schedule tolerates, see
 * io.machxp.scenario.LinuxDisturbance) gets no verdict and is run again, up to {@link #ATTEMPTS}
 * runs in all; after that the file is "not compared". The first run that kept its schedule is
 * compared with the simulator and its verdict stands, agreed or differed: an undisturbed run that
 * differs is never rerun, so a genuine difference cannot be rerun into agreement.
 */
final class DisturbedReruns {
    static final int ATTEMPTS = 3;

    /**
     * What came of one file.
     *
     * @param comparison the comparison of the first undisturbed run, or null if every run was disturbed
     * @param disturbed why each disturbed run was, in order (the runs before the compared one, or all)
     */
    record Outcome(Comparison comparison, List<String> disturbed) {
        boolean compared() {
            return comparison != null;
        }

        /** The last disturbed run's reason, with how many there were. */
        String disturbedText() {
            return disturbed.isEmpty() ? "" : (disturbed.size() == 1 ? "" : disturbed.size() + " runs; last: ")
                    + disturbed.get(disturbed.size() - 1);
        }
    }

    private DisturbedReruns() {}

    /**
     * Runs {@code scenario} on Linux with {@code linux} until a run is undisturbed (at most
     * {@link #ATTEMPTS} runs) and compares that run with {@code sim}'s.
     * NotSupportedHere and ScenarioException from a run pass through.
     */
    static Outcome compare(Scenario scenario, Function<Scenario, LinuxRun> linux,
            java.util.function.Supplier<ScenarioResult> sim) {
        List<String> disturbed = new ArrayList<>();
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            LinuxRun run = linux.apply(scenario);
            if (!run.disturbance().disturbed()) {
                return new Outcome(Comparison.of(sim.get(), run.result()), List.copyOf(disturbed));
            }
            disturbed.add(run.disturbance().why());
        }
        return new Outcome(null, List.copyOf(disturbed));
    }
}
