package io.machxp.demo;

import io.machxp.client.KernelClient;
import io.machxp.client.PagerAdminClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.cluster.EmbeddedCluster;
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
        if (!options.embedded()) {
            return run(options, options.kernelTargets(), options.pagerTarget(), options.object(), transport);
        }
        long size = (long) options.futexes() * PagerConfig.DEFAULT_PAGE_SIZE;
        try (EmbeddedCluster cluster = EmbeddedCluster.start(options.kernels(), options.cacheFutexes(),
                options.piggyback(), Map.of(EMBEDDED_OBJECT, size))) {
            return run(options, cluster.kernelTargets(), cluster.pager().target(), EMBEDDED_OBJECT,
                    Transport.LOOPBACK_PLAINTEXT);
        }
    }

    private static DemoReport run(DemoOptions options, List<String> kernelTargets, String pagerTarget, String object,
            Transport transport) throws InterruptedException {
        List<KernelClient> clients = new ArrayList<>();
        try (PagerAdminClient pager = PagerAdminClient.connect(pagerTarget, transport)) {
            List<List<ThreadClient>> workers = new ArrayList<>();
            List<TaskClient> tasks = new ArrayList<>();
            long[] bases = new long[kernelTargets.size()];
            long pageSize = PagerConfig.DEFAULT_PAGE_SIZE;
            for (int k = 0; k < kernelTargets.size(); k++) {
                KernelClient client = KernelClient.connect(kernelTargets.get(k), transport);
                clients.add(client);
                TaskClient task = client.taskCreate("demo");
                VmMapReply map = task.map(object);
                if (map.getSize() < options.futexes() * pageSize) {
                    throw new IllegalArgumentException("memory object '" + object + "' has " + map.getSize()
                            + " bytes; " + options.futexes() + " futexes need " + options.futexes() * pageSize
                            + " (one page each)");
                }
                bases[k] = map.getAddress();
                tasks.add(task);
                List<ThreadClient> threads = new ArrayList<>();
                for (int t = 0; t < options.threadsPerKernel(); t++) {
                    threads.add(task.threadCreate());
                }
                workers.add(threads);
            }
            long counterBefore = DemoWorkload.counterSum(tasks.get(0), bases[0], pageSize, options.futexes());
            PagerStatisticsReply before = pager.statistics();
            DemoWorkload workload = new DemoWorkload(options);
            long elapsedNanos = workload.run(tasks, workers, bases, pageSize);
            PagerStatisticsReply after = pager.statistics();
            long counter = DemoWorkload.counterSum(tasks.get(0), bases[0], pageSize, options.futexes()) - counterBefore;
            return report(options, workload, elapsedNanos, before, after, counter);
        } finally {
            clients.forEach(KernelClient::close);
        }
    }

    private static DemoReport report(DemoOptions options, DemoWorkload workload, long elapsedNanos,
            PagerStatisticsReply before, PagerStatisticsReply after, long counter) {
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
                options.threadsPerKernel(), options.futexes(), options.locality(), options.seed(),
                options.cacheFutexes(), options.piggyback(), ops, round(seconds, 3), round(ops / seconds, 1), workload.violations(),
                workload.acquires(AcquirePath.FAST_PATH) + workload.acquires(AcquirePath.LOCAL_HANDOFF),
                workload.acquires(AcquirePath.PAGER_GRANT), acquires,
                after.getFutexHandoffs() - before.getFutexHandoffs(), counter, ops, xp, xpTotal,
                round((double) xpTotal / ops, 4), round((double) xpTotal / Math.max(1, workload.acquires(AcquirePath.PAGER_GRANT)), 2),
                new DemoReport.Latency(micros(h.getValueAtPercentile(50)), micros(h.getValueAtPercentile(99)),
                        micros(h.getMaxValue())));
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
