package io.machxp.sim;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.pager.core.PagerCore;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.pager.futex.FutexKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A pager (or several) and its kernels in virtual time, on one Java thread: the same
 * {@link PagerCore} and {@link KernelCore} the real runtime runs, wired by an event queue instead
 * of gRPC and Netty. With several pagers ({@link #SimCluster(Options, Map, PagerDirectory,
 * TraceSink)}) each object is served by the pager the directory names, every kernel has a session
 * with each pager ({@link SimPager}), and each pager crashes on its own.
 *
 * <h2>Overview</h2>
 * Everything that happens is an event at a virtual time, run in (time, order of scheduling)
 * ({@link SimEvents}): an XP message arriving, a kernel timer firing, or an action of the caller
 * ({@link #at}). An XP
 * message sent at time t arrives at t + latency + a seeded jitter in [0, jitter], and never
 * before a message sent earlier on the same stream (a stream is FIFO, as a gRPC stream is).
 * Nothing else is random and nothing reads the wall clock, so a run is a function of its inputs
 * and the seed: the same calls with the same seed give the same events in the same order.
 *
 * <p>Faults: {@link #crash} stops a kernel dead (nothing more in or out; the pager sees its stream
 * end once what it had sent has arrived), {@link #partition} holds every message to and from a
 * kernel until the partition heals (streams stay FIFO: held, not lost), and a {@link MessageFilter}
 * may rewrite or drop what crosses a link (to plant protocol bugs in tests of the checker).
 * {@link #crashPager} stops a pager dead: what was on its way to or from it is lost, every
 * kernel's stream breaks, and after a while a new pager starts on the same store (a disk: pages
 * and their versions survive, lock state does not) with the next token epoch and a grace period
 * of one lease; kernels reconnect to it to reclaim what they hold. {@link #pause} stops a kernel's
 * process (SIGSTOP): nothing runs in it - arriving messages, timers, its tasks' calls made through
 * {@link #call} - until it resumes and runs all of it in order. Each node reads its own
 * {@link SimClock}: {@link #clockRate} makes it drift, {@link #clockJump} jumps it forward, and its
 * timers run on it.
 * With a lease ({@link Options#leaseNanos}) the pager declares silent kernels dead and kernels
 * keep their sessions alive with keepalives, so the queue never runs dry: run it to a time.
 */
public final class SimCluster {
    /**
     * @param seed drives the jitter of message delivery
     * @param latencyNanos one-way delay of an XP message
     * @param jitterNanos up to this much extra delay, drawn per message from the seed
     * @param pageSize the pager's page size
     */
    public record Options(long seed, long latencyNanos, long jitterNanos, int pageSize, long leaseNanos,
            int futexRecords) {
        public Options {
            if (latencyNanos < 0 || jitterNanos < 0 || leaseNanos < 0 || futexRecords < 0) {
                throw new IllegalArgumentException("latency, jitter, lease and futex records must be 0 or more");
            }
        }

        /** With the pagers' default bound on futex records. */
        public Options(long seed, long latencyNanos, long jitterNanos, int pageSize, long leaseNanos) {
            this(seed, latencyNanos, jitterNanos, pageSize, leaseNanos, 0);
        }

        /**
         * The same with the pagers' bound on futex records for all kernels (0: the default), low
         * enough for a few futexes to meet it: requests then wait while idle futexes are asked back.
         */
        public Options withFutexRecords(int value) {
            return new Options(seed, latencyNanos, jitterNanos, pageSize, leaseNanos, value);
        }

        /**
         * The pagers' answer deadline in the simulator: three leases. The real default adds 22 s
         * for gRPC's flow control and a task process's drain (PagerOptions#defaultAnswerDeadlineNanos),
         * neither of which the simulator has: its kernels answer a lock_request as it arrives, so
         * only a partition (a kernel cut off for more than a lease is dead anyway), a resume and
         * a failover delay an answer, and three leases cover them while the deadline still comes
         * into play within a run.
         */
        public long answerDeadlineNanos() {
            return 3 * leaseNanos;
        }

        /** Without a lease: sessions live as long as the simulation. */
        public Options(long seed, long latencyNanos, long jitterNanos, int pageSize) {
            this(seed, latencyNanos, jitterNanos, pageSize, 0);
        }
    }

    /** Sees every XP message as it is sent; returns what crosses the link (null: nothing). */
    public interface MessageFilter {
        /** A kernel's message to the pager as it arrives, or null to lose it; unchanged unless overridden. */
        default KernelToPager toPager(String kernel, KernelToPager message) {
            return message;
        }

        /** The pager's message to a kernel as it arrives, or null to lose it; unchanged unless overridden. */
        default PagerToKernel toKernel(String kernel, PagerToKernel message) {
            return message;
        }

        /** A futex one kernel forwards to another over the kernel link (direct handoff). */
        default io.machxp.proto.xp.FutexForward forward(String from, String to, io.machxp.proto.xp.FutexForward m) {
            return m;
        }
    }

    /** Sees every XP message that crosses a link: when it was sent and when it arrives. */
    @FunctionalInterface
    public interface XpObserver {
        void message(long sent, long arrives, String from, String to, com.google.protobuf.Message message);
    }

    /** The name of the pager's lifeline in {@link XpObserver#message}. */
    public static final String PAGER = "pager";

    /** What the pager reports of kernels it declared dead. */
    @FunctionalInterface
    public interface DeathSink {
        void declaredDead(long time, String kernel, List<FutexKey> heldFutexes);
    }

    /** Receives what the kernels trace (dispatch, preemption, boosts, owner deaths). */
    @FunctionalInterface
    public interface TraceSink {
        void trace(long time, String kernel, String event, int tid, String detail);
    }

    private final Options options;
    private final SplittableRandom random;
    /** The event queue and virtual time. */
    private final SimEvents events = new SimEvents();
    private final PagerDirectory directory;
    private final List<SimPager> pagers = new ArrayList<>();
    private final Map<String, SimKernel> kernels = new LinkedHashMap<>();
    private final TraceSink sink;
    final SimKernelLinks kernelLinks = new SimKernelLinks(this, kernels.values());
    private MessageFilter filter;
    private SimNetwork network;
    private XpObserver observer = (sent, arrives, from, to, message) -> { };
    private DeathSink deaths = (time, kernel, held) -> { };
    private long nextSession = 1;
    /** The replicated pager, or null: unreplicated pagers. */
    private final SimReplicaGroup replicated;

    public SimCluster(Options options, Map<String, Long> objects, TraceSink sink) {
        this(options, objects, PagerDirectory.SINGLE, sink);
    }

    /** Several pagers: each serves the objects {@code directory} gives it; every kernel uses them all. */
    public SimCluster(Options options, Map<String, Long> objects, PagerDirectory directory, TraceSink sink) {
        this(options, objects, directory, sink, 0);
    }

    /**
     * One pager, replicated on {@code replicas} (3 or 5) replicas: the real replica code on a
     * modelled Raft log ({@link SimReplicaGroup}); kernels follow redirects and resume at the leader.
     */
    public SimCluster(Options options, Map<String, Long> objects, int replicas, TraceSink sink) {
        this(options, objects, PagerDirectory.SINGLE, sink, replicas);
    }

    private SimCluster(Options options, Map<String, Long> objects, PagerDirectory directory, TraceSink sink,
            int replicas) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
        this.network = SimNetwork.uniform(options.latencyNanos(), options.jitterNanos());
        this.sink = sink;
        this.directory = directory;
        this.replicated = replicas == 0 ? null : new SimReplicaGroup(this, replicas, objects);
        for (int p = 0; p < (replicas == 0 ? directory.count() : 0); p++) {
            Map<String, Long> served = new LinkedHashMap<>();
            for (Map.Entry<String, Long> o : objects.entrySet()) {
                if (directory.pagerOf(o.getKey()) == p) {
                    served.put(o.getKey(), o.getValue());
                }
            }
            pagers.add(new SimPager(this, p, served));
        }
    }

    Options options() {
        return options;
    }

    /** The number of pagers. */
    public int pagerCount() {
        return replicated != null ? 1 : pagers.size();
    }

    /** Which pager serves each object. */
    public PagerDirectory directory() {
        return directory;
    }

    // ---- faults --------------------------------------------------------------------------------

    /**
     * The kernel stops dead, as a killed process: nothing more goes in or out, its timers stop,
     * and the pager sees its stream end once the messages it had sent before have arrived.
     */
    public void crash(String name) {
        SimKernel k = kernel(name);
        if (!k.crashed) {
            stop(k, false);
        }
    }

    /**
     * The kernel shuts down cleanly: it returns its dirty pages, sends its clean end's keepalive
     * (xp-spec 2.6), then at once the end's second part, which terminates its objects (with a
     * lease; without one they are terminated before the keepalive), and ends its stream;
     * nothing reaches it afterwards. The simulation does not wait for that keepalive's answer, as
     * the real runtime does: a simulated pager's store writes at once, in the order of its stream,
     * so the returns are stored before the pager handles the end either way; a kernel that stayed
     * a round trip longer would only change every seed's run (the chaos harness counts it dead
     * from its shutdown on).
     */
    public void shutdown(String name) {
        SimKernel k = kernel(name);
        if (!k.crashed) {
            k.core.xp().shutdown(); // the keepalives it returns are answered to a kernel that is gone
            for (int p = pagers.size() - 1; p >= 0; p--) {
                k.core.xp().finishShutdown(p); // its second part at once: the terminates (xp-spec 2.6)
            }
            stop(k, true);
        }
    }

    /** Nothing more in or out; each pager sees the stream end after what the kernel sent before. */
    private void stop(SimKernel k, boolean clean) {
        k.crashed = true;
        if (replicated != null) {
            replicated.kernelStopped(k, clean);
        }
        for (SimPager p : pagers) {
            long on = k.session[p.index];
            k.toPager[p.index].deliver(0, p.toPager(c -> c.sessionClosed(on)));
        }
    }

    /**
     * The pager stops dead: what was on its way to or from it is lost, every kernel's stream breaks
     * (each kernel hears of it a latency later, or when its partition heals), and {@code downNanos}
     * later a new pager starts on the same store with a grace period of one lease.
     */
    public void crashPager(long downNanos) {
        crashPager(0, downNanos);
    }

    /** {@link #crashPager(long)} for pager {@code pager}; the others go on. */
    public void crashPager(int pager, long downNanos) {
        pagers.get(pager).crash(downNanos);
    }

    /** Whether the pager runs now (false between a crash and its restart); the first of several. */
    public boolean pagerUp() {
        return pagerUp(0);
    }

    /** Whether pager {@code pager} runs now. */
    public boolean pagerUp(int pager) {
        return replicated != null || pagers.get(pager).up;
    }

    /**
     * The kernel's process stops for {@code nanos} (SIGSTOP, a long GC pause) and then goes on: nothing runs in
     * it meanwhile (messages, timers, its tasks' {@link #call}s); all of it runs, in order, when it resumes.
     */
    public void pause(String name, long nanos) {
        kernel(name).pause(nanos);
    }

    /** A task's call into the kernel: it runs now, or when the kernel resumes if it is paused. */
    public void call(String name, Runnable action) {
        kernel(name).run(action);
    }

    /** From now on the kernel's clock runs at {@code rate} (1: exact). */
    public void clockRate(String name, double rate) {
        kernel(name).clock.rate(now(), rate);
    }

    /** The kernel's clock jumps {@code nanos} forward. */
    public void clockJump(String name, long nanos) {
        kernel(name).clock.jump(now(), nanos);
    }

    /** From now on the pager's clock runs at {@code rate}; it keeps it across restarts (one machine). */
    public void pagerClockRate(double rate) {
        pagerClockRate(0, rate);
    }

    /** {@link #pagerClockRate(double)} of pager {@code pager}. */
    public void pagerClockRate(int pager, double rate) {
        pagers.get(pager).clock.rate(now(), rate);
    }

    /** The pager's clock jumps {@code nanos} forward. */
    public void pagerClockJump(long nanos) {
        pagerClockJump(0, nanos);
    }

    /** {@link #pagerClockJump(long)} of pager {@code pager}. */
    public void pagerClockJump(int pager, long nanos) {
        pagers.get(pager).clock.jump(now(), nanos);
    }

    /**
     * The kernel's current stream to each of its pagers stalls for {@code nanos}, as TCP
     * connections in retransmission backoff after a short cut: what either side sends on one
     * arrives late, in order; neither side is told. A new stream the kernel opens meanwhile is not
     * held. Each stream stalls on its own: see {@link #stall(String, int, long)}.
     */
    public void stall(String name, long nanos) {
        for (int p = 0; p < pagers.size(); p++) {
            stall(name, p, nanos);
        }
    }

    /** {@link #stall(String, long)} of the kernel's stream to pager {@code pager} only. */
    public void stall(String name, int pager, long nanos) {
        SimKernel k = kernel(name);
        k.stalledSession[pager] = k.session[pager];
        k.stalledUntil[pager] = now() + nanos;
    }

    /** Holds every message to and from the kernel for {@code nanos}; then they arrive in order. */
    public void partition(String name, long nanos) {
        SimKernel k = kernel(name);
        k.partitionedUntil = Math.max(k.partitionedUntil, now() + nanos);
    }

    /**
     * Holds every message between the kernel and pager {@code pager} only, on every stream, new ones
     * too, for {@code nanos}; then they arrive in order. Its other pagers are not cut off.
     */
    public void partition(String name, int pager, long nanos) {
        SimKernel k = kernel(name);
        k.partitionedFrom[pager] = Math.max(k.partitionedFrom[pager], now() + nanos);
    }

    /**
     * Plants bugs in the pager's logic (tests of the chaos checker only): the pager starts again
     * with them, as does every pager after a crash. Before any kernel is added.
     */
    public void plant(io.machxp.pager.core.PagerPlants plants) {
        if (!kernels.isEmpty()) {
            throw new IllegalStateException("plant bugs in the pager before any kernel starts");
        }
        for (SimPager p : pagers) {
            p.plants = plants;
            p.core = p.newCore(0);
        }
    }

    /** The pager's side of a protocol variant, for this pager and every one after a crash. Before any kernel. */
    public void grantPolicy(io.machxp.pager.policy.GrantPolicy policy) {
        if (!kernels.isEmpty()) {
            throw new IllegalStateException("choose the pager's grant policy before any kernel starts");
        }
        for (SimPager p : pagers) {
            p.grantPolicy = policy;
            p.core = p.newCore(0);
        }
    }

    public void filter(MessageFilter filter) {
        this.filter = filter;
    }

    /** From now on messages cross {@code network} instead of the options' latency and jitter. */
    public void network(SimNetwork network) {
        this.network = network;
    }

    SimNetwork network() {
        return network;
    }

    SplittableRandom random() {
        return random;
    }

    /** Pager {@code pager} of several, unreplicated (SimLink: its CPU). */
    SimPager pagerNode(int pager) {
        return pagers.get(pager);
    }

    /** Adds an observer of the messages sent: each sees every message, in the order they were added. */
    public void observe(XpObserver observer) {
        XpObserver before = this.observer;
        this.observer = (sent, arrives, from, to, m) -> {
            before.message(sent, arrives, from, to, m);
            observer.message(sent, arrives, from, to, m);
        };
    }

    public void onDeclaredDead(DeathSink sink) {
        this.deaths = sink;
    }

    /** The pager (the first, of several). */
    public PagerCore pager() {
        return pager(0);
    }

    public PagerCore pager(int pager) {
        return pagers.get(pager).core;
    }

    public PagerStats pagerStats() {
        return pagerStats(0);
    }

    /** The CPU pager {@code pager} has spent on the messages it received so far (the network's CPU cost). */
    public long pagerCpuNanos(int pager) {
        return pagers.get(pager).cpuSpent;
    }

    public PagerStats pagerStats(int pager) {
        return pagers.get(pager).stats;
    }

    /** Adds a kernel and opens its session (kernel_hello); run the queue for the welcome. */
    public SimKernel addKernel(String name, CoreOptions options) {
        if (kernels.containsKey(name)) {
            throw new IllegalArgumentException("two kernels are named '" + name + "'");
        }
        SimKernel k = new SimKernel(this, name, options.withPagers(directory), pagerCount());
        kernels.put(name, k);
        if (replicated != null) {
            replicated.kernelAdded(k);
        }
        pagers.forEach(p -> p.kernelAdded(k));
        k.core.xp().start();
        pagers.forEach(p -> p.kernelStarted(k));
        return k;
    }

    public SimKernel kernel(String name) {
        SimKernel k = kernels.get(name);
        if (k == null) {
            throw new IllegalArgumentException("no kernel named '" + name + "'");
        }
        return k;
    }

    // ---- for SimKernel and SimLink ------------------------------------------------------------

    /** A kernel sends {@code m} on its session with a pager: through the filter, onto its link, seen by the observer. */
    void sendToPager(SimKernel k, int pager, KernelToPager message) {
        KernelToPager m = filter == null ? message : filter.toPager(k.name, message);
        if (!k.crashed && m != null && replicated != null) {
            replicated.send(k, m);
        } else if (!k.crashed && m != null) {
            pagers.get(pager).send(k, m);
        }
    }

    /** The kernel opens a new stream to a pager for a reclaim (the old one is cancelled). */
    boolean reconnectKernel(SimKernel k, int pager) {
        return !k.crashed && (replicated != null ? replicated.open(k, true) : pagers.get(pager).reconnect(k));
    }

    /** The kernel opens a new stream to a pager for a resume (the old one stays open). */
    boolean resumeKernel(SimKernel k, int pager) {
        return !k.crashed && (replicated != null ? replicated.open(k, false) : pagers.get(pager).reconnect(k));
    }

    /** Whether pager {@code pager} is replicated (a kernel resumes its session at the next leader). */
    public boolean replicated(int pager) {
        return replicated != null;
    }

    /** The replicated pager's replicas, for their faults; null without one. */
    public SimReplicaGroup replicas() {
        return replicated;
    }

    /**
     * Whether the kernel's resume stream to {@code pager} counts as connected: the pager runs and
     * the kernel is not cut off (its hello then arrives a transit later, held by nothing).
     */
    boolean resumeAwaited(SimKernel k, int pager) {
        if (replicated != null) {
            return !k.crashed && replicated.resumeAwaited(k);
        }
        return !k.crashed && pagers.get(pager).up && k.cutFrom(pager) <= now();
    }

    io.machxp.proto.xp.FutexForward filterForward(String from, String to, io.machxp.proto.xp.FutexForward m) {
        return filter == null ? m : filter.forward(from, to, m);
    }

    /** A pager's message through the filter (null: dropped). */
    PagerToKernel filterToKernel(String kernel, PagerToKernel message) {
        return filter == null ? message : filter.toKernel(kernel, message);
    }

    void observed(long arrival, String from, String to, com.google.protobuf.Message m) {
        observer.message(now(), arrival, from, to, m);
    }

    void declaredDead(String kernel, List<FutexKey> held) {
        deaths.declaredDead(now(), kernel, held);
    }

    void trace(String kernel, String event, int tid, String detail) {
        sink.trace(now(), kernel, event, tid, detail);
    }

    long newSession() {
        return nextSession++;
    }

    /** Virtual time now, in nanoseconds since the simulation began. */
    public long now() {
        return events.now();
    }

    /** Runs {@code action} at virtual time {@code time} (not before now). */
    public void at(long time, Runnable action) {
        events.schedule(time, action);
    }

    SimEvent schedule(long time, Runnable action) {
        return events.schedule(time, action);
    }

    /** Runs {@code action} at the end of this instant (SimEvents#scheduleLast). */
    void scheduleLast(Runnable action) {
        events.scheduleLast(action);
    }

    /** Runs the next event; false if there is none. */
    public boolean step() {
        return events.step();
    }

    /** Runs events until none is left or the next one is after {@code limit}. */
    public void runUntil(long limit) {
        events.runUntil(limit);
    }

    /** The time of the next event, or -1 if none is left. */
    public long nextEventTime() {
        return events.nextEventTime();
    }
}
