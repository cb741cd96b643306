package io.machxp.chaos;

import io.machxp.chaos.History.Kind;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.sim.SimCluster;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * One chaos run: a random workload on the real kernel and pager cores in the deterministic
 * simulator, with faults injected from the same seed ({@link ChaosFaults}), recorded as a
 * {@link History}.
 *
 * <h2>Overview</h2>
 * Each worker thread (a task of its own, with a base priority of its own) loops: pick a futex,
 * lock it (with a timeout of 1 to 4 leases, or in one lock of four with none), on EOWNERDEAD mark
 * it consistent, read the counter next to the word, write it + 1, hold it a while (up to L/4, or
 * in one hold of six from L/2 to L, long enough for waiters to gather and boosts to settle),
 * unlock, think.
 * Before it unlocks, if the futex's owner is settled ({@link PiWatch}), the harness reads the
 * owner's effective priority from its kernel and records it next to what it expects.
 *
 * <p>Phases: faults for the run's duration; then, once the last fault's effects are over, the
 * quiet period ({@link #quietNanos}): every live worker makes one more lock with no timeout, then
 * stops, and the checker requires every call to be answered within the quiet period. Every
 * answer is recorded when the kernel gives it; what the worker does with it runs as an event of
 * its own. The same seed and options give the same history, event for event.
 *
 * <p>The workload mix ({@link ChaosOptions#mix}): the standard one above, or the contended one,
 * which adds trylocks, racy reads and writes, owner deaths and computes ({@link ContendedWorkload}).
 *
 * <p>With several pagers ({@link #ChaosRun(long, ChaosOptions, int)}) futex f lives in object
 * {@code chaos-(f mod pagers)}, which pager f mod pagers serves; every worker maps them all, and
 * each pager crashes on its own ({@link ChaosFaults}). The history says which pager serves which
 * futex, so the checker knows what a pager's crash may lose.
 */
public final class ChaosRun {
    /** The object every kernel maps (with one pager). */
    static final String OBJECT = "chaos";
    static final int PAGE = 4096;
    private static final int COUNTER = 8;
    private static final int[] PRIORITIES = {1, 20, 40, 60};

    /** What a run found. */
    public record Result(long seed, List<String> violations, List<String> stuck, History history,
            Map<String, Long> counts) {
        public boolean passed() {
            return violations.isEmpty() && stuck.isEmpty();
        }
    }

    final long seed;
    final ChaosOptions options;
    final FaultBounds bounds;
    final SimCluster cluster;
    final SplittableRandom random;
    final History history = new History();
    final Map<String, Long> counts = new java.util.TreeMap<>();
    final Map<String, SimKernelState> kernels = new LinkedHashMap<>();
    final List<Worker> workers = new ArrayList<>();
    final PiWatch pi;
    /** How many pagers: futex f is in object f mod pagers, served by that pager. */
    final int pagers;
    private final ChaosFaults faults;
    /** What the workers do where the mixes differ ({@link ChaosOptions#mix}). */
    private final Workload workload;
    private CoreOptions coreOptions = CoreOptions.DEFAULT;
    private int generation;
    private boolean quiet;

    public ChaosRun(long seed, ChaosOptions options) {
        this(seed, options, 1);
    }

    /** A run with {@code pagers} pagers (1 to 16), each crashing on its own. */
    public ChaosRun(long seed, ChaosOptions options, int pagers) {
        this(seed, options, pagers, 0);
    }

    /**
     * A run with one pager replicated on {@code replicas} (3 or 5) replicas, or, with 0,
     * {@code pagers} unreplicated pagers; the replicas' faults are {@link ReplicaFaults}.
     */
    public ChaosRun(long seed, ChaosOptions options, int pagers, int replicas) {
        if (pagers < 1 || pagers > 16) {
            throw new IllegalArgumentException("chaos runs with 1 to 16 pagers, not " + pagers);
        }
        this.seed = seed;
        this.options = options;
        this.pagers = pagers;
        this.bounds = FaultBounds.of(options);
        // A stream of its own per seed: split() gives it a gamma drawn from the seed as well as a
        // start, so the runs of neighbouring seeds share no stretch of values (seed * gamma + 1,
        // with SplittableRandom's own gamma, made seed k+1's stream seed k's shifted by one draw).
        this.random = new SplittableRandom(seed).split();
        SimCluster.Options simOptions = new SimCluster.Options(seed, options.latencyNanos(), options.jitterNanos(),
                PAGE, options.leaseNanos());
        long size = (long) options.futexes() * PAGE;
        if (replicas > 0 && pagers != 1) {
            throw new IllegalArgumentException("chaos runs one replicated pager, not " + pagers);
        }
        if (replicas > 0) {
            this.cluster = new SimCluster(simOptions, Map.of(OBJECT, size), replicas, this::trace);
        } else if (pagers == 1) {
            this.cluster = new SimCluster(simOptions, Map.of(OBJECT, size), this::trace);
        } else {
            Map<String, Long> objects = new LinkedHashMap<>();
            Map<String, Integer> assigned = new LinkedHashMap<>();
            for (int p = 0; p < pagers; p++) {
                objects.put(object(p), size);
                assigned.put(object(p), p);
            }
            this.cluster = new SimCluster(simOptions, objects,
                    io.machxp.kernel.core.PagerDirectory.of(pagers, assigned), this::trace);
        }
        this.pi = new PiWatch(bounds.settleNanos());
        this.faults = new ChaosFaults(this);
        this.workload = Workload.of(this);
    }

    ChaosFaults faults() {
        return faults;
    }

    /** The object pager {@code p} serves. */
    String object(int p) {
        return pagers == 1 ? OBJECT : OBJECT + "-" + p;
    }

    /** The history's name of pager {@code p}. */
    static String pagerName(int p) {
        return p == 0 ? "pager" : "pager" + p;
    }

    /** Access for tests that plant bugs: what crosses the simulated links. */
    public SimCluster cluster() {
        return cluster;
    }

    /** Plants bugs in the cores' logic (tests of the checker only): every kernel and pager of the run has them. */
    public ChaosRun withPlants(io.machxp.kernel.core.KernelPlants kernel, io.machxp.pager.core.PagerPlants pager) {
        this.coreOptions = coreOptions.withPlants(kernel);
        cluster.plant(pager);
        return this;
    }

    /** Runs a protocol variant: its policies in every kernel and pager of the run. */
    public ChaosRun withVariant(io.machxp.variant.Variant variant) {
        if (cluster.replicas() != null && variant.pager() != io.machxp.pager.policy.GrantPolicy.IMMEDIATE) {
            throw new IllegalArgumentException("the replicated pager grants at once: variant " + variant.name()
                    + " is not modelled with replicas");
        }
        this.coreOptions = variant.apply(coreOptions);
        variant.apply(cluster);
        cluster.filter(new ForwardDrops(this, seed)); // kernel links lose forwards (only direct sends any)
        return this;
    }

    /** The longest a worker holds a futex (one hold in six is a long one, for owners to settle). */
    long maxHoldNanos() {
        return options.leaseNanos();
    }

    /** The quiet period: longer than the lease, any hold time and any timeout of the workload. */
    long quietNanos() {
        return 20 * options.leaseNanos();
    }

    /** What the kernels say of themselves: noted for the reader of a history, never used for the verdict. */
    private void trace(long time, String kernel, String event, int tid, String detail) {
        workload.traced(event);
        switch (event) {
            case "pager-reconnected", "pager-disconnected", "lease-lost", "pager-lost", "owner-died", "futex-forwarded",
                    "forward-taken", "forward-dropped", "pager-resumed", "pager-stalled", "resume-elsewhere", "lease-grace",
                    "lease-grace-over", "pager-rejoined" -> {
                history.add(time, Kind.KERNEL, kernel, -1, tid, false, "says: " + event + " " + detail);
                if (event.equals("pager-reconnected")) {
                    count("kernels reclaimed");
                } else if (event.equals("pager-resumed")) {
                    count("sessions resumed");
                } else if (event.equals("lease-grace")) {
                    count("lease graces");
                } else if (event.equals("lease-grace-over")) {
                    count("lease graces ended by a resume");
                } else if (event.equals("pager-rejoined")) {
                    count("secondary pagers joined again");
                }
            }
            default -> { }
        }
    }

    void count(String what) {
        counts.merge(what, 1L, Long::sum);
    }

    /** Runs the workload and the faults, then the quiet period, and checks the history. */
    public Result run() {
        if (pagers > 1) {
            for (int f = 0; f < options.futexes(); f++) {
                history.add(0, Kind.PAGER, pagerName(f % pagers), f, 0, false, "serves");
            }
        }
        faults.start();
        workload.start();
        for (int k = 0; k < options.kernels(); k++) {
            startKernel();
        }
        cluster.runUntil(options.durationNanos());
        long quietStart = Math.max(options.durationNanos(), faults.lastEffectEnd());
        cluster.runUntil(quietStart);
        quiet = true;
        history.add(cluster.now(), Kind.QUIET, "", -1, quietNanos(), false, "");
        cluster.runUntil(quietStart + quietNanos() + options.leaseNanos());
        long overdue = 0;
        if (cluster.replicas() != null) {
            overdue = cluster.replicas().stats().answersOverdue();
        } else {
            for (int p = 0; p < cluster.pagerCount(); p++) {
                overdue += cluster.pagerStats(p).answersOverdue();
            }
        }
        if (overdue > 0) {
            counts.merge(ContendedPaths.ANSWERS_OVERDUE, overdue, Long::sum);
        }
        HistoryChecker.Verdict v = HistoryChecker.check(history);
        return new Result(seed, v.violations(), v.stuck(), history, counts);
    }

    // ---- kernels and workers ------------------------------------------------------------------

    void startKernel() {
        String name = "k" + generation++;
        io.machxp.sim.SimKernel sk = cluster.addKernel(name, coreOptions);
        SimKernelState k = new SimKernelState(name, sk.core, cluster.now());
        kernels.put(name, k);
        double rate = 1 + (random.nextDouble() * 2 - 1) * bounds.drift();
        cluster.clockRate(name, rate);
        history.add(cluster.now(), Kind.KERNEL, name, -1, 0, false, String.format(Locale.ROOT, "start, clock rate %.4f", rate));
        // Tasks once the session is open: well after the welcome can have arrived.
        cluster.at(cluster.now() + 4 * (options.latencyNanos() + options.jitterNanos()) + 1, () -> startWorkers(k));
    }

    private void startWorkers(SimKernelState k) {
        if (k.stopped) {
            return;
        }
        if (!k.core.welcomed()) { // no welcome yet: the pager may be in its grace period
            cluster.at(cluster.now() + options.leaseNanos() / 4, () -> startWorkers(k));
            return;
        }
        for (int i = 0; i < options.threadsPerKernel(); i++) {
            startWorker(k, random.split());
        }
    }

    /** A worker in a task of its own on kernel {@code k}, drawing from {@code rnd}. */
    void startWorker(SimKernelState k, SplittableRandom rnd) {
        int priority = PRIORITIES[rnd.nextInt(PRIORITIES.length)];
        call(k, null, "task_create", -1, r -> k.core.taskCreate("worker", r), (MachTask task) ->
                mapAll(k, task, new long[pagers], 0, bases ->
                        call(k, null, "thread_create", -1, r -> k.core.threadCreate(task.id, priority, r),
                                (MachThread t) -> {
                                    Worker w = new Worker(k, task.id, t.tid, bases, priority, rnd);
                                    workers.add(w);
                                    history.add(cluster.now(), Kind.KERNEL, w.name, -1, priority, false,
                                            "worker, priority " + priority);
                                    next(w);
                                })));
    }

    /** Maps the objects of pagers {@code p} and up into the task, one after the other; then {@code then}. */
    private void mapAll(SimKernelState k, MachTask task, long[] bases, int p, Consumer<long[]> then) {
        if (p == pagers) {
            then.accept(bases);
            return;
        }
        call(k, null, "vm_map", -1, r -> k.core.vmMap(task.id, object(p), r), (VmMapping m) -> {
            bases[p] = m.start();
            mapAll(k, task, bases, p + 1, then);
        });
    }

    /** The worker's next operation: work until the quiet period, then one lock with no timeout. */
    private void next(Worker w) {
        if (w.dead || w.kernel.stopped || w.finished) {
            return;
        }
        if (!quiet && cluster.now() >= options.durationNanos() && cluster.now() >= faults.lastEffectEnd()) {
            cluster.at(cluster.now() + options.leaseNanos() / 4, () -> next(w)); // wait for the quiet period
            return;
        }
        w.finished = quiet;
        int f = w.rnd.nextInt(options.futexes());
        long timeout = quiet || w.rnd.nextInt(4) == 0 ? -1 : options.leaseNanos() * (1 + w.rnd.nextInt(4));
        w.locking = f;
        if (!quiet && workload.trylockInstead(w, f, a -> acquired(w, f, a), () -> think(w),
                error -> lockFailed(w, f, error))) {
            return;
        }
        pi.waits(f, w.name, w.priority, w.kernel.name, cluster.now(),
                timeout < 0 ? Long.MAX_VALUE : cluster.now() + (long) (timeout / (1 + bounds.drift())));
        call(w.kernel, w, "lock f" + f, timeout, r -> w.kernel.core.vmLockFutex(w.task, w.tid, w.word(f), timeout, r),
                (Acquired a) -> acquired(w, f, a), error -> lockFailed(w, f, error));
    }

    /** The worker got {@code f} from a lock or a trylock: on EOWNERDEAD it marks it consistent first. */
    private void acquired(Worker w, int f, Acquired a) {
        if (a.ownerDied()) {
            count("EOWNERDEAD");
            call(w.kernel, w, "consistent f" + f, -1,
                    r -> w.kernel.core.vmFutexConsistent(w.task, w.tid, w.word(f), r), (Void v) -> critical(w, f));
        } else {
            critical(w, f);
        }
    }

    /** A lock or a trylock of {@code f} failed. */
    private void lockFailed(Worker w, int f, KernelError error) {
        if (error.errno() == io.machxp.proto.task.Errno.EIO && pagers > 1 && f % pagers != 0) {
            // A secondary pager lost: its object is mapped anew. First the old mapping's
            // counter, which must fail too: no copy of a lost pager's page is served.
            call(w.kernel, w, "read f" + f, -1,
                    r -> w.kernel.core.vmRead(w.task, w.word(f) + COUNTER, 8, r),
                    (byte[] stale) -> mapAgain(w, f % pagers), failed -> mapAgain(w, f % pagers));
        } else {
            think(w);
        }
    }

    /**
     * After an EIO on an object of secondary pager {@code p} (the kernel lost its session there),
     * the worker maps the object again, as a user's code would: that works once the kernel has a
     * new session with the pager (docs/multi-pager.md), and until then fails with EIO too.
     */
    private void mapAgain(Worker w, int p) {
        call(w.kernel, w, "vm_map " + pagerName(p), -1, r -> w.kernel.core.vmMap(w.task, object(p), r), (VmMapping m) -> {
            w.bases[p] = m.start();
            count("objects mapped again");
            think(w);
        }, error -> think(w));
    }

    private void critical(Worker w, int f) {
        call(w.kernel, w, "read f" + f, -1, r -> w.kernel.core.vmRead(w.task, w.word(f) + COUNTER, 8, r), (byte[] bytes) -> {
            long value = ByteBuffer.wrap(bytes).getLong();
            byte[] next = ByteBuffer.allocate(8).putLong(value + 1).array();
            call(w.kernel, w, "write f" + f, -1, r -> w.kernel.core.vmWrite(w.task, w.word(f) + COUNTER, next, r), (Void v) -> {
                long hold = w.rnd.nextInt(6) == 0 ? maxHoldNanos() / 2 + w.rnd.nextLong(maxHoldNanos() / 2 + 1)
                        : w.rnd.nextLong(options.leaseNanos() / 4 + 1);
                workload.hold(w, hold, () -> {
                    if (pagers > 1 && w.owns == f) {
                        // The same value once more before the unlock: with several pagers, a kernel
                        // may lose f's pager alone meanwhile, and a write after it must have stopped
                        // using that pager must fail (nothing acknowledged may be lost).
                        call(w.kernel, w, "write f" + f, -1,
                                r -> w.kernel.core.vmWrite(w.task, w.word(f) + COUNTER, next, r),
                                (Void again) -> release(w, f), error -> release(w, f));
                    } else {
                        release(w, f);
                    }
                });
            }, error -> ownershipLost(w, f, error));
        }, error -> ownershipLost(w, f, error));
    }

    /** The owner unlocks {@code f} (its ownership ends here, whatever the kernel answers) and goes on. */
    private void release(Worker w, int f) {
        if (w.owns == f) { // else its ownership ended meanwhile (its kernel lost f's pager)
            checkPriority(w, f);
            history.add(cluster.now(), Kind.RELEASE, w.name, f, 0, false, "");
        }
        w.owns = -1;
        w.unlocking = f;
        call(w.kernel, w, "unlock f" + f, -1, r -> w.kernel.core.vmUnlockFutex(w.task, w.tid, w.word(f), r),
                (Void u) -> think(w), error -> think(w));
    }

    /**
     * A read or write under {@code f} failed: with several pagers, EIO on a secondary pager's futex
     * says the kernel lost that pager; the worker unlocks (as code in a finally block would) and goes on.
     */
    private void ownershipLost(Worker w, int f, KernelError error) {
        if (pagers > 1 && f % pagers != 0 && error.errno() == io.machxp.proto.task.Errno.EIO) {
            release(w, f);
        }
    }

    /** A settled owner runs at the highest priority waiting for it (see {@link PiWatch}). */
    private void checkPriority(Worker w, int f) {
        OptionalInt expected = pi.expected(f, w.kernel.name, w.priority, w.acquiredAt, cluster.now(),
                name -> { SimKernelState k = kernels.get(name); return k != null && !k.stopped && !k.doomed; });
        if (expected.isEmpty()) {
            return;
        }
        MachThread t = w.kernel.core.task(w.task).thread(w.tid);
        int observed = t.effectivePriority;
        history.add(cluster.now(), Kind.PRIORITY, w.name, f, observed, observed == expected.getAsInt(),
                "the harness expects " + expected.getAsInt() + " (its base " + w.priority + ", " + pi.waiters(f)
                        + " waiting)");
        count(pi.waiters(f) > 0 ? "priority checks with waiters" : "priority checks");
    }

    private void think(Worker w) {
        if (quiet) {
            pause(w);
        } else {
            workload.between(w, () -> pause(w));
        }
    }

    private void pause(Worker w) {
        cluster.at(cluster.now() + w.rnd.nextLong(options.leaseNanos() / 4 + 1), () -> next(w));
    }

    /**
     * Makes a call into a kernel (when it runs: a paused kernel runs it when it resumes) and
     * records it. Its answer is recorded when the kernel gives it, with what it means (an
     * acquisition, a read, a write); the worker goes on in an event of its own, unless its task
     * died or the harness counts its kernel as stopped.
     */
    <T> void call(SimKernelState k, Worker w, String what, long timeout, Consumer<Reply<T>> invoke,
            Consumer<T> ok, Consumer<KernelError> failed) {
        if (k.stopped || (w != null && w.dead)) {
            return;
        }
        if (w != null) {
            history.add(cluster.now(), Kind.CALL, w.name, -1, timeout, false, what);
        }
        cluster.call(k.name, () -> invoke.accept(new Reply<>() {
            @Override
            public void complete(T value) {
                // A trylock's null: the futex is busy (Linux's EBUSY); it acquired nothing.
                answered(w, value == null && what.startsWith("trylock f") ? "EBUSY" : "OK", what, value);
                cluster.at(cluster.now(), () -> goOn(k, w, () -> ok.accept(value)));
            }

            @Override
            public void fail(KernelError error) {
                answered(w, error.errno().name(), what, null);
                cluster.at(cluster.now(), () -> goOn(k, w, () -> failed.accept(error)));
            }
        }));
    }

    private <T> void call(SimKernelState k, Worker w, String what, long timeout, Consumer<Reply<T>> invoke,
            Consumer<T> ok) {
        call(k, w, what, timeout, invoke, ok, error -> { });
    }

    /** The kernel answers: recorded now, with what the answer means. */
    private void answered(Worker w, String errno, String what, Object value) {
        if (w == null) {
            return;
        }
        history.add(cluster.now(), Kind.ANSWER, w.name, -1, 0, false, errno);
        if (!errno.equals("OK")) {
            count(errno);
        }
        if (what.startsWith("lock f")) {
            pi.stopsWaiting(w.locking, w.name, cluster.now());
        } else if (what.startsWith("unlock f")) {
            w.unlocking = -1;
        }
        if (value instanceof Acquired a) {
            history.add(cluster.now(), Kind.ACQUIRE, w.name, w.locking, a.fencingToken(), a.ownerDied(), a.path().name());
            count("acquisitions");
            if (w.dead || w.kernel.stopped) {
                history.add(cluster.now(), Kind.OWNER_GONE, w.name, w.locking, 0, true,
                        w.dead ? "task died" : "kernel stopped");
            } else {
                w.owns = w.locking;
                w.acquiredAt = cluster.now();
            }
        } else if (value instanceof byte[] bytes && what.startsWith("read f")) {
            w.lastRead = ByteBuffer.wrap(bytes).getLong();
            history.add(cluster.now(), Kind.READ, w.name, w.locking, w.lastRead, false, "");
        } else if (errno.equals("OK") && what.startsWith("write f")) {
            history.add(cluster.now(), Kind.WRITE, w.name, w.locking, w.lastRead + 1, false, "");
        }
    }

    /** The worker goes on with the answer, unless its task died or its kernel stopped meanwhile. */
    private void goOn(SimKernelState k, Worker w, Runnable then) {
        if (w == null ? !k.stopped : !w.dead && !w.kernel.stopped) {
            then.run();
        }
    }

    /** The harness counts the worker's ownership as ended (its task or its kernel is gone). */
    /** As {@link #ownerGone(Worker, String)}, for the futexes of pager {@code pager} only (its session ended). */
    void ownerGone(Worker w, int pager, String why) {
        if (w.locking >= 0 && w.locking % pagers == pager) {
            pi.stopsWaiting(w.locking, w.name, cluster.now());
        }
        if (w.unlocking >= 0 && w.unlocking % pagers == pager) {
            history.add(cluster.now(), Kind.MAY_HAVE_DIED, w.name, w.unlocking, 0, false,
                    why + " while its unlock was not answered");
            w.unlocking = -1;
        }
        if (w.owns >= 0 && w.owns % pagers == pager) {
            history.add(cluster.now(), Kind.OWNER_GONE, w.name, w.owns, 0, true, why);
            w.owns = -1;
        }
    }

    void ownerGone(Worker w, String why) {
        workload.gone(w, why);
        pi.stopsWaiting(Math.max(0, w.locking), w.name, cluster.now());
        if (w.unlocking >= 0) {
            // Gone while its unlock was under way (waiting for the futex's page, say): the kernel
            // may have ended it as an owner's death, as Linux does for a robust list's pending op.
            history.add(cluster.now(), Kind.MAY_HAVE_DIED, w.name, w.unlocking, 0, false,
                    why + " while its unlock was not answered");
            w.unlocking = -1;
        }
        if (w.owns >= 0) {
            history.add(cluster.now(), Kind.OWNER_GONE, w.name, w.owns, 0, true, why);
            w.owns = -1;
        }
    }
}
