package io.machxp.chaos;

import io.machxp.chaos.History.Kind;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.sim.SimCluster;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * One chaos run: a random workload on the real kernel and pager cores in the deterministic
 * simulator, with faults injected from the same seed, recorded as a {@link History}.
 *
 * <h2>Overview</h2>
 * Each worker thread (a task of its own) loops until the run's end: pick a futex, lock it with a
 * timeout, on EOWNERDEAD mark it consistent, read the counter next to the word, write it + 1,
 * unlock, think. Faults, one at a time at exponentially spread times: a kernel crashes or shuts
 * down cleanly (and a new kernel takes its place a lease later), a kernel is cut off from the pager for a while (shorter
 * or longer than the lease: a kernel whose lease runs out stops, and is replaced), a worker's task
 * dies (inside its critical section or not), the pager crashes and restarts on its store a while
 * later (kernels reconnect and reclaim what they hold in its grace period; what a kernel that did
 * not reclaim held is recorded as lost). Messages are delayed by a random jitter, which
 * reorders them across links but never within one stream. After the end the run drains until
 * every call is answered; then the {@link HistoryChecker} judges the history.
 *
 * <p>The same seed and options give the same history, event for event.
 */
public final class ChaosRun {
    /** The object every kernel maps. */
    static final String OBJECT = "chaos";
    private static final int PAGE = 4096;
    private static final int COUNTER = 8;
    private static final long DRAIN_LEASES = 40;

    /** What a run found. */
    public record Result(long seed, List<String> violations, History history, Map<String, Long> counts) {
        public boolean passed() {
            return violations.isEmpty();
        }
    }

    private final long seed;
    private final ChaosOptions options;
    private final SimCluster cluster;
    private final SplittableRandom random;
    private final History history = new History();
    private final Map<String, Long> counts = new java.util.TreeMap<>();
    private final Map<String, SimKernelState> kernels = new HashMap<>();
    private final List<Worker> workers = new ArrayList<>();
    private int generation;

    /** A kernel and whether it still runs. */
    private static final class SimKernelState {
        final String name;
        final KernelCore core;
        boolean stopped;
        /** It shut down cleanly: its threads ended under their futexes (robust: OWNER_DIED). */
        boolean shutDown;
        /** How it stopped: crash, shutdown, lease-lost, pager-lost. */
        String how = "";

        SimKernelState(String name, KernelCore core) {
            this.name = name;
            this.core = core;
        }
    }

    private final class Worker {
        final SimKernelState kernel;
        final long task;
        final int tid;
        final long base;
        final String name;
        final SplittableRandom rnd;
        int owns = -1;
        boolean dead;
        /** The address of the futex its last lock call was for. */
        long locking;

        Worker(SimKernelState kernel, long task, int tid, long base) {
            this.kernel = kernel;
            this.task = task;
            this.tid = tid;
            this.base = base;
            this.name = kernel.name + "/" + tid;
            this.rnd = random.split();
        }

        long word(int futex) {
            return base + (long) futex * PAGE;
        }
    }

