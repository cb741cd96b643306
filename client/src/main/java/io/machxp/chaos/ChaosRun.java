package io.machxp.chaos;

import io.machxp.chaos.History.Kind;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.sim.SimCluster;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One chaos run: a random workload on the real kernel and pager cores in the deterministic
 * simulator, with faults injected from the same seed ({@link ChaosFaults}), recorded as a
 * {@link History} and checked ({@link HistoryChecker}).
 *
 * <h2>Overview</h2>
 * <pre>
 *  set-up     the simulated cluster: one pager, several (futex f in object chaos-(f mod pagers),
 *             which pager f mod pagers serves), or one pager replicated; the faults; the
 *             workload of the options' mix ({@link Workload}: standard or contended)
 *  faults     for the run's duration: the faults start, the workload starts, the kernels start
 *             ({@link #startKernel}: a kernel at a clock rate of its own, then its workers, whose
 *             loop is {@link WorkerLoop}); a kernel a fault stops is replaced by a new one
 *  quiet      once the duration is over and the last fault's effects too ({@link #quietNanos}):
 *             every live worker makes one more lock with no timeout, then stops; the checker
 *             requires every call to be answered within the quiet period
 *  verdict    the history checked; the counts of what was injected and seen
 * </pre>
 * The harness keeps its own record of each kernel ({@link SimKernelState}) and worker
 * ({@link Worker}): the faults end a worker's ownership through {@link #ownerGone}, and every
 * call into a kernel and what its answer means is recorded by {@link KernelCalls}, when the
 * kernel gives it; what the worker does with it runs as an event of its own. What the kernels
 * trace of themselves is noted for the reader, never used for the verdict. The same seed and
 * options give the same history, event for event.
 *
 * <p>With several pagers ({@link #ChaosRun(long, ChaosOptions, int)}) every worker maps every
 * pager's object, and each pager crashes on its own ({@link ChaosFaults}). The history says which
 * pager serves which futex, so the checker knows what a pager's crash may lose.
 */
public final class ChaosRun {
    /** The object every kernel maps (with one pager). */
    static final String OBJECT = "chaos";
    static final int PAGE = 4096;

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
    /** {@link #withReplicaClockStep}; null: drawn. */
    private Double replicaClockStepLeases;
    /** What the workers do where the mixes differ ({@link ChaosOptions#mix}). */
    private final Workload workload;
    /** With {@link ChaosMix#HEIR_SHUTDOWN}: the shutdowns at a stale heir; else null. */
    private final StaleHeirShutdowns heirShutdowns;
    /** The calls into the kernels, recorded in the history. */
    final KernelCalls calls;
    /** What every worker does, asking the workload where the mixes differ. */
    final WorkerLoop loop;
    private CoreOptions coreOptions = CoreOptions.DEFAULT;
    private int generation;

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
                PAGE, options.leaseNanos()).withFutexRecords(options.futexRecords());
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
        this.heirShutdowns = options.mix() == ChaosMix.HEIR_SHUTDOWN ? new StaleHeirShutdowns(this) : null;
        this.calls = new KernelCalls(this);
        this.loop = new WorkerLoop(this, calls, workload);
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

    /**
     * With replicas: every replica's wall clock steps by {@code leases} leases (below 0: back) once,
     * instead of a size drawn ({@link ReplicaFaults#planWallClockSteps}); null: drawn.
     */
    public ChaosRun withReplicaClockStep(Double leases) {
        this.replicaClockStepLeases = leases;
        return this;
    }

    /** The size of the replicas' wall clock steps in leases, or null: drawn. */
    Double replicaClockStepLeases() {
        return replicaClockStepLeases;
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

    /** The quiet period: longer than the lease, any hold time and any timeout of the workload. */
    long quietNanos() {
        return 20 * options.leaseNanos();
    }

    /** What the kernels say of themselves: noted for the reader of a history, never used for the verdict. */
    private void trace(long time, String kernel, String event, int tid, String detail) {
        workload.traced(event);
        if (heirShutdowns != null) {
            heirShutdowns.traced(kernel, event, tid, detail);
        }
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
        if (heirShutdowns != null) {
            heirShutdowns.start();
        }
        for (int k = 0; k < options.kernels(); k++) {
            startKernel();
        }
        cluster.runUntil(options.durationNanos());
        long quietStart = Math.max(options.durationNanos(), faults.lastEffectEnd());
        cluster.runUntil(quietStart);
        loop.quietPeriod();
        history.add(cluster.now(), Kind.QUIET, "", -1, quietNanos(), false, "");
        cluster.runUntil(quietStart + quietNanos() + options.leaseNanos());
        long overdue = answersOverdue();
        if (overdue > 0) {
            counts.merge(ContendedPaths.ANSWERS_OVERDUE, overdue, Long::sum);
        }
        if (cluster.replicas() != null) {
            countHints();
        }
        long recorded = pagerCount(io.machxp.pager.core.PagerStats::deathsRecordedByPager);
        if (recorded > 0) {
            counts.merge(DEATHS_RECORDED_BY_PAGER, recorded, Long::sum);
        }
        long staleHeirs = pagerCount(io.machxp.pager.core.PagerStats::staleHeirReleases);
        if (staleHeirs > 0) {
            counts.merge(STALE_HEIR_RELEASES, staleHeirs, Long::sum);
        }
        long parked = pagerCount(io.machxp.pager.core.PagerStats::futexRequestsParked);
        if (parked > 0) {
            counts.merge(FUTEX_REQUESTS_PARKED, parked, Long::sum);
        }
        HistoryChecker.Verdict v = HistoryChecker.check(history);
        List<String> violations = new ArrayList<>(v.violations());
        violations.addAll(new FutexSharesAtEnd(this).check()); // rule 9: ends the workers' tasks
        return new Result(seed, violations, v.stuck(), history, counts);
    }

    /**
     * Futexes whose dead holders' owner_died a pager recorded in their words itself (xp-spec 8.7):
     * nobody waited for them, and no kernel held their pages writable.
     */
    static final String DEATHS_RECORDED_BY_PAGER = "deaths recorded by the pager";

    /** Futex releases naming a stale unlock heir a pager took, to carry to the next grant (xp-spec 8.4). */
    public static final String STALE_HEIR_RELEASES = "futex releases naming a stale heir";

    /**
     * lock_futex requests that waited for a futex record at a pager's bound for all kernels (a run
     * with fewer records than futexes: {@link ChaosOptions#futexRecords}).
     */
    static final String FUTEX_REQUESTS_PARKED = "futex requests parked at the records' bound";

    /** What the pagers (or the replicated one: its replica 0's core) counted. */
    private long pagerCount(java.util.function.ToLongFunction<io.machxp.pager.core.PagerStats> count) {
        if (cluster.replicas() != null) {
            return count.applyAsLong(cluster.replicas().stats());
        }
        long sum = 0;
        for (int p = 0; p < cluster.pagerCount(); p++) {
            sum += count.applyAsLong(cluster.pagerStats(p));
        }
        return sum;
    }

    /** The sessions the pagers (or the replicated one) ended for an answer overdue. */
    private long answersOverdue() {
        if (cluster.replicas() != null) {
            return cluster.replicas().stats().answersOverdue();
        }
        long overdue = 0;
        for (int p = 0; p < cluster.pagerCount(); p++) {
            overdue += cluster.pagerStats(p).answersOverdue();
        }
        return overdue;
    }

    /** Every kernel's stats, those stopped included (the hints they acted on). */
    private final java.util.List<io.machxp.kernel.core.KernelStats> kernelStats = new java.util.ArrayList<>();

    /** The replicated pager's early asks (xp-spec 13.6): sent by its leaders, acted on and dropped by kernels. */
    private void countHints() {
        long acted = 0;
        long dropped = 0;
        for (io.machxp.kernel.core.KernelStats s : kernelStats) {
            acted += s.hintsActed.sum();
            dropped += s.hintsDropped.sum();
        }
        counts.merge("relinquish hints sent", cluster.replicas().earlyAsksSent(), Long::sum);
        counts.merge("relinquish hints acted on", acted, Long::sum);
        counts.merge("relinquish hints dropped", dropped, Long::sum);
        counts.merge("replica redirects followed", cluster.replicas().redirectsFollowed(), Long::sum);
        counts.merge("replica stream ends marked broken", cluster.replicas().endsMarkedBroken(), Long::sum);
        io.machxp.sim.SimReplicaGroup.Batches b = cluster.replicas().batches();
        counts.merge("replica entries appended", b.sent(), Long::sum);
        counts.merge("replica Raft entries", b.raftEntries(), Long::sum);
        counts.merge("replica batch Raft entries", b.batches(), Long::sum);
        counts.merge("replica batches failed whole", b.batchesFailed(), Long::sum);
    }

    /** A new kernel (at the start, and in place of one a fault stopped); its workers once it is welcomed. */
    void startKernel() {
        String name = "k" + generation++;
        io.machxp.sim.SimKernel sk = cluster.addKernel(name, coreOptions);
        kernelStats.add(sk.stats);
        SimKernelState k = new SimKernelState(name, sk.core, cluster.now());
        kernels.put(name, k);
        double rate = 1 + (random.nextDouble() * 2 - 1) * bounds.drift();
        cluster.clockRate(name, rate);
        history.add(cluster.now(), Kind.KERNEL, name, -1, 0, false, String.format(Locale.ROOT, "start, clock rate %.4f", rate));
        // Tasks once the session is open: well after the welcome can have arrived.
        cluster.at(cluster.now() + 4 * (options.latencyNanos() + options.jitterNanos()) + 1, () -> loop.startWorkers(k));
    }

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

    /** The harness counts the worker's ownership as ended (its task or its kernel is gone). */
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
