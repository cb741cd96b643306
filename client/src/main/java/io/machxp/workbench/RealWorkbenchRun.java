package io.machxp.workbench;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.transport.Transport;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.variant.Variant;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The workbench's run in real time (compare --mode real): the same workload, variant and shape
 * as {@link WorkbenchRun}, on an embedded pager and kernels over gRPC on loopback in this JVM, to
 * check the simulator's numbers against real ones. Each worker is a thread with its own task on
 * its kernel (reaching it through shared memory as a local task does, as the demo's workers do):
 * it picks a futex, locks it, writes its data page, spins for the critical section, unlocks and
 * parks for the think time. The first tenth of the run warms up; the duration is wall time,
 * extended until as many ops as workers were measured (or a worker failed: each call has a
 * deadline), so that a loaded machine still gives every cell a figure; before, the extension
 * ended after 30 s, so whether a cell had any op was a matter of time. XP
 * messages and bytes are counted at the pager (keepalives not counted), as the simulator counts
 * them on the links. The network model does not apply: loopback is what it is.
 */
public final class RealWorkbenchRun {
    private static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

    private final Workload workload;
    private final WorkbenchRun.Setup setup;
    private final AtomicBoolean measuring = new AtomicBoolean();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final LongAdder messages = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder ops = new LongAdder();
    private final LongAdder handoffs = new LongAdder();
    private final LongAdder handoffWaitNanos = new LongAdder();
    private final AtomicLongArray acquisitions;
    private final Histogram latency = new Histogram(3);
    private final List<Histogram> waits = new ArrayList<>();

    private RealWorkbenchRun(Workload workload, WorkbenchRun.Setup setup) {
        this.workload = workload;
        this.setup = setup;
        this.acquisitions = new AtomicLongArray(setup.kernels());
        for (int k = 0; k < setup.kernels(); k++) {
            waits.add(new Histogram(3));
        }
    }

    /** Runs {@code workload} on {@code variant} in real time; the result names the network "loopback". */
    public static WorkbenchResult run(Variant variant, Workload workload, double param, WorkbenchRun.Setup setup,
            long seed) throws IOException, InterruptedException {
        Map<String, CoreOptions> kernels = new LinkedHashMap<>();
        for (int k = 0; k < setup.kernels(); k++) {
            kernels.put("k" + k, variant.apply(CoreOptions.DEFAULT));
        }
        Map<String, Long> objects = Map.of(WorkbenchRun.OBJECT, (long) setup.futexes() * 2 * WorkbenchRun.PAGE);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(kernels, objects, PagerDirectory.SINGLE, variant.pager())) {
            RealWorkbenchRun r = new RealWorkbenchRun(workload, setup);
            return r.run(cluster, variant.name(), param, seed);
        }
    }

    private WorkbenchResult run(EmbeddedCluster cluster, String variant, double param, long seed)
            throws InterruptedException {
        PagerStats stats = cluster.pager().stats();
        stats.listen(new PagerStats.XpListener() {
            @Override
            public void received(String kernel, KernelToPager message) {
                count(message.getSerializedSize());
            }

            @Override
            public void sent(String kernel, PagerToKernel message) {
                count(message.getSerializedSize());
            }
        });
        SplittableRandom seeds = new SplittableRandom(seed ^ 0x5DEECE66DL);
        List<KernelClient> clients = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch ready = new CountDownLatch(setup.kernels() * setup.threads());
        List<RuntimeException> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        long begin;
        long end;
        try {
            for (int k = 0; k < setup.kernels(); k++) {
                KernelClient client = KernelClient.connect(cluster.kernelTargets().get(k), Transport.LOOPBACK_PLAINTEXT,
                        CALL_DEADLINE, KernelClient.Memory.SHARED_WHEN_LOCAL);
                clients.add(client);
                for (int t = 0; t < setup.threads(); t++) {
                    int kernel = k;
                    int priority = workload.priority(t);
                    SplittableRandom random = seeds.split();
                    Thread thread = new Thread(() -> {
                        try {
                            work(client, kernel, priority, random, ready);
                        } catch (RuntimeException e) {
                            failures.add(e);
                            ready.countDown();
                        }
                    }, "workbench-k" + k + "-w" + t);
                    thread.start();
                    threads.add(thread);
                }
            }
            ready.await();
            LockSupport.parkNanos(setup.durationNanos() / 10);
            measuring.set(true);
            begin = System.nanoTime();
            LockSupport.parkNanos(setup.durationNanos());
            // a loaded machine may not finish an op inside a short window: measure on until as many
            // ops as workers finished, or a worker failed or ended (every call has its deadline, so a
            // run that cannot progress fails: no clock of its own decides whether a cell has a figure)
            while (ops.sum() < threads.size() && failures.isEmpty() && threads.stream().allMatch(Thread::isAlive)) {
                LockSupport.parkNanos(1_000_000);
            }
            measuring.set(false);
            end = System.nanoTime();
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
        } finally {
            stop.set(true);
            stats.listen(null);
            clients.forEach(KernelClient::close);
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a real workbench call failed: " + failures.get(0).getMessage(),
                    failures.get(0));
        }
        return result(variant, param, seed, end - begin);
    }

    private void count(int size) {
        if (measuring.get()) {
            messages.increment();
            bytes.add(size);
        }
    }

    /** One closed-loop worker, until the run stops. */
    private void work(KernelClient client, int kernel, int priority, SplittableRandom random, CountDownLatch ready) {
        TaskClient task = client.taskCreate("workbench-" + kernel);
        try {
            long base = task.vmMap(WorkbenchRun.OBJECT);
            ThreadClient thread = task.threadCreate(priority);
            ready.countDown();
            while (!stop.get()) {
                int f;
                synchronized (workload) {
                    f = workload.next(kernel, random);
                }
                long word = base + 2L * f * WorkbenchRun.PAGE;
                long asked = System.nanoTime();
                thread.lockFutex(word, CALL_DEADLINE);
                long acquired = System.nanoTime();
                boolean handoff;
                synchronized (workload) {
                    handoff = workload.lastKernel(f) >= 0 && workload.lastKernel(f) != kernel;
                    workload.acquired(f, kernel, acquired);
                }
                boolean measured = measuring.get();
                if (measured) {
                    acquisitions.incrementAndGet(kernel);
                    synchronized (waits.get(kernel)) {
                        waits.get(kernel).recordValue(Math.max(1, acquired - asked));
                    }
                    if (handoff) {
                        handoffs.increment();
                        handoffWaitNanos.add(acquired - asked);
                    }
                }
                task.writeLong(word + WorkbenchRun.PAGE, 1);
                spin(setup.criticalNanos());
                thread.unlockFutex(word);
                if (measured) {
                    ops.increment();
                    synchronized (latency) {
                        latency.recordValue(Math.max(1, System.nanoTime() - asked));
                    }
                }
                LockSupport.parkNanos(setup.thinkNanos());
            }
        } finally {
            task.terminate();
        }
    }

    /** The critical section: the worker keeps its CPU, as a simulated one holds the futex. */
    private static void spin(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    private WorkbenchResult result(String variant, double param, long seed, long nanos) {
        double seconds = nanos / 1e9;
        long[] perKernel = new long[acquisitions.length()];
        for (int k = 0; k < perKernel.length; k++) {
            perKernel[k] = acquisitions.get(k);
        }
        Fairness fair = Fairness.of(perKernel, waits);
        long n = Math.max(1, ops.sum());
        long h = handoffs.sum();
        return new WorkbenchResult(variant, workload.name(), param, "loopback", seed, ops.sum(), ops.sum() / seconds,
                latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3,
                latency.getValueAtPercentile(99.9) / 1e3, (double) messages.sum() / n, (double) bytes.sum() / n, h,
                h == 0 ? 0 : handoffWaitNanos.sum() / 1e3 / h, fair.maxWaitMicros(), fair.worstP99WaitMicros(),
                fair.jain());
    }
}
