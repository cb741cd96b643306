package io.machxp.demo;

import io.machxp.client.KernelClient;
import io.machxp.client.PagerAdminClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.cluster.CloseAtExit;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmMapReply;
import io.machxp.proto.transport.Transport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The demo: kernels whose threads share futexes in one memory object, over gRPC. Embedded (a
 * pager and kernels started in this JVM on loopback) or against running kernels and their pager;
 * either way the workers are clients of the kernels' task interface, so both settings run the
 * same program.
 */
public final class Demo {
    /** The object the embedded demo serves: one page per futex. */
    static final String EMBEDDED_OBJECT = "demo";

    private Demo() {}

    public static DemoReport run(DemoOptions options) throws IOException, InterruptedException {
        return run(options, Transport.LOOPBACK_PLAINTEXT);
    }

    /**
     * As {@link #run(DemoOptions)}; {@code transport} is how the workers reach running kernels and
     * their pager ({@code --connect}: mutual TLS with the client's files, or plaintext). The embedded
     * cluster is always plaintext on loopback.
     */
    public static DemoReport run(DemoOptions options, Transport transport) throws IOException, InterruptedException {
        return run(options, transport, DemoHooks.NONE);
    }

    /** As {@link #run(DemoOptions, Transport)}, with {@code hooks} run before and after the workload. */
    public static DemoReport run(DemoOptions options, Transport transport, DemoHooks hooks)
            throws IOException, InterruptedException {
        if (!options.embedded()) {
            return run(options, options.kernelTargets(), List.of(options.pagerTarget()), List.of(options.object()),
                    transport, hooks);
        }
        long size = (long) options.futexes() * PagerConfig.DEFAULT_PAGE_SIZE;
        if (options.pagers() > 1) {
            PagerDirectory directory = EmbeddedCluster.roundRobin(options.pagers(), "demo-", options.pagers());
            Map<String, Long> objects = new java.util.LinkedHashMap<>();
            for (int p = 0; p < options.pagers(); p++) {
                objects.put("demo-" + p, size);
            }
            try (CloseAtExit.Starting<EmbeddedCluster> atExit = closeAtExit();
                    EmbeddedCluster cluster = atExit.start(
                            () -> EmbeddedCluster.start(kernelOptions(options), objects, directory))) {
                hooks.clusterUp(cluster);
                return run(options, cluster.kernelTargets(), cluster.pagers().stream().map(Pager::target).toList(),
                        List.copyOf(objects.keySet()), Transport.LOOPBACK_PLAINTEXT, hooks);
            }
        }
        try (CloseAtExit.Starting<EmbeddedCluster> atExit = closeAtExit();
                EmbeddedCluster cluster = atExit.start(() -> EmbeddedCluster.start(options.kernels(),
                        options.cacheFutexes(), options.piggyback(), Map.of(EMBEDDED_OBJECT, size)))) {
            hooks.clusterUp(cluster);
            return run(options, cluster.kernelTargets(), List.of(cluster.pager().target()), List.of(EMBEDDED_OBJECT),
                    Transport.LOOPBACK_PLAINTEXT, hooks);
        }
    }

    /**
     * The cluster's close at exit, registered before the cluster starts: a SIGTERM while its kernels
     * start (their session directories already made) waits for the start, then closes the cluster;
     * all within the bound. Not interrupted: an interrupt that lands while a kernel makes its session
     * directory closes that file channel (ClosedByInterruptException) before the kernel can remove
     * the directory, which CI saw left once; an embedded start is short and bounded anyway.
     */
    private static CloseAtExit.Starting<EmbeddedCluster> closeAtExit() {
        return CloseAtExit.beforeStart("the demo's cluster", CloseAtExit.DEFAULT_BOUND);
    }

    /** The embedded kernels A, B, ... with the options' futex cache and piggyback. */
    private static Map<String, CoreOptions> kernelOptions(DemoOptions options) {
        Map<String, CoreOptions> kernels = new java.util.LinkedHashMap<>();
        for (int i = 0; i < options.kernels(); i++) {
            kernels.put(EmbeddedCluster.kernelName(i),
                    CoreOptions.DEFAULT.withCacheFutexes(options.cacheFutexes()).withPiggyback(options.piggyback()));
        }
        return kernels;
    }

    private static DemoReport run(DemoOptions options, List<String> kernelTargets, List<String> pagerTargets,
            List<String> objects, Transport transport, DemoHooks hooks) throws IOException, InterruptedException {
        List<KernelClient> clients = new ArrayList<>();
        List<PagerAdminClient> pager = new ArrayList<>();
        try {
            for (String target : pagerTargets) {
                pager.add(PagerAdminClient.connect(target, transport));
            }
            long pageSize = PagerConfig.DEFAULT_PAGE_SIZE;
            for (String target : kernelTargets) {
                clients.add(KernelClient.connect(target, transport, DemoWorker.CALL_DEADLINE,
                        options.grpcOnly() ? KernelClient.Memory.GRPC_ONLY : KernelClient.Memory.SHARED_WHEN_LOCAL));
            }
            TaskClient probe = clients.get(0).taskCreate("demo-probe");
            for (String object : objects) {
                VmMapReply map = probe.map(object);
                if (map.getSize() < options.futexes() * pageSize) {
                    probe.terminate();
                    throw new IllegalArgumentException("memory object '" + object + "' has " + map.getSize()
                            + " bytes; " + options.futexes() + " futexes need " + options.futexes() * pageSize
                            + " (one page each)");
                }
            }
            probe.terminate();
            hooks.beforeRun(pagerTargets.get(0), kernelTargets);
            long counterBefore = counterSum(clients, objects, pageSize, options.futexes());
            DemoWorkload workload = new DemoWorkload(options);
            PagerStatisticsReply[] before = new PagerStatisticsReply[1];
            long[] callsBefore = new long[1];
            long elapsedNanos = workload.run(clients, objects, pageSize, () -> {
                before[0] = statistics(pager);
                callsBefore[0] = calls(clients);
            });
            double callsPerOp = (double) (calls(clients) - callsBefore[0])
                    / ((long) options.kernelCount() * options.threadsPerKernel() * options.opsPerThread());
            PagerStatisticsReply after = statistics(pager);
            long counterAfter = counterSum(clients, objects, pageSize, options.futexes());
            long counter = counterBefore < 0 || counterAfter < 0 ? -1 : counterAfter - counterBefore;
            DemoReport report = report(options, workload, elapsedNanos, before[0], after, counter, callsPerOp);
            hooks.afterRun(report);
            return report;
        } finally {
            clients.forEach(KernelClient::close);
            pager.forEach(PagerAdminClient::close);
        }
    }

