package io.machxp.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code --compare linux} for one file, with reruns of disturbed runs: the file runs on Linux up to
 * {@link #MAX_RUNS} times. A run that {@link LinuxLateness} finds disturbed (a thread's start, or a
 * step after a sleep or a timed lock, more than 10 ms late; or the priority sampler blind for more
 * than 10 ms, {@link LinuxSamplerBlind}) is not compared and the file runs again; the first run
 * that was not disturbed is compared with the simulator, agreed or differed as it comes (a
 * difference is never rerun). A file whose every run was disturbed is a failure, with the late
 * thread named for each run: never "not compared", so a Linux behaviour that always holds a thread
 * back shows up rather than passing.
 *
 * @param comparison the comparison of the first undisturbed run, or null if every run was disturbed
 * @param disturbed why each disturbed run was, in run order ("H started 85 ms late")
 */
public record LinuxCompare(Comparison comparison, List<String> disturbed) {
    public static final int MAX_RUNS = 3;

    /** Compares {@code sim} with up to {@link #MAX_RUNS} Linux runs of {@code scenario}. */
    public static LinuxCompare run(Scenario scenario, ScenarioResult sim) {
        return run(sim, s -> ScenarioRun.linuxTimed(scenario));
    }

    /** The same with the Linux runs made by {@code linux} (tests give recorded runs). */
    static LinuxCompare run(ScenarioResult sim, Function<Integer, ScenarioRun.LinuxRun> linux) {
        List<String> disturbed = new ArrayList<>();
        for (int i = 1; i <= MAX_RUNS; i++) {
            ScenarioRun.LinuxRun r = linux.apply(i);
            String why = LinuxLateness.disturbed(r.starts(), r.result(), r.blind());
            if (why == null) {
                return new LinuxCompare(Comparison.of(sim, r.result()), List.copyOf(disturbed));
            }
            disturbed.add(why);
        }
        return new LinuxCompare(null, List.copyOf(disturbed));
    }

    /** Every run was disturbed: nothing was compared, and that is a failure. */
    public boolean failed() {
        return comparison == null;
    }

    /**
     * For a compared file after disturbed runs, e.g. "agreed on run 2 of 3: run 1 disturbed: H
     * started 85 ms late"; "" when the first run was compared.
     */
    public String note() {
        if (disturbed.isEmpty() || failed()) {
            return "";
        }
        return (comparison.agreed() ? "agreed" : "differed") + " on run " + (disturbed.size() + 1) + " of " + MAX_RUNS
                + ": " + runs();
    }

    /** For a file whose every run was disturbed: a sentence naming each run's late thread. */
    public String failure() {
        return "every run of " + MAX_RUNS + " on Linux was disturbed (a thread began more than 10 ms after its time, "
                + "or the priority sampler saw nothing for more than 10 ms: the machine's other load held it back), so sim "
                + "and linux were not compared: " + runs();
    }

    private String runs() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < disturbed.size(); i++) {
            parts.add("run " + (i + 1) + " disturbed: " + disturbed.get(i));
        }
        return String.join("; ", parts);
    }
}
