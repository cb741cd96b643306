package io.machxp.bench.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.machxp.bench.pagerload.PagerEfficiency;
import io.machxp.bench.pagerload.SyntheticLoad;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.cli.DurationConverter;
import io.machxp.cli.ExitCodes;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * machxp pager-efficiency: XP messages per pager CPU-second on a Part II (--no-cache) saturating
 * load, the pager in its own process (see {@link PagerEfficiency}). A benchmark, not a test.
 */
@Command(name = "pager-efficiency", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"XP messages the pager handles per second of its CPU: a pager process, kernels in this one "
                + "driving the bench workload with --no-cache (every lock and unlock goes to the pager) over gRPC; "
                + "or, with --load synthetic, virtual kernels speaking XP from one or a few event loops.",
                "Exit 0 when mutual exclusion and every update held (synthetic: no protocol error), 2 when not."})
final class PagerEfficiencyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--load", paramLabel = "kernels|synthetic",
            description = "kernels: machxp kernels with worker threads in this process (the bench workload); synthetic: "
                    + "virtual kernels speaking XP directly from --load-threads event loops, --streams x --in-flight "
                    + "lock/unlock loops, cheap enough to saturate the pager; default ${DEFAULT-VALUE}")
    String load = "kernels";
    @Option(names = "--streams", description = "synthetic: virtual kernels, one XP stream each; default ${DEFAULT-VALUE}")
    int streams = 64;
    @Option(names = "--in-flight", description = "synthetic: virtual threads per stream, each with one lock or release "
            + "in flight; default ${DEFAULT-VALUE}")
    int inFlight = 16;
    @Option(names = "--connections", description = "synthetic: TCP connections the streams share (at most 15 streams "
            + "each); 0: one per stream, as real kernels; default ${DEFAULT-VALUE}")
    int connections = 0;
    @Option(names = "--load-threads", description = "synthetic: event-loop threads driving the streams; default ${DEFAULT-VALUE}")
    int loadThreads = 1;
    @Option(names = "--shared-futexes", description = "synthetic: thread i of every stream locks the same futex "
            + "(contended across kernels: queued, handed off, relinquished) instead of one futex per thread")
    boolean sharedFutexes;
    @Option(names = "--kernels", description = "kernels; default ${DEFAULT-VALUE}")
    int kernels = 3;
    @Option(names = "--threads", description = "worker threads per kernel; default ${DEFAULT-VALUE}")
    int threads = 4;
    @Option(names = "--locks", description = "locks; default ${DEFAULT-VALUE}")
    int locks = 6;
    @Option(names = "--locality", description = "probability of a lock homed on the worker's kernel; default ${DEFAULT-VALUE}")
    double locality = 0.9;
    @Option(names = "--warmup", converter = DurationConverter.class, paramLabel = "TIME",
            description = "not measured (JIT of both processes); default 20s")
    Duration warmup = Duration.ofSeconds(20);
    @Option(names = "--duration", converter = DurationConverter.class, paramLabel = "TIME",
            description = "measured; default 10s")
    Duration duration = Duration.ofSeconds(10);
    @Option(names = "--lease-ms", description = "the kernels' lease at the pager (machxp pager --lease-ms); "
            + "default ${DEFAULT-VALUE}, long enough that a starved kernel is not declared dead")
    long leaseMillis = 60_000;
    @Option(names = "--jfr", paramLabel = "FILE",
            description = "record the pager process with JDK Flight Recorder (profile settings) into FILE")
    Path jfr;
    @Option(names = "--pager-heap", paramLabel = "SIZE|jvm",
            description = "the pager process's heap, fixed and touched at start (-Xms = -Xmx = SIZE, -XX:+AlwaysPreTouch), "
                    + "so that the core thread does not fault on fresh heap pages while measured; jvm: the JVM's own "
                    + "sizing (a heap it grows and shrinks); default ${DEFAULT-VALUE}")
    String pagerHeap = "256m";
    @Option(names = "--pager-jvm-arg", paramLabel = "ARG", description = "a JVM option for the pager process; repeatable")
    List<String> pagerJvmArgs = new ArrayList<>();
    @Option(names = "--pager-cpus", paramLabel = "CPUS",
            description = "run the pager process on these CPUs only (a list as taskset takes it: 0, 0-1, 0,2); default: any")
    String pagerCpus;
    @Option(names = "--load-cpus", paramLabel = "CPUS",
            description = "run this process (the kernels and their workers: the load) on these CPUs only; default: any. "
                    + "With --pager-cpus 0 --load-cpus 1 they do not take each other's CPU")
    String loadCpus;
    @Option(names = "--json", description = "print the result as JSON")
    boolean json;
    @Option(names = "--quick", description = "1 s warm-up, 1 s measured: a smoke test; its numbers mean little")
    boolean quick;

    @Override
    public Integer call() throws Exception {
        BenchLogs.quiet();
        if (quick) {
            warmup = Duration.ofSeconds(1);
            duration = Duration.ofSeconds(1);
        }
        List<String> jvm = new ArrayList<>(heapArgs(pagerHeap));
        jvm.addAll(pagerJvmArgs);
        if (jfr != null) {
            jvm.add("-XX:StartFlightRecording=settings=profile,filename=" + jfr.toAbsolutePath());
        }
        io.machxp.bench.pagerload.Pinning pinning = new io.machxp.bench.pagerload.Pinning(pagerCpus, loadCpus);
        PagerEfficiency.Result r;
        String what;
        if (load.equals("synthetic")) {
            SyntheticLoad.Options o = new SyntheticLoad.Options(streams, inFlight, connections, loadThreads,
                    sharedFutexes, Long.MAX_VALUE);
            r = PagerEfficiency.measureSynthetic(o, warmup, duration, leaseMillis, jvm, pinning);
            what = String.format(Locale.ROOT, "synthetic XP load, %d streams x %d in flight over %d connections, "
                    + "%d load thread(s), %s futexes", streams, inFlight, connections == 0 ? streams : connections,
                    loadThreads, sharedFutexes ? "shared" : "own");
        } else if (load.equals("kernels")) {
            BenchOptions options = new BenchOptions(kernels, threads, locks, locality, Duration.ZERO, Duration.ZERO, 0.5,
                    warmup, duration, 42, BenchOptions.Api.LOCAL);
            r = PagerEfficiency.measure(options, leaseMillis, jvm, pinning);
            what = String.format(Locale.ROOT, "%d kernels x %d threads, %d locks, locality %.2f", kernels, threads,
                    locks, locality);
        } else {
            throw new IllegalArgumentException("--load " + load + ": write kernels or synthetic");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("messages", r.messages());
            m.put("seconds", r.seconds());
            m.put("messagesPerSecond", Math.round(r.messagesPerSecond()));
            m.put("pagerCpuSeconds", r.pagerCpuSeconds());
            m.put("pagerCpuShare", r.pagerCpuShare());
            m.put("messagesPerPagerCpuSecond", Math.round(r.messagesPerCpuSecond()));
            m.put("loadAverage", r.loadAverage());
            m.put("pagerThreadCpuSeconds", r.threadCpuSeconds());
            m.put("coreThreadUserMicrosPerMessage", r.coreUserMicrosPerMessage());
            m.put("coreThreadSystemMicrosPerMessage", r.coreSystemMicrosPerMessage());
            m.put("coreThreadCpuShare", r.coreThreadCpuShare());
            m.put("eventLoopPasses", r.passes());
            m.put("messagesPerPass", r.messagesPerPass());
            m.put("messagesPerCoreThreadWakeup", r.messagesPerWakeup());
            m.put("messagesPerWriteCall", r.messagesPerWrite());
            m.put("coreThreadPageFaultsPerMessage", r.pageFaultsPerMessage());
            m.put("pagerHeap", pagerHeap);
            m.put("pagerCpus", pagerCpus == null ? "any" : pagerCpus);
            m.put("loadCpus", loadCpus == null ? "any" : loadCpus);
            m.put("load", load);
            m.put("lockUnlockPerSecond", Math.round(r.opsPerSecond()));
            if (r.workload() != null) {
                m.put("workload", r.workload());
            } else {
                m.put("synthetic", r.synthetic());
            }
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
        } else {
            out.printf(Locale.ROOT, "pager efficiency, Part II (--no-cache), %s%s%n",
                    what, pagerCpus == null && loadCpus == null ? ""
                            : "; pager on CPUs " + (pagerCpus == null ? "any" : pagerCpus) + ", load on "
                                    + (loadCpus == null ? "any" : loadCpus));
            out.printf(Locale.ROOT, "  XP messages at the pager  %,d in %.2f s: %,.0f/s%n", r.messages(), r.seconds(),
                    r.messagesPerSecond());
            out.printf(Locale.ROOT, "  pager process CPU         %.2f s: %.0f%% of one CPU%n", r.pagerCpuSeconds(),
                    100 * r.pagerCpuShare());
            out.printf(Locale.ROOT, "  per pager CPU-second      %,.0f XP messages%n", r.messagesPerCpuSecond());
            out.printf(Locale.ROOT, "  pager CPU by thread       %s%n", r.threadCpuSeconds().entrySet().stream().limit(6)
                    .map(e -> String.format(Locale.ROOT, "%s %.2f s", e.getKey(), e.getValue()))
                    .collect(java.util.stream.Collectors.joining(", ")));
            out.printf(Locale.ROOT, "  core thread               %.0f%% of one CPU; %.2f XP messages per event-loop pass (%,d passes)%n",
                    100 * r.coreThreadCpuShare(), r.messagesPerPass(), r.passes());
            out.printf(Locale.ROOT, "  core thread per message   %.2f us user + %.2f us system; %.2f messages per wake-up%n",
                    r.coreUserMicrosPerMessage(), r.coreSystemMicrosPerMessage(), r.messagesPerWakeup());
            // Reads are not shown: Netty's epoll transport reads with recv, which /proc/PID/io does not count.
            out.printf(Locale.ROOT, "  write system calls        %.2f messages per write%n", r.messagesPerWrite());
            out.printf(Locale.ROOT, "  page faults (core thread) %.3f per message (pager heap: %s)%n", r.pageFaultsPerMessage(),
                    pagerHeap);
            if (r.workload() != null) {
                out.printf(Locale.ROOT, "  lock+unlock operations    %,.0f/s, p99 %.1f us%n", r.workload().opsPerSecond(),
                        r.workload().latencyMicros().p99());
            } else {
                out.printf(Locale.ROOT, "  lock+unlock cycles        %,.0f/s; protocol errors %d%s; relinquishes crossed %,d%n",
                        r.opsPerSecond(), r.synthetic().errors(), r.synthetic().firstError() == null ? ""
                                : " (first: " + r.synthetic().firstError() + ")", r.synthetic().relinquishesCrossed());
                out.printf(Locale.ROOT, "  load process CPU          %.2f s: %.0f%% of one CPU (its event loops %.2f s)%n",
                        r.synthetic().loadCpuSeconds(), 100 * r.synthetic().loadCpuSeconds() / r.seconds(),
                        r.synthetic().loadThreadsCpuSeconds());
            }
            out.printf(Locale.ROOT, "  load average (1, 5, 15 min) %s on %d CPUs%n", r.loadAverage(),
                    Runtime.getRuntime().availableProcessors());
        }
        out.flush();
        if (!r.correct()) {
            spec.commandLine().getErr().println(r.workload() != null
                    ? "machxp pager-efficiency: mutual exclusion or an update was lost"
                    : "machxp pager-efficiency: the synthetic load met protocol errors: " + r.synthetic().firstError());
            return ExitCodes.CHECK_FAILED;
        }
        return ExitCodes.OK;
    }

    /** The pager JVM's heap options for {@code --pager-heap}: none for "jvm". */
    static List<String> heapArgs(String heap) {
        if (heap.equals("jvm")) {
            return List.of();
        }
        if (!heap.matches("\\d+[kKmMgG]?")) {
            throw new IllegalArgumentException("--pager-heap " + heap
                    + ": write a size such as 256m, or jvm for the JVM's own sizing");
        }
        return List.of("-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch");
    }
}
