package io.machxp.bench.cli;

import io.machxp.cli.DurationConverter;
import io.machxp.cli.ExitCodes;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.machxp.bench.report.BenchChart;
import io.machxp.bench.report.BenchReport;
import io.machxp.bench.scale.FutexCapacity;
import io.machxp.bench.scale.KernelSweep;
import io.machxp.bench.systems.MachxpService;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.workbench.NetworkModel;
import io.machxp.workbench.PagerScaleModel;
import io.machxp.workbench.WorkbenchRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * machxp scale: one pager and more and more kernels in this JVM (the bench workload, machxp
 * cached, one thread per kernel, two futexes homed on each); how many futexes one kernel caches
 * and the memory each takes; and the pager's XP message throughput, saturated by Part II traffic.
 * With --pagers, the same workload on several pagers here, and the simulator's CPU-cost model of
 * those pager counts ({@link PagerScaleModel}), where each pager has a CPU of its own.
 */
@Command(name = "scale", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure how machxp scales: kernels per pager, futexes per kernel, pager messages per second.",
                "Exit 0 when every run kept mutual exclusion and every update, 2 when one did not."})
final class ScaleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--kernels", split = ",", paramLabel = "N",
            description = "kernel counts to measure; default 2,4,8,16,32,64")
    List<Integer> kernels = List.of(2, 4, 8, 16, 32, 64);
    @Option(names = "--pagers", split = ",", paramLabel = "N", description = "also measure with these pager "
            + "counts (4 kernels, 2 futexes homed on each, lock i on pager i mod N; docs/multi-pager.md); default none")
    List<Integer> pagers = List.of();
    @Option(names = "--model-network", paramLabel = "NAME", description = {"with --pagers, also the simulator's "
            + "CPU-cost model of the same pager counts on this network model",
            "(lan, dc or wan: the CPU a pager and a kernel spend per message; docs/performance.md); default ${DEFAULT-VALUE}"})
    String modelNetwork = "lan";
    @Option(names = "--futexes", description = "futexes to cache in one kernel; default ${DEFAULT-VALUE}")
    int futexes = 100_000;
    @Option(names = "--locality", description = "as in machxp bench; default ${DEFAULT-VALUE}")
    double locality = 0.9;
    @Mixin
    JvmWarmup jvmWarmup = new JvmWarmup();
    @Option(names = "--warmup", converter = DurationConverter.class, paramLabel = "TIME",
            description = "warm-up per point, not measured; default 3s")
    Duration warmup = Duration.ofSeconds(3);
    @Option(names = "--duration", converter = DurationConverter.class, paramLabel = "TIME",
            description = "measured time per point; default 5s")
    Duration duration = Duration.ofSeconds(5);
    @Option(names = "--chart", paramLabel = "FILE", description = "PNG of throughput and p99 against kernels; default ${DEFAULT-VALUE}")
    Path chart = Path.of("machxp-scale.png");
    @Option(names = "--no-chart", description = "draw no chart")
    boolean noChart;
    @Option(names = "--json", description = "print the results as JSON instead of tables")
    boolean json;
    @Option(names = "--ops", paramLabel = "N", description = {"each worker of each measured run runs N operations",
            "and stops, all measured, instead of --duration (no clock decides when a run ends: tests); default 0: timed"})
    long ops;
    @Option(names = "--quick", description = "2 and 4 kernels, 2,000 futexes, 0.2 s + 0.5 s per point: a smoke test (CI)")
    boolean quick;

    /** What machxp scale prints as JSON. */
    record ScaleReport(BenchReport.Machine machine, List<KernelSweep> kernels, KernelSweep pagerSaturation,
            FutexCapacity.Result futexCapacity, List<KernelSweep> pagers, PagerModel pagerModel) {}

    /** The simulator's CPU-cost model of the --pagers counts (null without --pagers). */
    record PagerModel(String network, long pagerCpuNanosPerMessage, long kernelCpuNanosPerMessage, String load,
            List<PagerScaleModel.Point> points) {}

    @Override
    public Integer call() throws Exception {
        BenchLogs.quiet();
        if (quick) {
            kernels = List.of(2, 4);
            futexes = 2_000;
            warmup = Duration.ofMillis(200);
            jvmWarmup.skip();
            duration = Duration.ofMillis(500);
        }
        NetworkModel network;
        try {
            network = NetworkModel.of(modelNetwork);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--model-network: " + e.getMessage());
        }
        if (ops < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--ops cannot be negative, not " + ops);
        }
        for (int p : pagers) {
            if (p < 1 || p > 16) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--pagers: 1 to 16, not " + p);
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        if (!kernels.isEmpty()) { // the shared warm-up: the bench's own code, before the first point only
            jvmWarmup.run(workload(kernels.get(0), 1, 2 * kernels.get(0), locality).withWarmup(warmup));
        }
        List<KernelSweep> sweep = new ArrayList<>();
        for (int k : kernels) {
            err.printf(Locale.ROOT, "scale: %d kernels...%n", k);
            err.flush();
            sweep.add(KernelSweep.run(k + " kernels", MachxpService.Mode.CACHED,
                    workload(k, 1, 2 * k, locality).withWarmup(jvmWarmup.of(sweep.size(), warmup))));
        }
        PagerModel model = pagers.isEmpty() ? null : pagerModel(network, err);
        List<KernelSweep> pagerSweep = new ArrayList<>();
        for (int p : pagers) {
            err.printf(Locale.ROOT, "scale: %s, 4 kernels...%n", pagerLabel(p));
            err.flush();
            pagerSweep.add(KernelSweep.run(pagerLabel(p), MachxpService.Mode.CACHED, workload(4, 1, 8, locality)
                    .withWarmup(jvmWarmup.of(sweep.size() + pagerSweep.size(), warmup)), p));
        }
        err.println("scale: saturating the pager (Part II, 8 kernels x 2 threads)...");
        err.flush();
        KernelSweep saturation = KernelSweep.run("Part II, 8 x 2", MachxpService.Mode.NO_CACHE, workload(8, 2, 16, 1.0));
        err.printf(Locale.ROOT, "scale: caching %,d futexes in one kernel...%n", futexes);
        err.flush();
        FutexCapacity.Result capacity = FutexCapacity.measure(futexes);
        ScaleReport report = new ScaleReport(BenchReport.Machine.current(), sweep, saturation, capacity, pagerSweep,
                model);

        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
        } else {
            print(report, out);
        }
        out.flush();
        if (!noChart) {
            BenchChart.write(chart, sweep, KernelSweep::label, List.of(
                    new BenchChart.Panel<KernelSweep>("Throughput, machxp cached", "operations per second",
                            s -> s.result().opsPerSecond()),
                    new BenchChart.Panel<KernelSweep>("p99 latency", "microseconds, lock to unlock",
                            s -> s.result().latencyMicros().p99())));
            err.println("chart: " + chart.toAbsolutePath());
        }
        boolean correct = sweep.stream().allMatch(s -> s.result().correct()) && saturation.result().correct()
                && pagerSweep.stream().allMatch(s -> s.result().correct())
                && capacity.messagesSecondPass() == 0;
        if (!correct) {
            err.println("machxp scale: a run broke mutual exclusion, lost an update, or a cached futex sent a message");
            return ExitCodes.CHECK_FAILED;
        }
        return ExitCodes.OK;
    }

    /** The model of the --pagers counts: seconds of CPU here, virtual time there. */
    private PagerModel pagerModel(NetworkModel network, PrintWriter err) {
        err.printf(Locale.ROOT, "scale: the CPU-cost model of %s pagers (simulator, network %s)...%n", pagers, network.name());
        err.flush();
        WorkbenchRun.Setup s = quick ? PagerScaleModel.QUICK : PagerScaleModel.SETUP;
        String load = String.format(Locale.ROOT, "Part II (%s), %d kernels x %d workers, %d futexes, locality %.1f,"
                + " critical %d us, think %d us, %d ms virtual", PagerScaleModel.VARIANT, s.kernels(), s.threads(),
                s.futexes(), PagerScaleModel.LOCALITY, s.criticalNanos() / 1000, s.thinkNanos() / 1000,
                s.durationNanos() / 1_000_000);
        return new PagerModel(network.name(), network.pagerCpuNanos(), network.kernelCpuNanos(), load,
                PagerScaleModel.run(pagers, network, s, 1));
    }

    private static String pagerLabel(int n) {
        return n == 1 ? "1 pager" : n + " pagers";
    }

    private BenchOptions workload(int nodes, int threads, int locks, double locality) {
        BenchOptions o = new BenchOptions(nodes, threads, locks, locality, Duration.ZERO, Duration.ZERO, 0.5, warmup,
                duration, 42, BenchOptions.Api.LOCAL);
        return ops > 0 ? o.withOpsPerWorker(ops) : o;
    }

    private static void print(ScaleReport r, PrintWriter out) {
        out.printf(Locale.ROOT, "machine: %d CPUs, %s, %s%n%n", r.machine().cpus(), r.machine().java(), r.machine().os());
        out.println("kernels (machxp cached, 1 thread per kernel, 2 futexes homed on each, locality 0.9, 50% writes):");
        out.printf(Locale.ROOT, "%-16s %12s %10s %10s %10s %14s %12s %8s%n", "", "ops/s", "p50 us", "p99 us", "XP msg/op",
                "pager msg/s", "pager CPU", "correct");
        for (KernelSweep s : r.kernels()) {
            row(out, s);
        }
        if (!r.pagers().isEmpty()) {
            out.println();
            out.println("pagers, measured here (4 kernels, lock i on pager i mod N; pager msg/s and CPU summed over the"
                    + " pagers; 'x first' is ops/s over the first row's):");
            out.printf(Locale.ROOT, "%-16s %12s %10s %10s %10s %14s %12s %8s %8s%n", "", "ops/s", "p50 us", "p99 us", "XP msg/op",
                    "pager msg/s", "pager CPU", "x first", "correct");
            double first = r.pagers().get(0).result().opsPerSecond();
            for (KernelSweep s : r.pagers()) {
                out.printf(Locale.ROOT, "%-16s %12.0f %10.1f %10.1f %10.2f %14.0f %11.0f%% %8.2f %8s%n", s.label(),
                        s.result().opsPerSecond(), s.result().latencyMicros().p50(), s.result().latencyMicros().p99(),
                        s.result().messagesPerOp(), s.pagerMessagesPerSecond(), 100 * s.pagerCoreCpu(),
                        s.result().opsPerSecond() / Math.max(first, 1e-9), s.result().correct() ? "yes" : "NO");
            }
        }
        if (r.pagerModel() != null) {
            PagerModel m = r.pagerModel();
            out.println();
            out.printf(Locale.ROOT, "pagers, modelled (the simulator's CPU-cost model, network %s: %.1f us of CPU per"
                    + " message received at a pager, %.1f us at a kernel, one CPU each; %s; futex i on pager i mod N):%n",
                    m.network(), m.pagerCpuNanosPerMessage() / 1e3, m.kernelCpuNanosPerMessage() / 1e3, m.load());
            out.printf(Locale.ROOT, "%-16s %12s %10s %10s %18s %10s%n", "", "ops/s", "x first", "XP msg/op", "busiest pager CPU",
                    "p99 us");
            for (PagerScaleModel.Point p : m.points()) {
                out.printf(Locale.ROOT, "%-16s %12.0f %10.2f %10.2f %17.0f%% %10.1f%n", pagerLabel(p.pagers()),
                        p.opsPerSecond(), p.speedup(), p.msgsPerOp(), 100 * p.busiestPagerCpu(), p.p99Micros());
            }
        }
        out.println();
        out.println("pager saturated by Part II traffic (--no-cache, 8 kernels x 2 threads, locality 1):");
        row(out, r.pagerSaturation());
        FutexCapacity.Result c = r.futexCapacity();
        out.printf(Locale.ROOT, "%n%,d futexes cached in one kernel: %.1f bytes each (kernel and pager state, heap growth"
                + " after GC); caching them took %.2f s; then %.1f ns per lock+unlock and %d XP messages for all of them%n",
                c.futexes(), c.bytesPerFutex(), c.cachingSeconds(), c.cachedNanosPerLockUnlock(), c.messagesSecondPass());
    }

    private static void row(PrintWriter out, KernelSweep s) {
        out.printf(Locale.ROOT, "%-16s %12.0f %10.1f %10.1f %10.2f %14.0f %11.0f%% %8s%n", s.label(),
                s.result().opsPerSecond(), s.result().latencyMicros().p50(), s.result().latencyMicros().p99(),
                s.result().messagesPerOp(), s.pagerMessagesPerSecond(), 100 * s.pagerCoreCpu(),
                s.result().correct() ? "yes" : "NO");
    }
}
