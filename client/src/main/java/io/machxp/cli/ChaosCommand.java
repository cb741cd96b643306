package io.machxp.cli;

import io.machxp.chaos.ChaosOptions;
import io.machxp.chaos.ChaosRun;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * machxp chaos: random workloads with injected faults in the deterministic simulator, one run
 * per seed, each judged by the history checker. Runs are independent, so they use every CPU.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        header = "Random workloads with injected faults in the simulator, each history checked.",
        description = {"Run random workloads with injected faults (kernel crashes and shutdowns, pager crashes and "
                + "restarts, partitions and process pauses shorter and longer than the lease, clock drift and jumps, "
                + "task deaths, message delays) in the deterministic simulator, one run per seed, and check each "
                + "history against the harness's own record of its faults: one owner per futex, growing fencing "
                + "tokens, OWNER_DIED when and only when an owner may have died, no acknowledged write lost, "
                + "nothing a kernel does after its lease accepted, priority inheritance for settled owners, and "
                + "every waiter served within the quiet period after the last fault (see docs/chaos.md).",
                "Exit code 0 when every run passed, 2 when one broke a rule or left a waiter stuck (its replay "
                + "command is printed)."})
final class ChaosCommand implements Callable<Integer> {

    /** --verbose: the stack trace of an error. */
    @picocli.CommandLine.Mixin
    VerboseOption verboseOption;
    @Spec
    CommandSpec spec;

    @Option(names = "--variant", defaultValue = io.machxp.variant.Variants.DEFAULT,
            description = "the protocol variant: no-cache, cache, page-separate, piggyback, min-hold[:T], "
                    + "adaptive-hold[:T], sticky-lease[:T], direct (default ${DEFAULT-VALUE}; docs/workbench.md)")
    String variantName;

    private io.machxp.variant.Variant variant() {
        return io.machxp.variant.Variants.of(variantName);
    }

    @Option(names = "--seeds", defaultValue = "100", description = "how many seeds to run (default ${DEFAULT-VALUE})")
    int seeds;

    @Option(names = "--first-seed", defaultValue = "1", description = "the first seed (default ${DEFAULT-VALUE})")
    long firstSeed;

    @Option(names = "--seed", description = "replay this one seed and print its violations (with --history, all of it)")
    Long seed;

    @Option(names = "--history", description = "with --seed: print the run's whole history")
    boolean history;

    @Option(names = "--kernels", defaultValue = "3", description = "kernels at the start (default ${DEFAULT-VALUE})")
    int kernels;

    @Option(names = "--pagers", defaultValue = "1", description = "pagers, each serving the object of every "
            + "pagers-th futex and crashing on its own (default ${DEFAULT-VALUE}; see docs/multi-pager.md)")
    int pagers;

    @Option(names = "--replicas", defaultValue = "0", description = "replicate the pager on 3 or 5 replicas (the real "
            + "replica code on a modelled Raft log: leader and follower crashes, partitions between replicas; see "
            + "docs/replicated-pager.md; with --real: replica processes with Ratis in network namespaces of their "
            + "own, docs/chaos-real.md); 0: unreplicated (default ${DEFAULT-VALUE})")
    int replicas;

    @Option(names = "--replica-clock-step", paramLabel = "LEASES", description = "with --replicas: every replica's "
            + "wall clock steps by this many leases (below 0: back) once during the run, instead of a size drawn "
            + "(L/2 to 10 L, back one time in four)")
    Double replicaClockStep;

    @Option(names = "--threads", defaultValue = "3", description = "worker threads per kernel (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--futexes", defaultValue = "4", description = "futexes shared by all (default ${DEFAULT-VALUE})")
    int futexes;

    @Option(names = "--futex-records", defaultValue = "0", paramLabel = "N", description = "the pagers' bound on "
            + "futex records for all kernels; below --futexes kernels meet it all the time: requests for a new futex "
            + "wait while idle ones are asked back (default: the pager's own, 0)")
    int futexRecords;

    @Option(names = "--duration-ms", defaultValue = "1000", description = "virtual time of the workload (default ${DEFAULT-VALUE})")
    long durationMillis;

    @Option(names = "--lease-ms", defaultValue = "20", description = "the pager's lease, virtual (default ${DEFAULT-VALUE})")
    long leaseMillis;

    @Option(names = "--fault-gap-ms", defaultValue = "100",
            description = "mean virtual time between faults; 0: none (default ${DEFAULT-VALUE})")
    long faultGapMillis;

    @Option(names = "--jobs", description = "runs at a time (default: the number of CPUs)")
    Integer jobs;