    /** The calls the workers' clients have made to their kernels so far. */
    private static long calls(List<KernelClient> clients) {
        return clients.stream().mapToLong(KernelClient::callsMade).sum();
    }

    /**
     * The pagers' counters, summed over the pagers (XP messages and handoffs), or empty ones for
     * a pager that does not answer (the report says so by zeros).
     */
    private static PagerStatisticsReply statistics(List<PagerAdminClient> pagers) {
        PagerStatisticsReply.Builder sum = PagerStatisticsReply.newBuilder();
        for (PagerAdminClient pager : pagers) {
            PagerStatisticsReply one;
            try {
                one = pager.statistics();
            } catch (RuntimeException e) {
                one = PagerStatisticsReply.getDefaultInstance();
            }
            if (pagers.size() == 1) {
                return one;
            }
            one.getXpReceivedMap().forEach((k, v) -> sum.putXpReceived(k, sum.getXpReceivedOrDefault(k, 0) + v));
            one.getXpSentMap().forEach((k, v) -> sum.putXpSent(k, sum.getXpSentOrDefault(k, 0) + v));
            sum.setFutexHandoffs(sum.getFutexHandoffs() + one.getFutexHandoffs());
        }
        return sum.build();
    }

    /** The sum of the futexes' counters, read by a task on the first kernel that answers; -1 if none does. */
    private static long counterSum(List<KernelClient> clients, List<String> objects, long pageSize, int futexes) {
        for (KernelClient client : clients) {
            try {
                TaskClient reader = client.taskCreate("demo-reader");
                try {
                    return DemoWorkload.counterSum(reader, objects, pageSize, futexes);
                } finally {
                    reader.terminate();
                }
            } catch (io.machxp.client.MachxpException e) {
                // that kernel is down: the next one
            }
        }
        return -1;
    }

    private static DemoReport report(DemoOptions options, DemoWorkload workload, long elapsedNanos,
            PagerStatisticsReply before, PagerStatisticsReply after, long counter, double callsPerOp) {
        long ops = (long) options.kernelCount() * options.threadsPerKernel() * options.opsPerThread();
        Map<String, Long> xp = new TreeMap<>();
        delta(xp, before.getXpReceivedMap(), after.getXpReceivedMap());
        delta(xp, before.getXpSentMap(), after.getXpSentMap());
        long xpTotal = xp.values().stream().mapToLong(Long::longValue).sum();
        Map<String, Long> acquires = new TreeMap<>();
        for (AcquirePath path : List.of(AcquirePath.FAST_PATH, AcquirePath.LOCAL_HANDOFF, AcquirePath.PAGER_GRANT)) {
            acquires.put(path.name(), workload.acquires(path));
        }
        Histogram h = workload.latencyNanos();
        double seconds = elapsedNanos / 1e9;
        return new DemoReport(options.embedded() ? "embedded" : "remote", options.kernelCount(),
                options.embedded() ? Math.max(1, options.pagers()) : 1, options.threadsPerKernel(), options.futexes(), options.locality(), options.think().toNanos() / 1_000,
                options.seed(), options.cacheFutexes(), options.piggyback(), ops, round(seconds, 3), round(ops / seconds, 1), workload.violations(),
                workload.overtaken(),
                workload.acquires(AcquirePath.FAST_PATH) + workload.acquires(AcquirePath.LOCAL_HANDOFF),
                workload.acquires(AcquirePath.PAGER_GRANT), acquires,
                after.getFutexHandoffs() - before.getFutexHandoffs(), counter, workload.acknowledged(), xp, xpTotal,
                round((double) xpTotal / ops, 4), round((double) xpTotal / Math.max(1, workload.acquires(AcquirePath.PAGER_GRANT)), 2),
                new DemoReport.Latency(micros(h.getValueAtPercentile(50)), micros(h.getValueAtPercentile(99)),
                        micros(h.getMaxValue())), workload.errors(), workload.ownerDied(), workload.warmupOps(),
                round(workload.warmupNanos() / 1e9, 3), round(callsPerOp, 3));
    }

    private static void delta(Map<String, Long> into, Map<String, Long> before, Map<String, Long> after) {
        after.forEach((routine, count) -> {
            long d = count - before.getOrDefault(routine, 0L);
            if (d > 0) {
                into.merge(routine, d, Long::sum);
            }
        });
    }

    private static long micros(long nanos) {
        return TimeUnit.NANOSECONDS.toMicros(nanos);
    }

    private static double round(double value, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(value * scale) / scale;
    }
}
