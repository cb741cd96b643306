package io.machxp.cli;

import io.machxp.scenario.Comparison;
import io.machxp.scenario.LinuxCompare;
import io.machxp.scenario.LinuxRunStuck;
import io.machxp.scenario.NotSupportedHere;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioException;
import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioResult;
import io.machxp.scenario.ScenarioRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiFunction;

/**
 * {@code machxp run --compare linux FILE...} with several files, in one JVM (what
 * {@code .ci/linux-compare} runs): each file in sim and on Linux, one verdict line per file, then a
 * summary.
 * <pre>
 *  agreed   FILE            both runs agree on what Linux defines
 *  DIFFERED FILE            they do not; the side-by-side table follows, indented
 *                           (either may end "(agreed on run 2 of 3: run 1 disturbed: H started 85
 *                           ms late)": a disturbed Linux run is run again, LinuxCompare)
 *  FAILED   FILE: why       every Linux run of the file was disturbed; the late thread of each named
 *  skipped  FILE: why       Mach IPC steps (no Linux counterpart); or, with --skip-unfit, more CPUs
 *                           than this machine has
 *  NOT RUN  FILE: why       more CPUs than this machine has (without --skip-unfit)
 *  ERROR    FILE: why       a bad file, a word layout linux mode cannot place, or a run its
 *                           watchdog had to stop (LinuxRunStuck)
 * </pre>
 * Exit 0 when no file differed or failed and every file not skipped ran; 2 otherwise; 4 (and nothing more is
 * run) if the first file to reach linux mode finds this machine unable to run it at all. A file
 * that fails in another way (an exception) is an ERROR line; the next one runs.
 */
final class LinuxComparisons {
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean skipUnfit;
    /**
     * Whether a file's 10 ms rule warnings are printed: not for linux-fuzz's files, whose filter
     * ({@link io.machxp.scenario.FuzzStability}) already moved each timed value by 10 ms in sim, so
     * the static rule's guesses about them are noise.
     */
    private boolean timingWarnings = true;
    /**
     * Whether a file that differed is compared once more before it counts as differing (linux-fuzz:
     * its files are many and nobody looked at them, so a difference the load made, which does not
     * come back, would otherwise fail a run; the semantic differences found so far came back in
     * every run).
     */
    private boolean rerunDifferences;
    private int agreedOnRerun;
    /** How a file is compared with Linux (tests give recorded comparisons). */
    BiFunction<Scenario, ScenarioResult, LinuxCompare> linux = LinuxCompare::run;
    private int agreed;
    private int differed;
    private int skipped;
    private int failed;
    private int disturbed;

    LinuxComparisons(PrintWriter out, PrintWriter err, boolean skipUnfit) {
        this.out = out;
        this.err = err;
        this.skipUnfit = skipUnfit;
    }

    LinuxComparisons withoutTimingWarnings() {
        timingWarnings = false;
        return this;
    }

    LinuxComparisons rerunningDifferences() {
        rerunDifferences = true;
        return this;
    }

    int run(List<Path> files, Long seed) {
        for (Path f : files) {
            if (!compare(f, seed)) {
                out.flush();
                return ExitCodes.NOT_SUPPORTED;
            }
            out.flush();
        }
        String summary = agreed + " agreed, " + differed + " differed";
        if (agreedOnRerun > 0) {
            summary += " (" + agreedOnRerun + " of the agreed differed once and agreed when run again)";
        }
        if (skipped > 0) {
            summary += ", " + skipped + " skipped (each listed above with why)";
        }
        if (disturbed > 0) {
            summary += ", " + disturbed + " failed (disturbed in every run)";
        }
        if (failed > 0) {
            summary += ", " + failed + " could not run";
        }
        out.println(summary);
        out.flush();
        return differed == 0 && failed == 0 && disturbed == 0 ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }

    /**
     * One file's verdict; false if this machine cannot run linux mode at all (nothing more is run).
     * A file that fails in any other way is an ERROR line, and the next file runs.
     */
    private boolean compare(Path f, Long seed) {
        try {
            return compareOne(f, seed);
        } catch (RuntimeException e) {
            failed++;
            out.println("ERROR    " + f + ": " + e);
            return true;
        }
    }

    private boolean compareOne(Path f, Long seed) {
        Scenario scenario;
        try {
            scenario = ScenarioParser.parse(f);
        } catch (ScenarioException e) {
            failed++;
            out.println("ERROR    " + f + ": " + e.getMessage());
            return true;
        }
        if (timingWarnings) {
            scenario.warnings().forEach(err::println);
        }
        LinuxCompare runs;
        ScenarioResult sim;
        try {
            sim = ScenarioRun.sim(scenario, seed != null ? seed : scenario.seed(), true);
            runs = linux.apply(scenario, sim);
        } catch (NotSupportedHere e) {
            switch (e.reason()) {
                case IPC -> {
                    skipped++;
                    out.println("skipped  " + f + ": " + e.getMessage());
                }
                case CPUS -> {
                    if (skipUnfit) {
                        skipped++;
                        out.println("skipped  " + f + ": " + e.getMessage());
                    } else {
                        failed++;
                        out.println("NOT RUN  " + f + ": " + e.getMessage());
                    }
                }
                case LAYOUT -> {
                    failed++;
                    out.println("ERROR    " + f + ": " + e.getMessage());
                }
                case MACHINE -> {
                    if (agreed + differed + skipped + failed + disturbed == 0) {
                        err.println("machxp run: " + e.getMessage());
                        return false; // the first file: this machine cannot run linux mode
                    }
                    failed++; // it did for earlier files: this one failed to start
                    out.println("ERROR    " + f + ": " + e.getMessage());
                }
            }
            return true;
        } catch (ScenarioException | LinuxRunStuck e) {
            failed++;
            out.println("ERROR    " + f + ": " + e.getMessage());
            return true;
        }
        if (runs.failed()) {
            disturbed++;
            out.println("FAILED   " + f + ": " + runs.failure());
            return true;
        }
        Comparison c = runs.comparison();
        String note = runs.note().isEmpty() ? "" : " (" + runs.note() + ")";
        if (!c.agreed() && rerunDifferences && againAgrees(scenario, sim)) {
            agreed++;
            agreedOnRerun++;
            out.println("agreed   " + f + " (when run again; its first run differed, as follows" + (note.isEmpty() ? "" : ";" + note.substring(1, note.length() - 1)) + ")");
            c.text().lines().forEach(l -> out.println("    " + l));
            return true;
        }
        if (c.agreed()) {
            agreed++;
            out.println("agreed   " + f + note);
        } else {
            differed++;
            out.println("DIFFERED " + f + note);
            c.text().lines().forEach(l -> out.println("    " + l));
        }
        return true;
    }

    /** Whether a second comparison of the file with Linux agrees (false if it cannot tell). */
    private boolean againAgrees(Scenario scenario, ScenarioResult sim) {
        try {
            LinuxCompare again = linux.apply(scenario, sim);
            return !again.failed() && again.comparison().agreed();
        } catch (RuntimeException e) {
            return false;
        }
    }
}
