package io.machxp.workbench;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.sim.SimCluster;
import io.machxp.variant.Variant;
import io.machxp.trace.XpTrace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;

/**
 * Runs one workload on one protocol variant in the simulator, in virtual time, deterministically
 * by seed: {@code kernels} kernels of {@code threads} closed-loop workers each. A worker picks a
 * futex (the {@link Workload}), locks it, writes the futex's data page (the page after its own),
 * holds it for {@code criticalNanos}, unlocks, and thinks for {@code thinkNanos}. Futex i has its
 * word on page 2i and its data on page 2i + 1 of one shared object. On several pagers
 * ({@link #onPagers}) the futexes are spread over one object per pager: futex i is futex i / P
 * of object {@code workbench-(i mod P)}, which pager i mod P serves.
 */
public final class WorkbenchRun {
    static final int PAGE = 4096;
    static final String OBJECT = "workbench";

    /** The shape of a run; every duration virtual. */
    public record Setup(int kernels, int threads, int futexes, long durationNanos, long criticalNanos,
            long thinkNanos) {
        public static final Setup DEFAULT = new Setup(3, 2, 6, 200_000_000L, 10_000, 50_000);
    }

    private final SimCluster cluster;
    private final Workload workload;
    private final Setup setup;
    private final SplittableRandom random;
    private final int pagers;
    /** Each pager's CPU spent when the measurement began. */
    private final long[] pagerCpuAtMeasure;
    private final Histogram latency = new Histogram(3);
    private final List<Histogram> waits = new ArrayList<>();
    private final long[] acquisitions;
    private long messages;
    private long bytes;
    private long handoffs;
    private long handoffWait;
    private long ops;
    private long measureFrom;
    private boolean measuring;
    /** Where the run is recorded (compare --trace), or null. */
    private final XpTrace trace;
    /** Scenario-style thread names by TID, for the trace's marks. */
    private final Map<Integer, String> threadNames = new HashMap<>();

    private WorkbenchRun(Variant variant, Workload workload, NetworkModel network, Setup setup, long seed,
            XpTrace trace, int pagers) {
        this.pagers = pagers;
        this.pagerCpuAtMeasure = new long[pagers];
        this.workload = workload;
        this.setup = setup;
        this.trace = trace;
        this.random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        this.acquisitions = new long[setup.kernels()];
        Map<String, Long> objects = new java.util.LinkedHashMap<>();
        Map<String, Integer> assigned = new java.util.LinkedHashMap<>();
        long perObject = (long) ((setup.futexes() + pagers - 1) / pagers) * 2 * PAGE;
        for (int p = 0; p < pagers; p++) {
            objects.put(object(p), perObject);
            assigned.put(object(p), p);
        }
        cluster = new SimCluster(new SimCluster.Options(seed, 0, 0, PAGE), objects,
                io.machxp.kernel.core.PagerDirectory.of(pagers, pagers == 1 ? Map.of() : assigned),
                (time, kernel, event, tid, detail) -> {
                    if (trace != null) {
                        trace.mark(time, kernel, threadNames.getOrDefault(tid, "-"), event, detail);
                    }
                });
        cluster.network(network);
        variant.apply(cluster);
        cluster.observe((sent, arrives, from, to, m) -> {
            if (measuring) {
                messages++;
                bytes += m.getSerializedSize();
            }
            if (trace != null) {
                trace.message(sent, arrives, from, to, m);
            }
        });
        for (int k = 0; k < setup.kernels(); k++) {
            cluster.addKernel("k" + k, variant.apply(CoreOptions.DEFAULT));
            waits.add(new Histogram(3));
        }
        while (cluster.step()) {
            // hello, welcome
        }
    }

    /** The object pager {@code p} serves: the one shared object when there is one pager. */
    private String object(int p) {
        return pagers == 1 ? OBJECT : OBJECT + "-" + p;
    }

    /** Runs the workload and measures it (after a warm-up of a tenth of the duration). */
    public static WorkbenchResult run(Variant variant, Workload workload, double param, NetworkModel network,
            Setup setup, long seed) {
        return run(variant, workload, param, network, setup, seed, null);
    }

    /**
     * As {@link #run(Variant, Workload, double, NetworkModel, Setup, long)}, recording into
     * {@code trace} (if not null) every XP message, each worker's lock, acquired and unlocked, and
     * the kernels' events (dispatch, boosts), in virtual time; time 0 is the end of setup.
     */
    public static WorkbenchResult run(Variant variant, Workload workload, double param, NetworkModel network,
            Setup setup, long seed, XpTrace trace) {
        return new WorkbenchRun(variant, workload, network, setup, seed, trace, 1).measure(variant, param, network,
                seed).result();
    }

    /**
     * A run on {@code pagers} pagers, the futexes spread over them, with each pager's CPU share
     * while measured (the network's CPU cost of the messages it received, over the time).
     */
    public record OnPagers(int pagers, WorkbenchResult result, List<Double> pagerCpu) {
        /** The busiest pager's CPU share. */
        public double busiestPagerCpu() {
            return pagerCpu.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }
    }

    /** As {@link #run(Variant, Workload, double, NetworkModel, Setup, long)} on {@code pagers} pagers. */
    public static OnPagers onPagers(Variant variant, Workload workload, double param, NetworkModel network,
            Setup setup, long seed, int pagers) {
        return new WorkbenchRun(variant, workload, network, setup, seed, null, pagers).measure(variant, param, network,
                seed);
    }

