package io.machxp.cli;

import io.machxp.scenario.Comparison;
import io.machxp.scenario.LinuxRun;
import io.machxp.scenario.NotSupportedHere;
import io.machxp.scenario.Scenario;
import io.machxp.scenario.ScenarioException;
import io.machxp.scenario.ScenarioParser;
import io.machxp.scenario.ScenarioRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code machxp run --compare linux FILE...} with several files, in one JVM (what
 * {@code .ci/linux-compare} runs): each file in sim and on Linux, one verdict line per file, then a
 * summary.
 * <pre>
 *  agreed   FILE            both runs agree on what Linux defines
 *  DIFFERED FILE            they do not; the side-by-side table follows, indented
 *  not compared FILE (disturbed: who, how long)
 *                           every Linux run was disturbed (DisturbedReruns): no verdict
 *  skipped  FILE: why       Mach IPC steps (no Linux counterpart); or, with --skip-unfit, more CPUs
 *                           than this machine has
 *  NOT RUN  FILE: why       more CPUs than this machine has (without --skip-unfit)
 *  ERROR    FILE: why       a bad file, or a word layout linux mode cannot place
 * </pre>
 * A verdict after disturbed runs says how many were rerun. Exit 0 when no file differed, every
 * file not skipped ran and no more than {@code maxUncompared} files were not compared; 2 otherwise;
 * 4 (and nothing more is run) if the first file to reach linux mode finds this machine unable to
 * run it at all. A file that fails in another way (an exception) is an ERROR line; the next one runs.
 */
final class LinuxComparisons {
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean skipUnfit;
    private int agreed;
    private int differed;
    private int skipped;
    private int failed;
    private final List<Path> uncompared = new ArrayList<>();
    private final int maxUncompared;
    private final Function<Scenario, LinuxRun> linux;

    LinuxComparisons(PrintWriter out, PrintWriter err, boolean skipUnfit) {
        this(out, err, skipUnfit, Integer.MAX_VALUE, ScenarioRun::linuxJudged);
    }

    /** {@code linux} runs a file on Linux (a fake in tests); more than {@code maxUncompared} files not compared fail the run. */
    LinuxComparisons(PrintWriter out, PrintWriter err, boolean skipUnfit, int maxUncompared,
            Function<Scenario, LinuxRun> linux) {
        this.out = out;
        this.err = err;
        this.skipUnfit = skipUnfit;
        this.maxUncompared = maxUncompared;
        this.linux = linux;
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
        if (!uncompared.isEmpty()) {
            summary += ", " + uncompared.size() + " not compared (disturbed)";
        }
        if (skipped > 0) {
            summary += ", " + skipped + " skipped (each listed above with why)";
        }
        if (failed > 0) {
            summary += ", " + failed + " could not run";
        }
        out.println(summary);
        boolean tooBusy = uncompared.size() > maxUncompared;
        if (tooBusy) {
            out.println(tooBusy(uncompared, maxUncompared));
        }
        out.flush();
        return differed == 0 && failed == 0 && !tooBusy ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }

    /** The sentence that fails a run with more files not compared than allowed. */
    static String tooBusy(List<Path> files, int max) {
        return "the machine was too busy to compare " + files.size() + (files.size() == 1 ? " file" : " files")
                + " (more than --max-uncompared " + max + "): every Linux run of "
                + files.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(", "))
                + " was disturbed";
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
        scenario.warnings().forEach(err::println);
        DisturbedReruns.Outcome outcome;
        try {
            outcome = DisturbedReruns.compare(scenario, linux,
                    () -> ScenarioRun.sim(scenario, seed != null ? seed : scenario.seed(), true));
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
                    if (agreed + differed + skipped + failed + uncompared.size() == 0) {
                        err.println("machxp run: " + e.getMessage());
                        return false; // the first file: this machine cannot run linux mode
                    }
                    failed++; // it did for earlier files: this one failed to start
                    out.println("ERROR    " + f + ": " + e.getMessage());
                }
            }
            return true;
        } catch (ScenarioException e) {
            failed++;
            out.println("ERROR    " + f + ": " + e.getMessage());
            return true;
        }
        if (!outcome.compared()) {
            uncompared.add(f);
            out.println("not compared " + f + " (disturbed: " + outcome.disturbedText() + ")");
            return true;
        }
        Comparison c = outcome.comparison();
        String reruns = outcome.disturbed().isEmpty() ? "" : " (after " + outcome.disturbed().size()
                + " disturbed run" + (outcome.disturbed().size() == 1 ? "" : "s") + ": " + outcome.disturbedText() + ")";
        if (c.agreed()) {
            agreed++;
            out.println("agreed   " + f + reruns);
        } else {
            differed++;
            out.println("DIFFERED " + f + reruns);
            c.text().lines().forEach(l -> out.println("    " + l));
        }
        return true;
    }
}