    @Option(names = "--json", description = "print one JSON object: the runs' totals and each failed seed's "
            + "violations, stuck waiters and replay command (with --seed: that run, and its history with --history)")
    boolean json;

    @Option(names = "--ipc", description = "Mach IPC traffic instead of futexes: one-way messages, rpcs, rights "
            + "carried, receive rights moved, ports destroyed, kernels crashed and paused; each history checked for "
            + "delivery at most once in per-sender order, no loss unless the port died, rights neither duplicated nor "
            + "lost, notifications exactly when due (docs/chaos.md). --threads: clients per kernel")
    boolean ipc;

    @Option(names = "--mix", defaultValue = "standard", description = "the workload mix: standard (locks, and "
            + "counters read and written under their futexes), or contended (also trylocks, racy reads and writes of "
            + "pages another kernel may hold, owners killed while others wait, threads computing on the kernels' CPU: "
            + "the pager's answer deadline and the woken heir of a dead owner come into play, and their counts are "
            + "printed; docs/chaos.md), or heir-shutdown (contended, plus a kernel that shuts down when an unlock's "
            + "woken heir left with the futex's page elsewhere: the stale_heir_tid path, counted) (default ${DEFAULT-VALUE})")
    String mixName;

    @Mixin
    RealChaosOptions realOptions;

