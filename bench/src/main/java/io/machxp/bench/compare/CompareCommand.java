package io.machxp.bench.compare;

import io.machxp.trace.ChromeTrace;
import io.machxp.trace.XpTrace;
import io.machxp.variant.Variants;
import io.machxp.workbench.NetworkModel;
import io.machxp.workbench.RealWorkbenchRun;
import io.machxp.workbench.WorkbenchResult;
import io.machxp.workbench.WorkbenchRun;
import io.machxp.workbench.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * machxp compare: protocol variants side by side on one seeded workload in the simulator, over a
 * sweep of the workload's parameter, in parallel across cores; a table, a CSV and a chart with
 * one line per variant.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Run protocol variants over a workload and a parameter sweep in the simulator (virtual time, "
                + "deterministic by seed) and print throughput, latency, XP messages and fairness side by side.",
                "See docs/workbench.md."})
public final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--variants", split = ",", defaultValue = "no-cache,cache,page-separate,piggyback,min-hold,"
            + "adaptive-hold,sticky-lease,direct", description = "variants to compare (default: all: ${DEFAULT-VALUE})")
    List<String> variants;

    @Option(names = "--workload", defaultValue = "locality",
            description = "locality, alternation, zipf, convoy or priority-mix (default ${DEFAULT-VALUE})")
    String workload;

    @Option(names = "--sweep", paramLabel = "PARAM=FROM..TO[:STEP]",
            description = "the workload's parameter (locality, zipf's exponent, priority-mix's locality), e.g. "
                    + "locality=0..1:0.25; without it one point (locality 0.9, zipf 1)")
    String sweep;

    @Option(names = "--network", defaultValue = "lan", description = "lan, dc or wan (default ${DEFAULT-VALUE})")
    String network;

    @Option(names = "--seed", defaultValue = "1", description = "the seed of every run (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--kernels", defaultValue = "3") int kernels;
    @Option(names = "--threads", defaultValue = "2", description = "workers per kernel") int threads;
    @Option(names = "--futexes", defaultValue = "6") int futexes;
    @Option(names = "--duration-ms", defaultValue = "200", description = "virtual time measured per run") long durationMs;
    @Option(names = "--critical-us", defaultValue = "10") long criticalUs;
    @Option(names = "--think-us", defaultValue = "50") long thinkUs;

    @Option(names = "--csv", defaultValue = "machxp-compare.csv", description = "(default ${DEFAULT-VALUE})")
    Path csv;

    @Option(names = "--chart", defaultValue = "machxp-compare.png", description = "(default ${DEFAULT-VALUE})")
    Path chart;

    @Option(names = "--jobs", description = "runs at a time (default: the number of CPUs)")
    Integer jobs;

    @Option(names = "--mode", defaultValue = "sim", description = "sim (default), or real: run the grid in the "
            + "simulator and then again, one run at a time, on an embedded pager and kernels over gRPC on loopback, "
            + "and print each cell's real/sim ratio (the CSV gets both; real rows say network loopback)")
    String mode;

    @Option(names = "--trace", paramLabel = "FILE.json", description = "record each run's XP messages, the workers' "
            + "locks and the kernels' events, in virtual time, as Chrome trace-event JSON (ui.perfetto.dev): FILE for "
            + "a grid of one run, else one file per run, FILE's name plus -VARIANT-PARAM (several MB each)")
    Path trace;

    @Override
    public Integer call() throws Exception {
        io.machxp.cli.Logs.warningsOnly();
        NetworkModel net;
        List<Double> points;
        try {
            net = NetworkModel.of(network);
            variants.forEach(Variants::of);
            new Workload(workload, 0, kernels, futexes);
            points = Sweep.points(sweep, workload);
            if (!mode.equals("sim") && !mode.equals("real")) {
                throw new IllegalArgumentException("--mode is sim or real, not '" + mode + "'");
            }
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        WorkbenchRun.Setup setup = new WorkbenchRun.Setup(kernels, threads, futexes, durationMs * 1_000_000,
                criticalUs * 1_000, thinkUs * 1_000);
        int parallel = jobs != null ? jobs : Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, parallel));
        List<Future<WorkbenchResult>> runs = new ArrayList<>();
        try {
            List<Path> traces = new ArrayList<>();
            for (double p : points) {
                for (String v : variants) {
                    Path file = trace == null ? null : TraceFiles.of(trace, v, p, points.size() * variants.size() > 1);
                    if (file != null) {
                        traces.add(file);
                    }
                    runs.add(pool.submit(() -> {
                        XpTrace recorder = file == null ? null : new XpTrace();
                        WorkbenchResult r = WorkbenchRun.run(Variants.of(v), new Workload(workload, p, kernels,
                                futexes), p, net, setup, seed, recorder);
                        if (file != null) {
                            Files.writeString(file, ChromeTrace.json(recorder));
                        }
                        return r;
                    }));
                }
            }
            List<WorkbenchResult> results = new ArrayList<>();
            for (Future<WorkbenchResult> f : runs) {
                results.add(f.get());
            }
            var out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "machxp compare: workload %s, network %s, seed %d, %d kernels x %d threads, %d futexes, %d ms "
                    + "virtual per run%n", workload, network, seed, kernels, threads, futexes, durationMs);
            out.print(CompareTable.text(results));
            List<String> lines = new ArrayList<>();
            lines.add(WorkbenchResult.CSV_HEADER);
            results.forEach(r -> lines.add(r.csv()));
            if (mode.equals("real")) {
                List<WorkbenchResult> real = new ArrayList<>();
                for (WorkbenchResult s : results) {
                    real.add(RealWorkbenchRun.run(Variants.of(s.variant()), new Workload(workload, s.param(), kernels,
                            futexes), s.param(), setup, seed));
                }
                out.printf(Locale.ROOT, "%nreal: the same grid over gRPC on loopback (embedded pager and kernels, one run at a time, "
                        + "%d ms wall per run after a tenth of it warming up)%n", durationMs);
                out.print(CompareTable.text(real));
                out.printf(Locale.ROOT, "%nreal / sim (network %s in the simulator):%n", network);
                out.print(CompareTable.ratios(results, real));
                real.forEach(r -> lines.add(r.csv()));
            }
            Files.write(csv, lines);
            CompareChart.write(chart, results, workload, network, seed, Sweep.name(sweep, workload));
            out.printf(Locale.ROOT, "wrote %s and %s; reproduce: machxp compare --variants %s --workload %s%s --network %s --seed %d%s%n",
                    csv, chart, String.join(",", variants), workload, sweep == null ? "" : " --sweep " + sweep,
                    network, seed, mode.equals("real") ? " --mode real" : "");
            if (!traces.isEmpty()) {
                out.printf(Locale.ROOT, "traces (virtual time, open in ui.perfetto.dev): %s%n",
                        String.join(" ", traces.stream().map(Path::toString).toList()));
            }
            out.flush();
            return 0;
        } finally {
            pool.shutdownNow();
        }
    }
}