    /** Starts the workers, warms up for a tenth of the duration, then measures for the duration. */
    private OnPagers measure(Variant variant, double param, NetworkModel network, long seed) {
        long warmup = setup.durationNanos() / 10;
        start();
        long begin = cluster.now();
        if (trace != null) {
            trace.origin(begin);
            trace.title(String.format(Locale.ROOT, "machxp compare: %s, %s %s, network %s (sim, seed %d)", variant.name(),
                    workload.name(), param, network.name(), seed));
        }
        cluster.at(begin + warmup, () -> {
            measuring = true;
            measureFrom = cluster.now();
            for (int p = 0; p < pagers; p++) {
                pagerCpuAtMeasure[p] = cluster.pagerCpuNanos(p);
            }
        });
        cluster.runUntil(begin + warmup + setup.durationNanos());
        List<Double> cpu = new ArrayList<>();
        for (int p = 0; p < pagers; p++) {
            cpu.add((cluster.pagerCpuNanos(p) - pagerCpuAtMeasure[p]) / (double) Math.max(1, cluster.now() - measureFrom));
        }
        return new OnPagers(pagers, result(variant.name(), workload.name(), param, network.name(), seed), cpu);
    }

    private void start() {
        for (int k = 0; k < setup.kernels(); k++) {
            KernelCore core = cluster.kernel("k" + k).core;
            for (int t = 0; t < setup.threads(); t++) {
                String taskName = "w" + t;
                MachTask task = await(r -> core.taskCreate(taskName, r));
                long[] bases = new long[pagers];
                for (int p = 0; p < pagers; p++) {
                    String object = object(p);
                    VmMapping m = await(r -> core.vmMap(task.id, object, r));
                    bases[p] = m.start();
                }
                int priority = workload.priority(t);
                MachThread thread = await(r -> core.threadCreate(task.id, priority, r));
                threadNames.put(thread.tid, taskName);
                Worker w = new Worker(k, core, task.id, thread.tid, bases);
                cluster.at(cluster.now() + random.nextLong(setup.thinkNanos() + 1), w::next);
            }
        }
    }

    /** One closed-loop worker. */
    private final class Worker {
        final int kernel;
        final KernelCore core;
        final long task;
        final int tid;
        /** Where each pager's object is mapped. */
        final long[] bases;

        Worker(int kernel, KernelCore core, long task, int tid, long[] bases) {
            this.kernel = kernel;
            this.core = core;
            this.task = task;
            this.tid = tid;
            this.bases = bases;
        }

        void next() {
            int f = workload.next(kernel, random);
            long word = bases[f % pagers] + 2L * (f / pagers) * PAGE;
            long asked = cluster.now();
            mark("lock", f, "");
            core.vmLockFutex(task, tid, word, -1, reply(acquired -> {
                mark("acquired", f, " " + acquired.path());
                long waited = cluster.now() - asked;
                boolean handoff = workload.lastKernel(f) >= 0 && workload.lastKernel(f) != kernel;
                workload.acquired(f, kernel, cluster.now());
                if (measuring) {
                    acquisitions[kernel]++;
                    waits.get(kernel).recordValue(Math.max(1, waited));
                    if (handoff) {
                        handoffs++;
                        handoffWait += waited;
                    }
                }
                core.vmWrite(task, word + PAGE, new byte[] {1, 0, 0, 0}, reply(v -> cluster.at(
                        cluster.now() + setup.criticalNanos(), () -> core.vmUnlockFutex(task, tid, word,
                                reply(u -> {
                                    mark("unlocked", f, "");
                                    done(asked);
                                })))));
            }));
        }

        /** A mark of this worker on futex f in the trace, as a scenario thread's events are. */
        private void mark(String event, int f, String more) {
            if (trace != null) {
                trace.mark(cluster.now(), "k" + kernel, threadNames.get(tid), event, "f" + f + more);
            }
        }

        void done(long asked) {
            if (measuring) {
                ops++;
                latency.recordValue(Math.max(1, cluster.now() - asked));
            }
            cluster.at(cluster.now() + setup.thinkNanos(), this::next);
        }
    }

    private <T> Reply<T> reply(Consumer<T> then) {
        return new Reply<>() {
            @Override
            public void complete(T value) {
                cluster.at(cluster.now(), () -> then.accept(value));
            }

            @Override
            public void fail(KernelError error) {
                throw new IllegalStateException("a workbench call failed: " + error.errno() + ": " + error.message());
            }
        };
    }

    private <T> T await(Consumer<Reply<T>> call) {
        Object[] box = new Object[1];
        call.accept(new Reply<T>() {
            @Override
            public void complete(T value) {
                box[0] = value;
            }

            @Override
            public void fail(KernelError error) {
                throw new IllegalStateException("workbench setup failed: " + error.errno() + ": " + error.message());
            }
        });
        while (box[0] == null && cluster.step()) {
            // until the answer
        }
        @SuppressWarnings("unchecked")
        T value = (T) box[0];
        return value;
    }

    private WorkbenchResult result(String variant, String workloadName, double param, String network, long seed) {
        double seconds = (cluster.now() - measureFrom) / 1e9;
        Fairness fair = Fairness.of(acquisitions, waits);
        long n = Math.max(1, ops);
        return new WorkbenchResult(variant, workloadName, param, network, seed, ops, ops / seconds,
                latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3,
                latency.getValueAtPercentile(99.9) / 1e3, (double) messages / n, (double) bytes / n, handoffs,
                handoffs == 0 ? 0 : handoffWait / 1e3 / handoffs, fair.maxWaitMicros(), fair.worstP99WaitMicros(),
                fair.jain());
    }
}