    public ChaosRun(long seed, ChaosOptions options) {
        this.seed = seed;
        this.options = options;
        this.random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 1);
        this.cluster = new SimCluster(new SimCluster.Options(seed, options.latencyNanos(), options.jitterNanos(), PAGE,
                options.leaseNanos()), Map.of(OBJECT, (long) options.futexes() * PAGE), this::trace);
        cluster.onDeclaredDead((time, kernel, held) -> {
            for (var key : held) {
                history.add(time, Kind.HOLDER_DECLARED_DEAD, kernel, (int) (key.offset() / PAGE), 0, false, "");
            }
            count("kernels declared dead");
        });
    }

    /** Access for tests that plant bugs: what crosses the simulated links. */
    public SimCluster cluster() {
        return cluster;
    }

    private void trace(long time, String kernel, String event, int tid, String detail) {
        switch (event) {
            case "lease-lost", "pager-lost" -> kernelStopped(kernels.get(kernel), event, detail);
            case "pager-disconnected", "pager-reconnected" -> {
                history.add(time, Kind.KERNEL, kernel, -1, 0, false, event + " " + detail);
                if (event.equals("pager-reconnected")) {
                    count("kernels reclaimed");
                }
            }
            default -> { }
        }
    }

    private void count(String what) {
        counts.merge(what, 1L, Long::sum);
    }

    /** Runs the workload and the faults, drains, and checks the history. */
    public Result run() {
        for (int k = 0; k < options.kernels(); k++) {
            startKernel();
        }
        if (options.meanFaultGapNanos() > 0) {
            scheduleFault();
        }
        long end = options.durationNanos() + DRAIN_LEASES * options.leaseNanos();
        cluster.runUntil(end);
        return new Result(seed, HistoryChecker.check(history), history, counts);
    }

    // ---- kernels and workers ------------------------------------------------------------------

    private void startKernel() {
        String name = "k" + generation++;
        SimCluster.SimKernel sk = cluster.addKernel(name, CoreOptions.DEFAULT);
        SimKernelState k = new SimKernelState(name, sk.core);
        kernels.put(name, k);
        history.add(cluster.now(), Kind.KERNEL, name, -1, 0, false, "start");
        // Tasks once the session is open: well after the welcome can have arrived.
        cluster.at(cluster.now() + 4 * (options.latencyNanos() + options.jitterNanos()) + 1, () -> startWorkers(k));
    }

    private void startWorkers(SimKernelState k) {
        if (k.stopped) {
            return;
        }
        if (k.core.kernelId() == 0) { // no welcome yet: the pager may be in its grace period
            cluster.at(cluster.now() + options.leaseNanos() / 4, () -> startWorkers(k));
            return;
        }
        for (int i = 0; i < options.threadsPerKernel(); i++) {
            call(k, null, "task_create", r -> k.core.taskCreate("worker", r), (MachTask task) ->
                    call(k, null, "vm_map", r -> k.core.vmMap(task.id, OBJECT, r), (VmMapping m) ->
                            call(k, null, "thread_create", r -> k.core.threadCreate(task.id, r), (MachThread t) -> {
                                Worker w = new Worker(k, task.id, t.tid, m.start());
                                workers.add(w);
                                next(w);
                            })));
        }
    }

    private void kernelStopped(SimKernelState k, String how, String detail) {
        if (k == null || k.stopped) {
            return;
        }
        k.stopped = true;
        k.how = how;
        k.shutDown = how.equals("shutdown");
        history.add(cluster.now(), Kind.KERNEL, k.name, -1, 0, false, how + " " + detail);
        count(switch (how) {
            case "crash" -> "kernel crashes";
            case "shutdown" -> "kernel shutdowns";
            case "pager-lost" -> "kernels ended by the pager";
            default -> "leases lost";
        });
        for (Worker w : workers) {
            if (w.kernel == k && w.owns >= 0) {
                // A clean shutdown ends its threads under them: the word keeps the owner's TID, and
                // the next owner is told (a crash or a lost lease is told by the pager instead).
                history.add(cluster.now(), Kind.OWNER_GONE, w.name, w.owns, 0, how.equals("shutdown"), how);
                w.owns = -1;
            }
        }
        if (cluster.now() < options.durationNanos()) {
            cluster.at(cluster.now() + options.leaseNanos(), this::startKernel); // a new kernel takes its place
        }
    }

    /** The worker's next operation, or nothing once the run's time is up. */
    private void next(Worker w) {
        if (w.dead || w.kernel.stopped || cluster.now() >= options.durationNanos()) {
            return;
        }
        int f = w.rnd.nextInt(options.futexes());
        w.locking = w.word(f);
        long timeout = options.leaseNanos() * (1 + w.rnd.nextInt(4));
        call(w.kernel, w, "lock f" + f, r -> w.kernel.core.vmLockFutex(w.task, w.tid, w.word(f), timeout, r), (Acquired a) -> {
            history.add(cluster.now(), Kind.ACQUIRE, w.name, f, a.fencingToken(), a.ownerDied(), a.path().name());
            count("acquisitions");
            w.owns = f;
            if (a.ownerDied()) {
                count("EOWNERDEAD");
                call(w.kernel, w, "consistent f" + f, r -> w.kernel.core.vmFutexConsistent(w.task, w.tid, w.word(f), r),
                        (Void v) -> critical(w, f));
            } else {
                critical(w, f);
            }
        }, error -> think(w));
    }

    private void critical(Worker w, int f) {
        call(w.kernel, w, "read f" + f, r -> w.kernel.core.vmRead(w.task, w.word(f) + COUNTER, 8, r), (byte[] bytes) -> {
            long value = ByteBuffer.wrap(bytes).getLong();
            history.add(cluster.now(), Kind.READ, w.name, f, value, false, "");
            byte[] next = ByteBuffer.allocate(8).putLong(value + 1).array();
            call(w.kernel, w, "write f" + f, r -> w.kernel.core.vmWrite(w.task, w.word(f) + COUNTER, next, r), (Void v) -> {
                history.add(cluster.now(), Kind.WRITE, w.name, f, value + 1, false, "");
                long hold = w.rnd.nextLong(options.leaseNanos() / 4 + 1);
                call(w.kernel, w, "sleep", r -> w.kernel.core.threadSleep(w.task, w.tid, hold, r), (Void s) -> {
                    history.add(cluster.now(), Kind.RELEASE, w.name, f, 0, false, "");
                    w.owns = -1;
                    call(w.kernel, w, "unlock f" + f, r -> w.kernel.core.vmUnlockFutex(w.task, w.tid, w.word(f), r),
                            (Void u) -> think(w), error -> think(w));
                }, error -> { });
            }, error -> { });
        }, error -> { });
    }

    private void think(Worker w) {
        cluster.at(cluster.now() + w.rnd.nextLong(options.leaseNanos() / 4 + 1), () -> next(w));
    }

    /**
     * Makes a call into a kernel core and records it; its answer arrives as an event of its own
     * (never inside the call). On failure {@code failed} runs, after the worker is checked: a
     * worker whose task died or whose kernel stopped does nothing more.
     */
    private <T> void call(SimKernelState k, Worker w, String what, Consumer<Reply<T>> invoke, Consumer<T> ok,
            Consumer<KernelError> failed) {
        if (k.stopped || (w != null && w.dead)) {
            return;
        }
        if (w != null) {
            history.add(cluster.now(), Kind.CALL, w.name, -1, 0, false, what);
        }
        invoke.accept(new Reply<>() {
            @Override
            public void complete(T value) {
                cluster.at(cluster.now(), () -> answered(k, w, "OK", () -> ok.accept(value), value));
            }

            @Override
            public void fail(KernelError error) {
                cluster.at(cluster.now(), () -> answered(k, w, error.errno().name(), () -> failed.accept(error), null));
            }
        });
    }

    /**
     * An answer arrives. A worker whose task died or whose kernel stopped since the kernel
     * answered goes no further; if the answer gave it a futex, it owned it until then.
     */
    private void answered(SimKernelState k, Worker w, String errno, Runnable then, Object value) {
        if (w == null) {
            if (!k.stopped) {
                then.run();
            }
            return;
        }
        history.add(cluster.now(), Kind.ANSWER, w.name, -1, 0, false, errno);
        if (!errno.equals("OK")) {
            count(errno);
        }
        if (!w.dead && !w.kernel.stopped) {
            then.run();
            return;
        }
        if (value instanceof Acquired a) {
            int f = (int) ((w.locking - w.base) / PAGE);
            history.add(cluster.now(), Kind.ACQUIRE, w.name, f, a.fencingToken(), a.ownerDied(), a.path().name());
            boolean died = w.dead || w.kernel.shutDown;
            history.add(cluster.now(), Kind.OWNER_GONE, w.name, f, 0, died, w.dead ? "task died" : "kernel stopped");
        }
    }

    private <T> void call(SimKernelState k, Worker w, String what, Consumer<Reply<T>> invoke, Consumer<T> ok) {
        call(k, w, what, invoke, ok, error -> { });
    }

    // ---- faults -------------------------------------------------------------------------------

    /**
     * The pager crashes, perhaps again in a grace period, and restarts after a while shorter than
     * what is left of most leases. What the old pager had given each kernel (futexes, writable
     * pages) and the deaths it had not told yet are noted, and kept over a crash in grace. When the
     * last grace period ends, what a kernel that did not reclaim held is lost - if that kernel had
     * stopped (crashed, shut down, lost its lease). One that did not reclaim although it still ran is
     * a violation: it could still be using what it held.
     */
    private void crashPager() {
        if (!cluster.pagerUp()) {
            return;
        }
        for (int f = 0; f < options.futexes(); f++) {
            long offset = (long) f * PAGE;
            for (String k : new String[] {cluster.pager().holderOf(OBJECT, offset), cluster.pager().pageWriter(OBJECT, offset)}) {
                if (k != null) {
                    atRisk.computeIfAbsent(f, i -> new java.util.TreeSet<>()).add(k);
                }
            }
            if (cluster.pager().ownerDiedPending(OBJECT, offset)) {
                deathsUntold.put(f, java.util.Optional.ofNullable(cluster.pager().holderOf(OBJECT, offset)));
            }
        }
        long down = options.leaseNanos() / 50 + random.nextLong(options.leaseNanos() / 4);
        history.add(cluster.now(), Kind.PAGER, "pager", -1, 0, false, String.format("crash, down %.1f ms", down / 1e6));
        count("pager restarts");
        cluster.crashPager(down);
        long crash = ++pagerCrashes;
        // The grace period ends then; this runs before the pager's own timer, scheduled later.
        cluster.at(cluster.now() + down + options.leaseNanos(), () -> {
            if (crash == pagerCrashes) {
                graceEnded();
            }
        });
    }

    /** Holders (of futexes or writable pages) the crashed pagers knew, per futex, until a grace period ends. */
    private final Map<Integer, java.util.Set<String>> atRisk = new java.util.TreeMap<>();
    /** Deaths the crashed pagers had still to tell, per futex, with the kernel the grant went to. */
    private final Map<Integer, java.util.Optional<String>> deathsUntold = new java.util.TreeMap<>();
    private long pagerCrashes;

    /**
     * The pager's kernels are the ones that reclaimed. A kernel that did gave back its futexes and
     * data, even returns lost in the crash; so a futex is lost only with a kernel that did not, or
     * with a death whose grantee did not reclaim it (it was never told).
     */
    private void graceEnded() {
        List<String> reclaimed = cluster.pager().kernels();
        for (int f = 0; f < options.futexes(); f++) {
            boolean lost = false;
            for (String k : atRisk.getOrDefault(f, java.util.Set.of())) {
                if (reclaimed.contains(k)) {
                    continue;
                }
                SimKernelState state = kernels.get(k);
                if (state == null || !state.stopped || state.how.equals("pager-lost")) {
                    history.add(cluster.now(), Kind.UNRECLAIMED, k, f, 0, false,
                            state == null ? "unknown kernel" : state.stopped ? "ended by the pager" : "still running");
                }
                lost = true;
            }
            var untold = deathsUntold.get(f);
            if (untold != null && (untold.isEmpty()
                    || !untold.get().equals(cluster.pager().holderOf(OBJECT, (long) f * PAGE)))) {
                lost = true;
            }
            if (lost) {
                history.add(cluster.now(), Kind.LOST_IN_RESTART, "pager", f, 0, false, "");
                count("futexes lost in a pager restart");
            }
        }
        atRisk.clear();
        deathsUntold.clear();
    }

    private void scheduleFault() {
        long gap = (long) (-Math.log(1 - random.nextDouble()) * options.meanFaultGapNanos());
        long at = cluster.now() + Math.max(1, gap);
        if (at < options.durationNanos()) {
            cluster.at(at, () -> {
                injectFault();
                scheduleFault();
            });
        }
    }

    private void injectFault() {
        List<SimKernelState> live = kernels.values().stream().filter(k -> !k.stopped)
                .sorted(java.util.Comparator.comparing(k -> k.name)).toList();
        if (live.isEmpty()) {
            return;
        }
        SimKernelState k = live.get(random.nextInt(live.size()));
        int kind = random.nextInt(20);
        if (kind >= 18) {
            crashPager();
        } else if (kind < 4) {
            cluster.crash(k.name);
            kernelStopped(k, "crash", "");
        } else if (kind < 6) {
            kernelStopped(k, "shutdown", "");
            cluster.shutdown(k.name);
        } else if (kind < 12) {
            long nanos = options.leaseNanos() / 4 + random.nextLong(3 * options.leaseNanos());
            cluster.partition(k.name, nanos);
            history.add(cluster.now(), Kind.KERNEL, k.name, -1, 0, false,
                    String.format("partition %.1f ms", nanos / 1e6));
            count("partitions");
        } else {
            List<Worker> candidates = workers.stream().filter(w -> w.kernel == k && !w.dead).toList();
            if (candidates.isEmpty()) {
                return;
            }
            Worker w = candidates.get(random.nextInt(candidates.size()));
            w.dead = true;
            if (w.owns >= 0) {
                history.add(cluster.now(), Kind.OWNER_GONE, w.name, w.owns, 0, true, "task died");
                w.owns = -1;
            }
            count("task deaths");
            k.core.taskTerminate(w.task, "chaos: the task died", Reply.ignore());
        }
    }
}