    @Override
    public Integer call() throws Exception {
        if (pagers < 1 || pagers > 16 || (realOptions.real && pagers != 1)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--pagers: 1 to 16 in the simulator "
                    + "(--real runs one pager), not " + pagers);
        }
        if (replicas != 0 && (replicas != 3 && replicas != 5 || pagers != 1 || ipc)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--replicas: 3 or 5 (a Raft group "
                    + "survives one or two failures), with one pager, in the futex runs (not --ipc), not " + replicas);
        }
        io.machxp.chaos.ChaosMix mix;
        try {
            mix = io.machxp.chaos.ChaosMix.of(mixName);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--mix: " + e.getMessage());
        }
        if (mix != io.machxp.chaos.ChaosMix.STANDARD && (ipc || realOptions.real)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--mix " + mixName
                    + ": the futex runs in the simulator only (not --ipc or --real)");
        }
        if (realOptions.real) {
            if (json) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--json applies to the simulator's runs, not to --real");
            }
            return realOptions.run(spec, futexes, firstSeed, replicas);
        }
        realOptions.refuseWithoutReal(spec);
        Logs.errorsOnly();
        try {
            variant();
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--variant: " + e.getMessage());
        }
        ChaosOptions options = new ChaosOptions(kernels, threads, futexes, durationMillis * 1_000_000,
                leaseMillis * 1_000_000, ChaosOptions.DEFAULT.latencyNanos(), ChaosOptions.DEFAULT.jitterNanos(),
                faultGapMillis * 1_000_000, mix, futexRecords);
        PrintWriter out = spec.commandLine().getOut();
        if (ipc) {
            if (json) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--json: not with --ipc yet");
            }
            int n = jobs != null ? Math.max(1, jobs) : Runtime.getRuntime().availableProcessors();
            return seed != null ? IpcChaos.one(out, seed, options, history, replay(seed, true))
                    : IpcChaos.many(out, firstSeed, Math.max(1, seeds), n, options, s -> replay(s, true));
        }
        if (seed != null) {
            ChaosRun.Result r = new ChaosRun(seed, options, pagers, replicas).withVariant(variant())
                    .withReplicaClockStep(replicaClockStep).run();
            if (json) {
                Map<String, Object> one = result(r);
                if (history) {
                    one.put("history", r.history().entries().stream().map(Object::toString).toList());
                }
                printJson(out, one);
                return ExitCodes.check(r.passed());
            }
            if (history) {
                r.history().entries().forEach(out::println);
            }
            report(out, r);
            return ExitCodes.check(r.passed());
        }
        if (seeds < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--seeds must be 1 or more");
        }
        long started = System.nanoTime();
        int n = jobs != null ? Math.max(1, jobs) : Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<ChaosRun.Result>> runs = new ArrayList<>();
        for (long s = firstSeed; s < firstSeed + seeds; s++) {
            long one = s;
            runs.add(pool.submit(() -> new ChaosRun(one, options, pagers, replicas).withVariant(variant())
                    .withReplicaClockStep(replicaClockStep).run()));
        }
        Map<String, Long> totals = new TreeMap<>();
        List<ChaosRun.Result> failed = new ArrayList<>();
        long violations = 0;
        long stuck = 0;
        long reached = 0;
        try {
            for (Future<ChaosRun.Result> f : runs) {
                ChaosRun.Result r = f.get();
                r.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
                reached += r.counts().getOrDefault(ChaosRun.STALE_HEIR_RELEASES, 0L) > 0 ? 1 : 0;
                if (!r.passed()) {
                    failed.add(r);
                    violations += r.violations().isEmpty() ? 0 : 1;
                    stuck += r.stuck().isEmpty() ? 0 : 1;
                }
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        if (json) {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("seeds", seeds);
            all.put("firstSeed", firstSeed);
            all.put("seconds", Math.round(seconds * 10) / 10.0);
            all.put("jobs", n);
            all.put("violations", violations);
            all.put("stuck", stuck);
            all.put("passed", failed.isEmpty());
            all.put("counts", totals);
            all.put("failed", failed.stream().map(this::result).toList());
            printJson(out, all);
            return ExitCodes.check(failed.isEmpty());
        }
        out.printf(Locale.ROOT, "machxp chaos: %d %s (%d..%d) in %.1f s, %d jobs: %d with violations, %d with stuck waiters%n",
                seeds, seeds == 1 ? "seed" : "seeds", firstSeed, firstSeed + seeds - 1, seconds, n, violations, stuck);
        out.println("  injected and seen: " + totals);
        if (mix.contended()) {
            out.println("  contended paths: " + contendedPaths(totals));
        }
        if (mix == io.machxp.chaos.ChaosMix.HEIR_SHUTDOWN) {
            out.println("  stale-heir paths: " + paths(io.machxp.chaos.StaleHeirShutdowns.NAMES, totals)
                    + String.format(Locale.ROOT, " (runs reaching a stale-heir release: %d of %d)", reached, seeds));
        }
        for (ChaosRun.Result r : failed) {
            report(out, r);
        }
        return ExitCodes.check(failed.isEmpty());
    }

    /** The paths the contended mix is there to reach, each with how often the runs reached it (0 included). */
    static String contendedPaths(Map<String, Long> totals) {
        return paths(io.machxp.chaos.ContendedPaths.NAMES, totals);
    }

    /** Each path with how often the runs reached it (0 included). */
    static String paths(List<String> names, Map<String, Long> totals) {
        StringBuilder b = new StringBuilder();
        for (String path : names) {
            b.append(b.length() == 0 ? "" : ", ").append(path).append(' ').append(totals.getOrDefault(path, 0L));
        }
        return b.toString();
    }

    /** One run as JSON: seed, passed, counts, and when it failed its violations and replay command. */
    private Map<String, Object> result(ChaosRun.Result r) {
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("seed", r.seed());
        one.put("passed", r.passed());
        one.put("counts", new TreeMap<>(r.counts()));
        if (!r.passed()) {
            one.put("violations", r.violations());
            one.put("stuck", r.stuck());
            one.put("replay", replay(r));
        }
        return one;
    }

    private static void printJson(PrintWriter out, Object value) throws com.fasterxml.jackson.core.JsonProcessingException {
        out.println(new com.fasterxml.jackson.databind.ObjectMapper()
                .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(value));
        out.flush();
    }

    private String replay(ChaosRun.Result r) {
        return replay(r.seed(), false);
    }

    private String replay(long seed, boolean ipcRun) {
        String v = variantName == null || variantName.equals("cache") ? "" : " --variant " + variantName;
        return String.format(Locale.ROOT, "./machxp chaos%s --seed %d%s --kernels %d --threads %d --futexes %d --duration-ms %d "
                + "--lease-ms %d --fault-gap-ms %d%s%s%s%s --history", ipcRun ? " --ipc" : "", seed, v, kernels, threads,
                futexes, durationMillis, leaseMillis, faultGapMillis, pagers == 1 ? "" : " --pagers " + pagers,
                replicas == 0 ? "" : " --replicas " + replicas
                        + (replicaClockStep == null ? "" : " --replica-clock-step " + replicaClockStep), mixName.equals("standard") ? "" : " --mix " + mixName,
                futexRecords == 0 ? "" : " --futex-records " + futexRecords);
    }

    private void report(PrintWriter out, ChaosRun.Result r) {
        if (r.passed()) {
            out.printf(Locale.ROOT, "seed %d: passed %s%n", r.seed(), r.counts());
            return;
        }
        out.printf(Locale.ROOT, "seed %d: %d violations, %d stuck waiters%n", r.seed(), r.violations().size(), r.stuck().size());
        r.violations().forEach(v -> out.println("  " + v));
        r.stuck().forEach(v -> out.println("  stuck: " + v));
        out.println("  replay: " + replay(r));
    }
}
