package io.machxp.bench.cli;

import io.machxp.cli.DurationConverter;
import io.machxp.cli.ExitCodes;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.machxp.bench.report.BenchChart;
import io.machxp.bench.report.BenchCsv;
import io.machxp.bench.report.BenchReport;
import io.machxp.bench.report.BenchTable;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.cluster.CloseAtExit;
import io.machxp.bench.workload.LockService;
import io.machxp.bench.workload.Run;
import io.machxp.bench.process.ProcessWorkload;
import io.machxp.bench.workload.SystemResult;
import io.machxp.bench.workload.Workload;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * machxp bench: one workload, run on machxp (one pager, or three Raft replicas) and on the lock
 * services a user would otherwise pick (Curator on ZooKeeper with and without fsync, Hazelcast's
 * FencedLock with CP on and off), one after the other in this JVM, each with a warm-up and then
 * measured for the same time ({@link BenchSystems}), every system with the same warm-up after a
 * shared one that runs no system's code ({@link JvmWarmup}). Every row says what the system
 * guarantees (replicas, durability, what each operation reaches) and what its data step did ({@code --data}). Prints a table (or JSON, or CSV) and draws a chart. A benchmark, not a test: it reports numbers and fails only
 * when a system broke mutual exclusion or lost an update.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compare machxp with Curator and Hazelcast on one lock workload, measured in the same run.",
                "Exit 0 when every system kept mutual exclusion and every update, 2 when one did not."},
        footer = {"", "Every system gets the same warm-up (--warmup), after one shared, unmeasured warm-up of the bench's own",
                "code on plain ReentrantLocks (--jvm-warmup); the order of the systems is printed (--shuffle draws it from --seed).",
                "Each row says what the system guarantees and what its critical section's data step did (--data).",
                "Latency: per operation, lock called to unlock returned, in a closed loop (a worker issues its next operation",
                "only when the last returned; no intended start times, so coordinated omission applies: a stall hides the",
                "operations a worker would have issued meanwhile). Percentiles are over operations: when most operations are",
                "a cached lock (a CAS in the kernel), p50 is that CAS and says nothing of the handoffs; see 'p99 wait' and",
                "docs/performance.md (\"What the latency columns mean\")."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--kernels", description = "kernels (client nodes for the peers); default ${DEFAULT-VALUE}")
    int kernels = 3;
    @Option(names = "--threads", description = "worker threads per kernel; default ${DEFAULT-VALUE}")
    int threads = 4;
    @Option(names = "--locks", description = "locks (futexes), lock i homed on kernel i mod kernels; default ${DEFAULT-VALUE}")
    int locks = 6;
    @Option(names = "--locality", description = "probability of taking a lock homed on the worker's kernel; default ${DEFAULT-VALUE}")
    double locality = 0.9;
    @Option(names = "--critical", converter = DurationConverter.class, paramLabel = "TIME",
            description = "time holding the lock, busy (e.g. 5us); default 0")
    Duration critical = Duration.ZERO;
    @Option(names = "--think", converter = DurationConverter.class, paramLabel = "TIME",
            description = "time between operations, off the CPU (e.g. 100us); default 0")
    Duration think = Duration.ZERO;
    @Option(names = "--writes", description = "fraction of critical sections that increment the lock's counter (the rest read it); default ${DEFAULT-VALUE}")
    double writes = 0.5;
    @Option(names = "--warmup", converter = DurationConverter.class, paramLabel = "TIME",
            description = {"warm-up per system, not measured, the same for every system (the JIT needs it: the cross-kernel",
                    "path runs 1 op in 10); default 15s"})
    Duration warmup = Duration.ofSeconds(15);
    @Mixin
    JvmWarmup jvmWarmup = new JvmWarmup();
    @Option(names = "--duration", converter = DurationConverter.class, paramLabel = "TIME",
            description = "measured time per system; default 10s")
    Duration duration = Duration.ofSeconds(10);
    @Option(names = "--seed", description = "the workers' choices; default ${DEFAULT-VALUE}")
    long seed = 42;
    @Option(names = "--api", description = {"where the workers run: local (machxp's as tasks of the kernels' JVM),",
            "grpc (KernelClient tasks in this JVM), or process (every system's workers as clients in a JVM per node:",
            "machxp's KernelClient tasks with the shared-memory fast path, the peers' client libraries); default ${DEFAULT-VALUE}"})
    BenchOptions.Api api = BenchOptions.Api.LOCAL;
    @Option(names = "--workload", description = {"how a worker picks its next lock: locality (--locality) or alternation",
            "(the lock most recently acquired by another node, one worker per node on its way to a lock, waiting when",
            "none is eligible: every measured operation a handoff between nodes, counted in the 'handoffs' column);",
            "default ${DEFAULT-VALUE}"})
    BenchOptions.Pattern workload = BenchOptions.Pattern.LOCALITY;
    @Option(names = "--data", description = {"what the critical section reads and increments: shared (a word in the bench's",
            "own memory, a load and a store, the same for every system: lock against lock) or system (where a user would",
            "keep it: machxp's lock page; with --api process an IMap entry for Hazelcast and a znode for ZooKeeper,",
            "extra calls to their servers; in-JVM the peers' in this heap); default ${DEFAULT-VALUE}"})
    BenchOptions.Data data = BenchOptions.Data.SHARED;
    @Option(names = "--ops", paramLabel = "N", description = {"each worker runs N operations after the warm-up and stops,",
            "all measured, instead of --duration (throughput over the time the last worker took; under strict",
            "alternation at most N: a node stops once the others have finished); default 0: timed"})
    long ops;
    @Option(names = "--shuffle", description = "run the systems in an order drawn from --seed (printed) instead of as given")
    boolean shuffle;
    @Option(names = "--systems", split = ",", paramLabel = "NAME", description = {"which systems, in order: machxp"
            + " (1 pager, in memory), machxp-r3 (3 Ratis replicas, log fsynced: handoffs; cached ops stay in the kernel),",
            "machxp-r3-nosync (the same, log in the page cache, not fsynced), hazelcast-cp (3 CP members, Raft, in memory,",
            "every op committed),",
            "hazelcast-unsafe (CP off: no Raft), zookeeper (Curator, log fsynced), zookeeper-nosync (forceSync=no),",
            "no-cache, piggyback (machxp's other modes); default machxp,machxp-r3,machxp-r3-nosync,hazelcast-cp,hazelcast-unsafe,zookeeper,"
            + "zookeeper-nosync"})
    List<String> systems = BenchSystems.DEFAULT;
    @Option(names = "--chart", paramLabel = "FILE", description = "the PNG chart of throughput and p99; default ${DEFAULT-VALUE}")
    Path chart = Path.of("machxp-bench.png");
    @Option(names = "--no-chart", description = "draw no chart")
    boolean noChart;
    @Option(names = "--json", description = "print the report as JSON instead of the table")
    boolean json;
    @Option(names = "--csv", description = "print the report as CSV (one line per system, its guarantees included) instead of the table")
    boolean csv;
    @Option(names = "--quick", description = {"0.2 s warm-up and 0.5 s measured per system (with --api process 1 s and 1 s:",
            "the worker processes' JVMs start cold): a smoke test (CI); its numbers mean little"})
    boolean quick;
    @Option(names = "--no-progress", description = "no progress bar (on stderr, shown only on a terminal)")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        BenchLogs.quiet();
        if (quick) {
            boolean processes = api == BenchOptions.Api.PROCESS;
            warmup = Duration.ofMillis(processes ? 1000 : 200);
            jvmWarmup.skip();
            duration = Duration.ofMillis(processes ? 1000 : 500);
        }
        BenchOptions options = new BenchOptions(kernels, threads, locks, locality, critical, think, writes, warmup,
                duration, seed, api, workload, data, ops);
        List<BenchSystems> chosen = new ArrayList<>(BenchSystems.parse(systems));
        if (shuffle) {
            java.util.Collections.shuffle(chosen, new java.util.Random(seed));
        }
        Duration shared = jvmWarmup.shared(options);
        java.util.Map<String, Integer> leftovers = new java.util.LinkedHashMap<>();
        boolean showProgress = !noProgress && System.console() != null; // a bar only on a terminal
        List<SystemResult> results = new ArrayList<>();
        List<BenchReport.Failure> failures = new ArrayList<>();
        Exception firstFailure = null;
        try (Progress progress = Progress.start(showProgress, chosen.size(), options, shared)) {
            jvmWarmup.run(options);
            int baseline = Settle.threads();
            for (BenchSystems system : chosen) {
                if (!results.isEmpty() || !failures.isEmpty()) {
                    int left = Settle.after(baseline); // the earlier system's threads and garbage gone first
                    if (left > 0) {
                        leftovers.put(system.label, left);
                        spec.commandLine().getErr().println("machxp bench: " + left + " thread(s) of earlier systems"
                                + " still alive as " + system.label + " starts");
                    }
                }
                progress.system(system.label);
                // registered before the system starts: a SIGTERM while it starts waits for the start
                // (not interrupted: see Demo.closeAtExit), then closes what it made
                try (CloseAtExit.Starting<LockService> atExit = CloseAtExit.beforeStart("bench's " + system.label,
                                CloseAtExit.DEFAULT_BOUND);
                        LockService service = atExit.start(() -> system.open(options))) {
                    BenchOptions o = options.withWarmup(jvmWarmup.of(results.size(), warmup));
                    Run w = api == BenchOptions.Api.PROCESS ? new ProcessWorkload(o) : new Workload(o);
                    progress.running(w);
                    results.add(w.run(service));
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    // One system that cannot start (a port taken, a peer's server refusing) costs its
                    // row, not the others' measurements: the report names it and the exit code says so.
                    failures.add(new BenchReport.Failure(system.label, ExitCodes.sentence(e)));
                    spec.commandLine().getErr().println("machxp bench: " + system.label + " failed: "
                            + ExitCodes.sentence(e) + "; going on with the other systems");
                    firstFailure = firstFailure == null ? e : firstFailure;
                }
            }
        }
        BenchReport report = BenchReport.of(options, results, failures,
                new BenchReport.Order(chosen.stream().map(s -> s.label).toList(), shuffle, shared.toMillis() / 1e3,
                        leftovers));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
            out.flush();
        } else if (csv) {
            out.print(BenchCsv.of(report));
            out.flush();
        } else {
            BenchTable.print(report, out);
        }
        if (!noChart && !results.isEmpty()) {
            BenchChart.write(report, chart);
            spec.commandLine().getErr().println("chart: " + chart.toAbsolutePath());
        }
        if (!report.correct()) {
            spec.commandLine().getErr().println("machxp bench: a system broke mutual exclusion or lost an update (see 'correct')");
            return ExitCodes.CHECK_FAILED;
        }
        return firstFailure == null ? ExitCodes.OK : ExitCodes.of(firstFailure);
    }
}
