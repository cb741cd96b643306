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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * machxp linux-fuzz: random differential testing of the PI-futex semantics against Linux. For each
 * seed from --seed to --seed + --count - 1 it draws a scenario ({@link FuzzScenario}: the same
 * file for the same seed and --kernels), keeping the first draw whose simulated outcome no few
 * milliseconds decide ({@link FuzzStability}; up to --draws draws a seed; seeds on every CPU at
 * once, the files the same as one at a time), writes it as
 * DIR/fuzz-SEED.yaml, and then compares every file written with Linux in this JVM, as
 * {@code machxp run --compare linux FILE...} does ({@link LinuxComparisons}: a verdict line per
 * file, the side-by-side table of a file that differs, a summary; the same exit codes), except
 * that a file that differed is compared once more and counts as agreed if that agrees (its first
 * table is still printed: a difference the load made does not come back). With
 * --no-compare it only writes the files (no SCHED_FIFO). A seed none of whose draws is stable
 * writes no file: the summary counts them, and a run where fewer than half of its seeds gave a
 * file (in particular none) fails with 2 ({@link #tooFewFiles}), with or without comparing,
 * so that a run that tested nothing cannot pass as one that tested its range.
 */
@Command(name = "linux-fuzz", mixinStandardHelpOptions = true,
        description = {"Draw random PI-futex scenarios from seeds and compare each with Linux (docs/linux-mode.md).",
                "Exit 0 when every file agreed, 2 when one differed or every run of one was disturbed, or when fewer",
                "than half of the seeds drew a file (none of --draws stable in sim; counted in the summary),",
                "1 on usage, 4 when linux mode is not supported on this machine."})
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
        List<Long> seeds = new ArrayList<>();
        for (long s = seed; s < seed + count; s++) {
            if (!except.contains(s)) {
                seeds.add(s);
            }
        }
        if (seeds.isEmpty()) {
            err.println("machxp linux-fuzz: --except leaves no seed of the range");
            return ExitCodes.USAGE;
        }
        // Each seed's draws are independent runs of the deterministic simulator: they are tried on
        // every CPU at once (the filter's sim runs are most of the command's time without Linux),
        // and written in seed order, so the files do not depend on the threads.
        List<Draw> drawn = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
        try {
            List<Future<Draw>> pending = new ArrayList<>();
            for (long s : seeds) {
                pending.add(pool.submit(() -> firstStable(s, which)));
            }
            for (Future<Draw> f : pending) {
                drawn.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.USAGE;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
        List<Path> files = new ArrayList<>();
        int rejected = 0;
        for (Draw d : drawn) {
            rejected += d.rejected();
            if (d.scenario() == null) {
                o.println("no file   seed " + d.seed() + ": none of " + draws + " draws was stable in sim");
            } else {
                Path f = dir.resolve("fuzz-" + d.seed() + ".yaml");
                Files.writeString(f, d.scenario().yaml());
                files.add(f);
            }
        }
        int withoutFile = seeds.size() - files.size();
        o.println("linux-fuzz: " + files.size() + " files in " + dir + " (seeds " + seed + " to " + (seed + count - 1)
                + ", kernels " + kernels + "; " + withoutFile + " of " + seeds.size() + " seeds drew no stable file; "
                + rejected + " draws rejected as timing-sensitive in sim)");
        o.flush();
        boolean tooFew = tooFewFiles(seeds.size(), files.size());
        if (tooFew) {
            err.println("machxp linux-fuzz: " + withoutFile + " of " + seeds.size() + " seeds drew no file that timing "
                    + "does not decide in " + draws + " draws: "
                    + (files.isEmpty() ? "nothing was" : "most of the range was not")
                    + " compared (a change to the generator or the simulator that the filter now refuses?)");
        }
        if (noCompare || files.isEmpty()) {
            return tooFew ? ExitCodes.CHECK_FAILED : ExitCodes.OK;
        }
        int compared = new LinuxComparisons(o, err, false).withoutTimingWarnings().rerunningDifferences().run(files, null);
        // Too few files fails even where linux mode cannot run (4): the drawing, in sim, is what broke.
        return tooFew && (compared == ExitCodes.OK || compared == ExitCodes.NOT_SUPPORTED) ? ExitCodes.CHECK_FAILED
                : compared;
    }

    /**
     * Whether a run drew too few files to count as a test of its range: files for fewer than half
     * of its seeds (so also none at all). A seed rarely refuses all its draws (seeds 1-30 refused
     * 48 of 78, docs/linux-mode.md; all 30 of one seed's would be about 0.6^30): most seeds of a
     * range without a file says the filter or the generator broke, and a run that compared a
     * handful of files, or none, must not pass as one that compared its range (CI's seeds 1-30).
     */
    static boolean tooFewFiles(int seeds, int files) {
        return 2 * files < seeds;
    }

    /** A seed's first draw that the filter keeps (null if none of --draws), and how many it refused. */
    private record Draw(long seed, FuzzScenario scenario, int rejected) {}

    private Draw firstStable(long s, FuzzScenario.Kernels which) {
        for (int a = 0; a < draws; a++) {
            FuzzScenario sc = FuzzScenario.draw(s, a, which);
            if (FuzzStability.unstable(sc, s) == null) {
                return new Draw(s, sc, a);
            }
        }
        return new Draw(s, null, draws);
    }
}
