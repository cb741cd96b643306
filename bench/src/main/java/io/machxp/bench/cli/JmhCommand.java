package io.machxp.bench.cli;

import io.machxp.cli.ExitCodes;
import io.machxp.bench.jmh.IpcBenchmarks;
import io.machxp.bench.jmh.LockBenchmarks;
import io.machxp.bench.jmh.ProcessBenchmarks;
import io.machxp.cli.Logs;
import java.io.PrintWriter;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * machxp jmh: the microbenchmarks of {@link LockBenchmarks}, each with its baseline in the same
 * run, and the ratios against their targets. A benchmark, not a test: it reports, it does not fail
 * on a number.
 */
@Command(name = "jmh", mixinStandardHelpOptions = true,
        description = {"Run the JMH microbenchmarks and print each ratio to its baseline, measured in the same run.",
                "--quick only checks that they run (CI): its numbers mean little."})
final class JmhCommand implements Callable<Integer> {
    /**
     * How many lock benchmarks run: LockBenchmarks's, each counted once (two parameters: twice),
     * and the {@link #PROCESS_LOCKS} of ProcessBenchmarks.
     */
    private static final int LOCK_BENCHMARKS = 11 + 5;
    /** The task in another process than its kernel (shared memory), beside what bounds it. */
    private static final String PROCESS_LOCKS = ".(sharedLockUnlock|sharedCasPair|clockRead|leaseCheck|reentrantLock)$";
    /** How many IpcBenchmarks holds (a group counts once). */
    private static final int IPC_BENCHMARKS = 7;

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "one short iteration each, in this JVM: a smoke test")
    boolean quick;

    @Option(names = "--only", description = "run one family: locks or ipc (default: both)")
    String only;

    private static final String PREFIX = LockBenchmarks.class.getSimpleName() + ".";
    private static final String IPC_PREFIX = IpcBenchmarks.class.getSimpleName() + ".";
    private static final String PROCESS_PREFIX = ProcessBenchmarks.class.getSimpleName() + ".";

    record Ratio(String what, String machxp, String baseline, double perBaseline, String target) {}

    @Override
    public Integer call() throws RunnerException {
        Logs.warningsOnly();
        boolean locks = only == null || only.equals("locks");
        boolean ipc = only == null || only.equals("ipc");
        if (!locks && !ipc) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--only: locks or ipc");
        }
        ChainedOptionsBuilder options = new OptionsBuilder().shouldFailOnError(true)
                .verbosity(quick ? VerboseMode.SILENT : VerboseMode.NORMAL);
        if (locks) {
            options.include(LockBenchmarks.class.getName() + ".*");
            options.include(ProcessBenchmarks.class.getName() + PROCESS_LOCKS);
        }
        if (ipc) {
            options.include(IpcBenchmarks.class.getName() + ".*");
        }
        if (quick) {
            options.forks(0).warmupIterations(1).warmupTime(TimeValue.milliseconds(200))
                    .measurementIterations(1).measurementTime(TimeValue.milliseconds(300));
        } else {
            // iterations and their length from each benchmark's @Warmup and @Measurement (options
            // set here would override them: the IPC throughput benchmark warms up longer)
            options.forks(1);
            // The forks read the coarse clock as a task process under ./machxp does (proto
            // shm/TaskClock) when this JVM does: its flags on Java 17 and 18, none on 19+.
            if (!io.machxp.proto.shm.TaskClock.JVM_ARGS.isEmpty()) {
                options.jvmArgsAppend(io.machxp.proto.shm.TaskClock.JVM_ARGS.toArray(String[]::new));
            }
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        int expected = (locks ? LOCK_BENCHMARKS : 0) + (ipc ? IPC_BENCHMARKS : 0);
        if (results.size() != expected) {
            spec.commandLine().getErr().println("machxp jmh: expected " + expected + " benchmark results, got "
                    + results.size());
            return ExitCodes.CHECK_FAILED;
        }
        Map<String, Double> score = new HashMap<>();
        Map<String, String> unit = new HashMap<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark(); // io.machxp.bench.LockBenchmarks.InProcess.futexLockUnlock
            String key = name.contains(IPC_PREFIX) ? "ipc." + name.substring(name.indexOf(IPC_PREFIX) + IPC_PREFIX.length())
                    : name.contains(PROCESS_PREFIX) ? "Process." + name.substring(name.indexOf(PROCESS_PREFIX) + PROCESS_PREFIX.length())
                    : name.substring(name.indexOf(PREFIX) + PREFIX.length());
            String cache = r.getParams().getParam("cache");
            if (cache != null) {
                key += cache.equals("true") ? "[cache]" : "[no-cache]";
            }
            score.put(key, r.getPrimaryResult().getScore());
            unit.put(key, r.getPrimaryResult().getScoreUnit());
        }
        java.util.List<Ratio> ratios = new java.util.ArrayList<>();
        if (locks) {
            ratios.addAll(lockRatios(score, unit));
        }
        if (ipc) {
            ratios.addAll(IpcRatios.of(score, unit));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%n%-66s %14s %14s %8s  %s%n", "comparison", "machxp", "baseline", "ratio", "target");
        for (Ratio r : ratios) {
            out.printf(Locale.ROOT, "%-66s %14s %14s %7.2fx  %s%n", r.what(), r.machxp(), r.baseline(),
                    r.perBaseline(), r.target());
        }
        if (ipc) {
            out.printf(Locale.ROOT, "%-66s %14s%n", "one-way throughput between 2 kernels, 3 sending threads",
                    IpcRatios.throughput(score));
        }
        if (locks) {
            out.println(io.machxp.proto.shm.TaskClock.describe() + (quick ? "" : " (in the forks too)"));
        }
        if (quick) {
            out.println("(--quick: one short iteration, no fork; for the real numbers run without it)");
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static java.util.List<Ratio> lockRatios(Map<String, Double> score, Map<String, String> unit) {
        return java.util.List.of(
            ratio(score, unit, "cached lock+unlock, in process, vs ReentrantLock lock+unlock",
                    "InProcess.futexLockUnlock", "InProcess.reentrantLockUnlock", 1, "at most 2x"),
            ratio(score, unit, "cached lock+unlock, in process, vs its two CASes without the lease check",
                    "InProcess.futexLockUnlock", "InProcess.futexCasWithoutLeaseCheck", 1, "(the check's cost)"),
            ratio(score, unit, "cached lock+unlock, task in another process, vs ReentrantLock",
                    "Process.sharedLockUnlock", "Process.reentrantLock", 1, "at most 3x"),
            ratio(score, unit, "its two atomics alone (no lease check) vs ReentrantLock",
                    "Process.sharedCasPair", "Process.reentrantLock", 1, "(the floor without the clock)"),
            ratio(score, unit, "the lease check (coarse clock + allowance) vs ReentrantLock",
                    "Process.leaseCheck", "Process.reentrantLock", 1, "(the clock's share)"),
            ratio(score, unit, "System.nanoTime (the check before, or without the module) vs ReentrantLock",
                    "Process.clockRead", "Process.reentrantLock", 1, "(the precise clock)"),
            ratio(score, unit, "cached lock+unlock, in process, vs getpid through JNA (a system call)",
                    "InProcess.futexLockUnlock", "SystemCall.getpidThroughJna", 1, "at most 1x (seed mail)"),
            ratio(score, unit, "getpid through JNA vs abs through JNA (no system call)",
                    "SystemCall.getpidThroughJna", "SystemCall.absThroughJna", 1, "(the kernel entry's cost)"),
            ratio(score, unit, "lock+unlock over gRPC (2 calls) vs 2 empty unary gRPC calls",
                    "OverGrpc.futexLockUnlock", "OverGrpc.twoEmptyCalls", 1, "at most 1.3x"),
            ratio(score, unit, "one handoff between two kernels vs one bidi-stream round trip",
                    "Handoff.twoHandoffs", "Handoff.streamRoundTrip", 2, "at most 2.5x (floor 2x)"),
            ratio(score, unit, "locality 0.9, 2 kernels x 1 thread: --no-cache (Part II) vs the cache",
                    "CacheLocality.lockUnlock[no-cache]", "CacheLocality.lockUnlock[cache]", 1, "what the cache buys"));
    }

    /** machxp's score (divided by {@code per}, operations per benchmark call) over the baseline's. */
    static Ratio ratio(Map<String, Double> score, Map<String, String> unit, String what, String machxp,
            String baseline, int per, String target) {
        String m = machxp;
        String b = baseline;
        double ms = score.get(m) / per;
        double bs = score.get(b);
        return new Ratio(what, String.format(Locale.ROOT, "%.1f %s", ms, unit.get(m)),
                String.format(Locale.ROOT, "%.1f %s", bs, unit.get(b)), ms / bs, target);
    }
}
