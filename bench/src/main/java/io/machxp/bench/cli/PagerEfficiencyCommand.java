package io.machxp.bench.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.machxp.bench.pagerload.PagerEfficiency;
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
                + "driving the bench workload with --no-cache (every lock and unlock goes to the pager) over gRPC.",
                "Exit 0 when mutual exclusion and every update held, 2 when not."})
final class PagerEfficiencyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

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
        BenchOptions options = new BenchOptions(kernels, threads, locks, locality, Duration.ZERO, Duration.ZERO, 0.5,
                warmup, duration, 42, BenchOptions.Api.LOCAL);
        PagerEfficiency.Result r = PagerEfficiency.measure(options, leaseMillis, jvm,
                new io.machxp.bench.pagerload.Pinning(pagerCpus, loadCpus));
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
            m.put("workload", r.workload());
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
        } else {
            out.printf(Locale.ROOT, "pager efficiency, Part II (--no-cache), %d kernels x %d threads, %d locks, locality %.2f%s%n",
                    kernels, threads, locks, locality, pagerCpus == null && loadCpus == null ? ""
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
            out.printf(Locale.ROOT, "  lock+unlock operations    %,.0f/s, p99 %.1f us%n", r.workload().opsPerSecond(),
                    r.workload().latencyMicros().p99());
            out.printf(Locale.ROOT, "  load average (1, 5, 15 min) %s on %d CPUs%n", r.loadAverage(),
                    Runtime.getRuntime().availableProcessors());
        }
        out.flush();
        if (!r.correct()) {
            spec.commandLine().getErr().println("machxp pager-efficiency: mutual exclusion or an update was lost");
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
