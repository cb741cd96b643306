package io.machxp.cli;

import io.machxp.scenario.FuzzScenario;
import io.machxp.scenario.FuzzStability;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * machxp linux-fuzz: random differential testing of the PI-futex semantics against Linux. For each
 * seed from --seed to --seed + --count - 1 it draws a scenario ({@link FuzzScenario}: the same
 * file for the same seed and --kernels), keeping the first draw whose simulated outcome no few
 * milliseconds decide ({@link FuzzStability}; up to --draws draws a seed), writes it as
 * DIR/fuzz-SEED.yaml, and then compares every file written with Linux in this JVM, as
 * {@code machxp run --compare linux FILE...} does ({@link LinuxComparisons}: a verdict line per
 * file, the side-by-side table of a file that differs, a summary; the same exit codes). With
 * --no-compare it only writes the files (no SCHED_FIFO).
 */
@Command(name = "linux-fuzz", mixinStandardHelpOptions = true,
        description = {"Draw random PI-futex scenarios from seeds and compare each with Linux (docs/linux-mode.md).",
                "Exit 0 when every file agreed, 2 when one differed or every run of one was disturbed, 1 on usage,",
                "4 when linux mode is not supported on this machine."})
final class LinuxFuzzCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--seed", defaultValue = "1", description = "the first seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--count", defaultValue = "50", description = "how many seeds (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--out", paramLabel = "DIR", description = "where the files go (default: a new temporary directory)")
    Path out;

    @Option(names = "--kernels", defaultValue = "any",
            description = "one: one kernel (1 or 2 CPUs); two: two kernels of 1 CPU; any: either (default ${DEFAULT-VALUE})")
    String kernels;

    @Option(names = "--draws", defaultValue = "30",
            description = "draws tried per seed for one that timing does not decide (default ${DEFAULT-VALUE})")
    int draws;

    @Option(names = "--except", split = ",", paramLabel = "SEED",
            description = "seeds of the range to leave out (e.g. ones whose sim outcome a millisecond decides)")
    java.util.Set<Long> except = java.util.Set.of();

    @Option(names = "--no-compare", description = "only write the files")
    boolean noCompare;

    @picocli.CommandLine.Mixin
    VerboseOption verboseOption;

    @Override
    public Integer call() throws IOException {
        Logs.warningsOnly();
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        FuzzScenario.Kernels which;
        try {
            which = FuzzScenario.Kernels.valueOf(kernels.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            err.println("machxp linux-fuzz: --kernels must be one, two or any, not '" + kernels + "'");
            return ExitCodes.USAGE;
        }
        if (count < 1 || draws < 1) {
            err.println("machxp linux-fuzz: --count and --draws must be at least 1");
            return ExitCodes.USAGE;
        }
        Path dir = out != null ? Files.createDirectories(out) : Files.createTempDirectory("machxp-linux-fuzz-");
        List<Path> files = new ArrayList<>();
        int rejected = 0;
        for (long s = seed; s < seed + count; s++) {
            if (except.contains(s)) {
                continue;
            }
            Path f = null;
            for (int a = 0; a < draws && f == null; a++) {
                FuzzScenario sc = FuzzScenario.draw(s, a, which);
                if (FuzzStability.unstable(sc, s) == null) {
                    f = dir.resolve("fuzz-" + s + ".yaml");
                    Files.writeString(f, sc.yaml());
                } else {
                    rejected++;
                }
            }
            if (f == null) {
                o.println("no file   seed " + s + ": none of " + draws + " draws was stable in sim");
            } else {
                files.add(f);
            }
        }
        o.println("linux-fuzz: " + files.size() + " files in " + dir + " (seeds " + seed + " to " + (seed + count - 1)
                + ", kernels " + kernels + "; " + rejected + " draws rejected as timing-sensitive in sim)");
        o.flush();
        if (noCompare || files.isEmpty()) {
            return ExitCodes.OK;
        }
        return new LinuxComparisons(o, err, false).run(files, null);
    }
}
