package io.machxp.sim;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.pager.core.PagerCore;
import io.machxp.pager.core.PagerEnv;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.pager.futex.FutexKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * A pager and its kernels in virtual time, on one Java thread: the same {@link PagerCore} and
 * {@link KernelCore} the real runtime runs, wired by an event queue instead of gRPC and Netty.
 *
 * <h2>Overview</h2>
 * Everything that happens is an event at a virtual time, run in (time, order of scheduling):
 * an XP message arriving, a kernel timer firing, or an action of the caller ({@link #at}). An XP
 * message sent at time t arrives at t + latency + a seeded jitter in [0, jitter], and never
 * before a message sent earlier on the same stream (a stream is FIFO, as a gRPC stream is).
 * Nothing else is random and nothing reads the wall clock, so a run is a function of its inputs
 * and the seed: the same calls with the same seed give the same events in the same order.
 *
 * <p>Faults: {@link #crash} stops a kernel dead (nothing more in or out; the pager sees its stream
 * end once what it had sent has arrived), {@link #partition} holds every message to and from a
 * kernel until the partition heals (streams stay FIFO: held, not lost), and a {@link MessageFilter}
 * may rewrite or drop what crosses a link (to plant protocol bugs in tests of the checker).
 * {@link #crashPager} stops the pager dead: what was on its way to or from it is lost, every
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
    public record Options(long seed, long latencyNanos, long jitterNanos, int pageSize, long leaseNanos) {
        public Options {
            if (latencyNanos < 0 || jitterNanos < 0 || leaseNanos < 0) {
                throw new IllegalArgumentException("latency, jitter and lease must be 0 or more");
            }
        }

        /** Without a lease: sessions live as long as the simulation. */
        public Options(long seed, long latencyNanos, long jitterNanos, int pageSize) {
            this(seed, latencyNanos, jitterNanos, pageSize, 0);
        }
    }

    /** Sees every XP message as it is sent; returns what crosses the link (null: nothing). */
    public interface MessageFilter {
        KernelToPager toPager(String kernel, KernelToPager message);

        PagerToKernel toKernel(String kernel, PagerToKernel message);
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
    private final PriorityQueue<SimEvent> queue = new PriorityQueue<>();
    private final Map<String, Long> objects;
    /** The pager's disk: it outlives a pager crash. */
    private final io.machxp.pager.store.MemoryPageStore store = new io.machxp.pager.store.MemoryPageStore();
    private PagerCore pager;
    /** Which pager runs: 1 for the first, one more for each restart (also its token epoch). */
    private int instance = 1;
    private boolean pagerUp = true;
    private final PagerStats pagerStats = new PagerStats();
    private final Map<String, SimKernel> kernels = new LinkedHashMap<>();
    private final Map<Long, SimKernel> bySession = new LinkedHashMap<>();
    private final TraceSink sink;
    private MessageFilter filter;
    private SimNetwork network;
    /** When the pager's CPU is free of the messages it received (the network's CPU cost). */
    private long pagerBusy;
    private XpObserver observer = (sent, arrives, from, to, message) -> { };
    private DeathSink deaths = (time, kernel, held) -> { };
    private long now;
    private long order;
    private long nextSession = 1;
    private io.machxp.pager.core.PagerPlants pagerPlants = io.machxp.pager.core.PagerPlants.NONE;
    private io.machxp.pager.policy.GrantPolicy grantPolicy = io.machxp.pager.policy.GrantPolicy.IMMEDIATE;
    /** The pager's machine clock: it outlives a pager crash. */
    private final SimClock pagerClock = new SimClock();

    public SimCluster(Options options, Map<String, Long> objects, TraceSink sink) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
        this.network = SimNetwork.uniform(options.latencyNanos(), options.jitterNanos());
        this.sink = sink;
        this.objects = Map.copyOf(objects);
        store.nextEpoch();
        this.pager = newPager(0);
    }

    /** A pager's env; once that pager crashed, it does nothing any more (its timers are dead). */
    private PagerEnv pagerEnv(int mine) {
        return new PagerEnv() {
                    private boolean running() {
                        return mine == instance && pagerUp;
                    }

                    @Override
                    public void send(long sessionId, PagerToKernel message) {
                        SimKernel k = running() ? bySession.get(sessionId) : null;
                        PagerToKernel m = k == null || filter == null ? message : filter.toKernel(k.name, message);
                        if (k != null && m != null) {
                            long arrival = k.fromPager.deliver(m.getSerializedSize(), fromPager(() -> k.core.onXp(m)));
                            observer.message(now, arrival, PAGER, k.name, m);
                        }
                    }

                    @Override
                    public void endSession(long sessionId, Errno errno, String message) {
                        SimKernel k = running() ? bySession.remove(sessionId) : null;
                        if (k != null) {
                            k.fromPager.deliver(0, fromPager(() -> k.core.onPagerLost(errno + ": " + message)));
                        }
                    }

                    @Override
                    public long nanoTime() {
                        return pagerClock.local(now);
                    }

                    @Override
                    public void schedule(long delayNanos, Runnable action) {
                        SimCluster.this.schedule(now + pagerClock.trueDelay(delayNanos), () -> {
                            if (running()) {
                                action.run();
                            }
                        });
                    }

                    @Override
                    public void declaredDead(String kernelName, List<FutexKey> heldFutexes) {
                        if (running()) {
                            deaths.declaredDead(now, kernelName, heldFutexes);
                        }
                    }
                };
    }

    private PagerCore newPager(long graceNanos) {
        return new PagerCore("sim", options.pageSize(), new ObjectCatalog(objects, options.pageSize(), store),
                pagerEnv(instance), pagerStats, new PagerCore.Options(options.leaseNanos(), instance).withGrace(graceNanos)
                        .withPlants(pagerPlants).withGrantPolicy(grantPolicy));
    }

    /** What the pager sends arrives only if that pager still runs (its crash loses what was on the way). */
    private Runnable fromPager(Runnable receive) {
        int sentBy = instance;
        return () -> {
            if (sentBy == instance && pagerUp) {
                receive.run();
            }
        };
    }

    /** What a kernel sends on a session reaches the pager that session was opened with, if it still runs. */
    private Runnable toPager(SimKernel k, KernelToPager m, java.util.function.Consumer<PagerCore> receive) {
        int sentTo = instance;
        boolean up = pagerUp;
        return () -> {
            if (up && sentTo == instance && pagerUp) {
                receive.accept(pager);
            }
        };
    }

    // ---- faults --------------------------------------------------------------------------------

    /**
     * The kernel stops dead, as a killed process: nothing more goes in or out, its timers stop,
     * and the pager sees its stream end once the messages it had sent before have arrived.
     */
    public void crash(String name) {
        SimKernel k = kernel(name);
        if (!k.crashed) {
            stop(k);
        }
    }

    /**
     * The kernel shuts down cleanly: it returns its dirty pages and terminates its objects, which
     * releases what it held, then ends its stream; nothing reaches it afterwards.
     */
    public void shutdown(String name) {
        SimKernel k = kernel(name);
        if (!k.crashed) {
            k.core.shutdown();
            stop(k);
        }
    }

    /** Nothing more in or out; the pager sees the stream end after what the kernel sent before. */
    private void stop(SimKernel k) {
        k.crashed = true;
        long on = k.session;
        k.toPager.deliver(0, toPager(k, null, p -> p.sessionClosed(on)));
    }

    /**
     * The pager stops dead: what was on its way to or from it is lost, every kernel's stream breaks
     * (each kernel hears of it a latency later, or when its partition heals), and {@code downNanos}
     * later a new pager starts on the same store with a grace period of one lease.
     */
    public void crashPager(long downNanos) {
        if (!pagerUp) {
            return;
        }
        pagerUp = false;
        for (SimKernel k : bySession.values()) {
            k.fromPager.deliver(0, () -> k.core.onStreamBroken("the pager's connection was reset"));
        }
        bySession.clear();
        schedule(now + downNanos, () -> {
            instance++;
            store.nextEpoch();
            pager = newPager(options.leaseNanos());
            pagerUp = true;
        });
    }

    /** Whether a pager runs now (false between a crash and its restart). */
    public boolean pagerUp() {
        return pagerUp;
    }

    /** A kernel opens a new stream: to the pager if one runs, else it is refused a round trip later. */
    private boolean reconnect(SimKernel k) {
        if (!pagerUp) {
            k.fromPager.deliver(0, () -> k.core.onStreamBroken("connection refused: no pager is listening"));
            return true;
        }
        bySession.remove(k.session); // its old stream is gone: nothing more arrives on it
        k.session = nextSession++;
        bySession.put(k.session, k);
        long on = k.session;
        k.toPager.deliver(0, toPager(k, null, p -> p.sessionOpened(on)));
        return true;
    }

    /**
     * The kernel's process stops for {@code nanos} (SIGSTOP, a long GC pause) and then goes on as if
     * nothing happened: nothing runs in it meanwhile - messages that arrive, its timers, its tasks'
     * calls ({@link #call}) - and all of it runs, in order, when it resumes. Its clock runs on.
     */
    public void pause(String name, long nanos) {
        SimKernel k = kernel(name);
        k.pausedUntil = Math.max(k.pausedUntil, now + nanos);
        if (!k.paused) {
            k.paused = true;
            schedule(k.pausedUntil, () -> resume(k));
        }
    }

    private void resume(SimKernel k) {
        if (now < k.pausedUntil) {
            schedule(k.pausedUntil, () -> resume(k));
            return;
        }
        k.paused = false;
        while (!k.deferred.isEmpty() && !k.paused) {
            k.run(k.deferred.poll());
        }
    }

    /** A task's call into the kernel: it runs now, or when the kernel resumes if it is paused. */
    public void call(String name, Runnable action) {
        kernel(name).run(action);
    }

    /** From now on the kernel's clock runs at {@code rate} (1: exact). */
    public void clockRate(String name, double rate) {
        kernel(name).clock.rate(now, rate);
    }

    /** The kernel's clock jumps {@code nanos} forward. */
    public void clockJump(String name, long nanos) {
        kernel(name).clock.jump(now, nanos);
    }

    /** From now on the pager's clock runs at {@code rate}; it keeps it across restarts (one machine). */
    public void pagerClockRate(double rate) {
        pagerClock.rate(now, rate);
    }

    /** The pager's clock jumps {@code nanos} forward. */
    public void pagerClockJump(long nanos) {
        pagerClock.jump(now, nanos);
    }

    /** Holds every message to and from the kernel for {@code nanos}; then they arrive in order. */
    public void partition(String name, long nanos) {
        SimKernel k = kernel(name);
        k.partitionedUntil = Math.max(k.partitionedUntil, now + nanos);
    }

    /**
     * Plants bugs in the pager's logic (tests of the chaos checker only): the pager starts again
     * with them, as does every pager after a crash. Before any kernel is added.
     */
    public void plant(io.machxp.pager.core.PagerPlants plants) {
        if (!kernels.isEmpty()) {
            throw new IllegalStateException("plant bugs in the pager before any kernel starts");
        }
        pagerPlants = plants;
        pager = newPager(0);
    }

    /** The pager's side of a protocol variant, for this pager and every one after a crash. Before any kernel. */
    public void grantPolicy(io.machxp.pager.policy.GrantPolicy policy) {
        if (!kernels.isEmpty()) {
            throw new IllegalStateException("choose the pager's grant policy before any kernel starts");
        }
        grantPolicy = policy;
        pager = newPager(0);
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

    /** A node (the pager when {@code kernel} is null) spends {@code cost} on a message arriving at {@code arrival}. */
    long cpu(SimKernel kernel, long arrival, long cost) {
        if (cost == 0) {
            return arrival;
        }
        long start = Math.max(arrival, kernel == null ? pagerBusy : kernel.cpuBusy);
        if (kernel == null) {
            pagerBusy = start + cost;
        } else {
            kernel.cpuBusy = start + cost;
        }
        return start + cost;
    }

    public void observe(XpObserver observer) {
        this.observer = observer;
    }

    public void onDeclaredDead(DeathSink sink) {
        this.deaths = sink;
    }

    public PagerCore pager() {
        return pager;
    }

    public PagerStats pagerStats() {
        return pagerStats;
    }

    /** Adds a kernel and opens its session (kernel_hello); run the queue for the welcome. */
    public SimKernel addKernel(String name, CoreOptions options) {
        if (kernels.containsKey(name)) {
            throw new IllegalArgumentException("two kernels are named '" + name + "'");
        }
        SimKernel k = new SimKernel(this, name, options);
        kernels.put(name, k);
        if (!pagerUp) {
            k.core.start(); // its hello goes nowhere: the connection is refused
            k.fromPager.deliver(0, () -> k.core.onStreamBroken("connection refused: no pager is listening"));
            return k;
        }
        bySession.put(k.session, k);
        pager.sessionOpened(k.session);
        k.core.start();
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

    /** A kernel sends {@code m} on its session: through the filter, onto its link, seen by the observer. */
    void sendToPager(SimKernel k, KernelToPager message) {
        KernelToPager m = filter == null ? message : filter.toPager(k.name, message);
        if (!k.crashed && m != null) {
            long on = k.session;
            long arrival = k.toPager.deliver(m.getSerializedSize(), toPager(k, m, p -> p.onXp(on, m)));
            observer.message(now, arrival, k.name, PAGER, m);
        }
    }

    boolean reconnectKernel(SimKernel k) {
        return !k.crashed && reconnect(k);
    }

    void trace(String kernel, String event, int tid, String detail) {
        sink.trace(now, kernel, event, tid, detail);
    }

    long newSession() {
        return nextSession++;
    }

    /** Virtual time now, in nanoseconds since the simulation began. */
    public long now() {
        return now;
    }

    /** Runs {@code action} at virtual time {@code time} (not before now). */
    public void at(long time, Runnable action) {
        schedule(time, action);
    }

    SimEvent schedule(long time, Runnable action) {
        SimEvent e = new SimEvent(Math.max(time, now), order++, action);
        queue.add(e);
        return e;
    }

    /** Runs the next event; false if there is none. */
    public boolean step() {
        SimEvent e = queue.poll();
        if (e == null) {
            return false;
        }
        now = e.time;
        if (!e.cancelled) {
            e.action.run();
        }
        return true;
    }

    /** Runs events until none is left or the next one is after {@code limit}. */
    public void runUntil(long limit) {
        while (!queue.isEmpty() && queue.peek().time <= limit) {
            step();
        }
    }

    /** The time of the next event, or -1 if none is left. */
    public long nextEventTime() {
        SimEvent e = queue.peek();
        return e == null ? -1 : e.time;
    }
}
