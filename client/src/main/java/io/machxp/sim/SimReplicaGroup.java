package io.machxp.sim;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerRedirect;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A replicated pager in the simulator ({@code machxp pager --replicas}, xp-spec 13): N replicas
 * ({@link SimReplica}, the real replica code) on a modelled Raft log ({@link SimRaft}), and each
 * kernel's link to the group, which does what the real kernel's link does ({@code PagerLink}
 * with several replicas): a stream goes to one replica; a follower's {@code pager_redirect} sends
 * the same hello to the leader it names (or, naming none, to the next replica a moment later); a
 * stream that breaks without the pager's word moves the next connection to the next replica; the
 * kernel core resumes its session on a new stream, as with any pager.
 *
 * <h2>Overview</h2>
 * <pre>
 *  kernel stream   opened to the link's target replica; a refused connect (replica down) breaks
 *                  at once; messages cross the kernel's links (latency, jitter, partitions,
 *                  stalls), and reach the replica's XP service only while the run of the replica
 *                  process it was opened to lasts (a crash loses what was on its way)
 *  faults          {@link #crash} a replica (its kernels' streams break) and restart it later as
 *                  a follower that applies its log again; {@link #partition} replicas from the rest
 * </pre>
 * The replicas' clocks share one rate, drawn within the drift bound: each replica's monotonic
 * clock ({@code nanoTime()}, from which its leader reads the group clock, GroupClock) runs at it,
 * and its wall clock (read only for a genesis) differs from it by a fixed offset of up to
 * {@link #skewNanos} (machines kept together by NTP) plus the steps {@link #stepWallClock} made
 * (NTP stepping a clock, date -s, a VM restored): the group clock ignores both.
 */
public final class SimReplicaGroup {
    /** How long a kernel waits when a replica knows no leader (machxp's link: 50 ms; scaled to the lease). */
    private final long noLeaderWaitNanos;
    private static final int MAX_REDIRECTS = 8;

    private final SimCluster cluster;
    final SimRaft raft;
    private final SimReplica[] replicas;
    private final Map<String, Long> objects;
    private final long leaseNanos;
    private final long tickNanos;
    private final SimClock groupClock = new SimClock();
    private final long[] offsets;
    /** How far each replica's wall clock was stepped so far ({@link #stepWallClock}). */
    private final long[] steps;
    private final long skewNanos;
    private final Map<SimKernel, Link> links = new LinkedHashMap<>();
    /** Until when each replica is stopped ({@link #pause}): it ticks not, and its kernel traffic waits. */
    private final long[] pausedUntil;

    /** One kernel's link to the group: which replica it connects to, the last hello, its stream. */
    private static final class Link {
        int target;
        KernelToPager lastHello;
        int redirects;
        Stream current;
    }

    /** One kernel stream to one run of one replica. */
    private final class Stream {
        final SimKernel kernel;
        final int replica;
        final SimReplica process;
        final long id;
        StreamObserver<KernelToPager> server;
        /** The kernel heard it end. */
        boolean ended;
        /** The replica ended it: gRPC delivers nothing more of the kernel's to it. */
        boolean closedByServer;

        Stream(SimKernel kernel, int replica) {
            this.kernel = kernel;
            this.replica = replica;
            this.process = replicas[replica];
            this.id = cluster.newSession();
        }

        /** Whether the replica process this stream was opened to still runs. */
        boolean alive() {
            return replicas[replica] == process && raft.up(replica);
        }

        boolean current() {
            Link l = links.get(kernel);
            return l != null && l.current == this && !kernel.crashed;
        }
    }

    /** What replica 0's core counted: each replica's core applies the same log. */
    public io.machxp.pager.core.PagerStats stats() {
        return replicas[0].stats;
    }

    /** The replicas' bound on futex records for all kernels: the simulator's ({@link SimCluster.Options#futexRecords}). */
    int futexRecords() {
        return cluster.options().futexRecords();
    }

    /** The replicas' answer deadline: the simulator's ({@link SimCluster.Options#answerDeadlineNanos}). */
    long answerDeadlineNanos() {
        return cluster.options().answerDeadlineNanos();
    }

    SimReplicaGroup(SimCluster cluster, int count, Map<String, Long> objects) {
        if (count != 3 && count != 5) {
            throw new IllegalArgumentException("a replicated pager has 3 or 5 replicas, not " + count);
        }
        this.cluster = cluster;
        this.objects = Collections.unmodifiableMap(new LinkedHashMap<>(objects)); // in the order given: Map.copyOf's varies by JVM
        this.leaseNanos = cluster.options().leaseNanos();
        long lease = Math.max(leaseNanos, 1_000_000);
        this.noLeaderWaitNanos = lease / 100;
        this.tickNanos = lease / 100;
        this.skewNanos = lease / 40;
        this.raft = new SimRaft(cluster, count, timing(lease, cluster.options().latencyNanos()));
        this.replicas = new SimReplica[count];
        this.offsets = new long[count];
        this.steps = new long[count];
        this.pausedUntil = new long[count];
        for (int i = 0; i < count; i++) {
            offsets[i] = cluster.random().nextLong(skewNanos + 1);
            startReplica(i);
        }
    }

    /** The model's Raft times for lease {@code lease}: elections in [L/40, L/20], heartbeats thrice in the shortest. */
    static SimRaft.Timing timing(long lease, long latencyNanos) {
        return new SimRaft.Timing(lease / 40, lease / 20, lease / 120, latencyNanos, lease / 200);
    }

    /** The longest a failover can take in the model when nothing else fails: see docs/replicated-pager.md. */
    public long failoverNanos() {
        SimRaft.Timing t = timing(Math.max(leaseNanos, 1_000_000), cluster.options().latencyNanos());
        long transit = t.latencyNanos() + t.jitterNanos();
        return 2 * t.electionMaxNanos() + 6 * transit + tickNanos;
    }

    /**
     * How much later than an unreplicated pager the group may declare a silent kernel dead: a
     * failover's pause of the log (the group clock stands still through it), a margin of the
     * replicas' clock skew (which no longer moves the group clock), the ticker's poll,
     * and the new leader's takeover extension (leader_started gives every kept session a full lease
     * from the takeover: a kernel last heard at h, whose old leader declared nobody dead before
     * dying, by h + L at the latest, is declared dead by h + 2 L plus the failover).
     */
    public long declarationLagNanos() {
        return failoverNanos() + skewNanos + tickNanos + leaseNanos;
    }

    public static String name(int replica) {
        return "r" + replica;
    }

    public int size() {
        return replicas.length;
    }

    /** The group clock's rate from now on (all replicas' wall clocks). */
    public void clockRate(double rate) {
        groupClock.rate(cluster.now(), rate);
    }

    /** Replica {@code replica}'s wall clock: read only for a genesis (its time is an origin). */
    long wallClock(int replica) {
        return groupClock.local(cluster.now()) + offsets[replica] + steps[replica];
    }

    /** Replica {@code replica}'s monotonic clock ({@code System.nanoTime()}): no offset, no steps. */
    long monotonic(int replica) {
        return groupClock.local(cluster.now());
    }

    /**
     * Replica {@code replica}'s wall clock steps {@code nanos} forward (or back, below 0) from now
     * on, and stays so: its monotonic clock, and so the group clock, is not moved.
     */
    public void stepWallClock(int replica, long nanos) {
        steps[replica] += nanos;
    }

    io.machxp.proto.replica.Genesis.Builder genesis() {
        byte[] seed = new byte[32];
        cluster.random().nextBytes(seed);
        return SimReplica.genesis(seed);
    }

    /** Early asks the replica processes sent that a restart replaced. */
    private long earlyAsksRetired;

    /** Early asks (relinquish hints) the group's leaders sent so far, every run of every replica. */
    public long earlyAsksSent() {
        long n = earlyAsksRetired;
        for (SimReplica r : replicas) {
            n += r == null ? 0 : r.earlyAsks.sent();
        }
        return n;
    }

    private void startReplica(int i) {
        if (replicas[i] != null) {
            earlyAsksRetired += replicas[i].earlyAsks.sent();
        }
        SimReplica r = new SimReplica(this, raft, i, cluster.options().pageSize(), objects, leaseNanos);
        replicas[i] = r;
        raft.start(i, r);
        tickLoop(r);
    }

    private void tickLoop(SimReplica r) {
        if (replicas[r.id] != r || !raft.up(r.id)) {
            return;
        }
        if (pausedUntil[r.id] <= cluster.now()) {
            r.tick();
        }
        cluster.schedule(cluster.now() + tickNanos, () -> tickLoop(r));
    }

    // ---- faults -------------------------------------------------------------------------------

    /** Replica {@code i} stops dead; {@code downNanos} later it starts again as a follower on its log. */
    public void crash(int i, long downNanos) {
        if (!raft.up(i)) {
            return;
        }
        raft.crash(i);
        for (Link l : links.values()) {
            Stream s = l.current;
            if (s != null && s.replica == i) {
                s.kernel.fromPager[0].deliver(0, () -> ended(s, Status.UNAVAILABLE
                        .withDescription("the replica's connection was reset").asRuntimeException()));
            }
        }
        cluster.schedule(cluster.now() + downNanos, () -> startReplica(i));
    }

    /** Cuts replicas {@code side} off from the others for {@code nanos} (kernels still reach every one). */
    public void partition(List<Integer> side, long nanos) {
        raft.partition(side, cluster.now() + nanos);
    }

    /**
     * Replica {@code i} is stopped (SIGSTOP) for {@code nanos}: cut off from the other replicas,
     * its Raft and pager timers do nothing, and its kernels' connections stay up (a stopped process's socket still
     * takes connections and bytes) but what crosses them waits, in order, until it runs again.
     */
    public void pause(int i, long nanos) {
        pausedUntil[i] = Math.max(pausedUntil[i], cluster.now() + nanos);
        raft.stop(i, pausedUntil[i]);
    }

    /** When what crosses stream {@code s} may arrive at the earliest: after a stall or a pause of its replica. */
    private long heldUntil(Stream s) {
        return Math.max(s.kernel.heldUntil(0, s.id), s.process == replicas[s.replica] ? pausedUntil[s.replica] : 0);
    }

    /** The kernel's resume went unanswered (SessionResume): its next attempt goes to the next replica. */
    boolean nextReplica(SimKernel k) {
        Link l = links.get(k);
        if (l != null) {
            nextTarget(l);
        }
        return l != null;
    }

    /** The leader, ready or not, as the model knows it; -1 if none. */
    public int leader() {
        for (int i = 0; i < replicas.length; i++) {
            if (raft.up(i) && raft.role(i) == SimRaft.Role.LEADER) {
                return i;
            }
        }
        return -1;
    }

    // ---- the kernels' side --------------------------------------------------------------------

    /** A new kernel: its first stream goes to the first replica (a kernel may name them in any order). */
    void kernelAdded(SimKernel k) {
        links.put(k, new Link());
        open(k, false);
    }

    /** The kernel opens a new stream (a reclaim cancels the old one, a resume leaves it open). */
    boolean open(SimKernel k, boolean cancelOld) {
        Link l = links.get(k);
        if (k.crashed || l == null) {
            return false;
        }
        Stream old = l.current;
        Stream s = new Stream(k, l.target);
        l.current = s;
        k.session[0] = s.id;
        if (cancelOld && old != null) {
            k.toPager[0].deliver(0, () -> cancelled(old), heldUntil(old));
        }
        if (!s.alive()) {
            k.fromPager[0].deliver(0, () -> ended(s, Status.UNAVAILABLE
                    .withDescription("connection refused: replica " + name(s.replica) + " is down").asRuntimeException()));
        }
        return true;
    }

    /** The kernel sends {@code m} on its current stream. */
    void send(SimKernel k, KernelToPager m) {
        Link l = links.get(k);
        Stream s = l == null ? null : l.current;
        if (s == null) {
            return; // between a redirect and its new stream: the hello is sent again on that
        }
        if (m.hasKernelHello()) {
            l.lastHello = m;
            l.redirects = 0;
        }
        long arrival = k.toPager[0].deliver(m.getSerializedSize(), () -> {
            if (s.alive() && !s.closedByServer) {
                if (s.server == null) {
                    s.server = s.process.xp.connect(toKernel(s));
                }
                s.server.onNext(m);
            }
        }, heldUntil(s));
        cluster.observed(arrival, k.name, name(s.replica), m);
    }

    /** Whether the kernel's current stream is up: its replica runs and the kernel is not cut off. */
    boolean resumeAwaited(SimKernel k) {
        Link l = links.get(k);
        return l != null && l.current != null && !l.current.ended && l.current.alive()
                && k.partitionedUntil <= cluster.now();
    }

    /** The kernel stopped: a crash breaks its stream, a clean shutdown ends it; after what it sent before. */
    void kernelStopped(SimKernel k, boolean clean) {
        Link l = links.remove(k);
        Stream s = l == null ? null : l.current;
        if (s != null) {
            k.toPager[0].deliver(0, () -> {
                if (s.alive() && s.server != null && !s.closedByServer) {
                    if (clean) {
                        s.server.onCompleted();
                    } else {
                        s.server.onError(Status.CANCELLED.withDescription("the kernel died").asRuntimeException());
                    }
                }
            }, heldUntil(s));
        }
    }

    private void cancelled(Stream s) {
        if (s.alive() && s.server != null && !s.closedByServer) {
            s.server.onError(Status.CANCELLED.withDescription("replaced by a new stream").asRuntimeException());
        }
    }

    /** The replica's side of stream {@code s}: what it sends crosses the kernel's link. */
    private StreamObserver<PagerToKernel> toKernel(Stream s) {
        SimKernel k = s.kernel;
        return new StreamObserver<>() {
            @Override
            public void onNext(PagerToKernel message) {
                PagerToKernel m = cluster.filterToKernel(k.name, message);
                if (m == null || k.crashed) {
                    return;
                }
                long arrival = k.fromPager[0].deliver(m.getSerializedSize(), () -> {
                    if (s.alive() && s.current()) {
                        if (m.hasPagerRedirect()) {
                            redirected(k, m.getPagerRedirect());
                        } else {
                            k.core.xp().onXp(0, m);
                        }
                    }
                }, heldUntil(s));
                cluster.observed(arrival, name(s.replica), k.name, m);
            }

            @Override
            public void onError(Throwable t) {
                s.closedByServer = true;
                k.fromPager[0].deliver(0, () -> ended(s, t), heldUntil(s));
            }

            @Override
            public void onCompleted() {
                s.closedByServer = true;
                k.fromPager[0].deliver(0, () -> {
                    s.ended = true;
                    if (s.current() && !k.core.xp().onResumeFailed(0, "the pager ended the resumed stream", true)) {
                        k.core.xp().onPagerLost(0, "the pager ended the session");
                    }
                }, heldUntil(s));
            }
        };
    }

    /** The kernel's link hears its stream end (PagerLink.lost): the pager's word ends the session. */
    private void ended(Stream s, Throwable t) {
        s.ended = true;
        if (!s.current()) {
            return;
        }
        SimKernel k = s.kernel;
        if (markedBroken(t)) {
            endsMarkedBroken++;
        }
        boolean fromPager = fromPager(t);
        String reason = t.getMessage();
        Link l = links.get(k);
        if (!fromPager && !k.core.xp().welcomed() && l.lastHello != null && l.redirects < MAX_REDIRECTS) {
            redirected(k, PagerRedirect.getDefaultInstance()); // the first hello: the next replica, a moment later
            return;
        }
        if (!fromPager) {
            nextTarget(l);
        }
        if (k.core.xp().onResumeFailed(0, reason, fromPager)) {
            return;
        }
        if (fromPager) {
            k.core.xp().onPagerLost(0, reason);
        } else {
            k.core.xp().onStreamBroken(0, reason);
        }
    }

    /** A follower named the leader (PagerRedirects.redirected): the same hello goes there on a new stream. */
    private void redirected(SimKernel k, PagerRedirect r) {
        Link l = links.get(k);
        KernelToPager hello = l.lastHello;
        if (hello == null || ++l.redirects > MAX_REDIRECTS) {
            return;
        }
        int count = l.redirects;
        redirectsFollowed++;
        l.current = null; // the follower's stream is not the link's any more
        if (r.getLeader().isEmpty()) {
            nextTarget(l);
            cluster.schedule(cluster.now() + k.clock.trueDelay(noLeaderWaitNanos), () -> k.run(() -> sendAgain(k, hello, count)));
        } else {
            l.target = Integer.parseInt(r.getLeader().substring(1));
            sendAgain(k, hello, count);
        }
    }

    private void sendAgain(SimKernel k, KernelToPager hello, int count) {
        Link l = links.get(k);
        if (l == null || l.current != null || l.lastHello != hello || !open(k, false)) {
            return; // the core opened a stream meanwhile (its next resume attempt): the stale hello is not sent
        }
        send(k, hello);
        l.redirects = count;
    }

    private void nextTarget(Link l) {
        l.target = (l.target + 1) % replicas.length;
    }

    /**
     * Whether a stream ended with the pager's own word: a machxp errno in its status, not marked
     * {@code stream = broken} (PagerWord.fromPager; the simulated kernels name "end_info", so a
     * replica's redirect and loss of leadership come so marked, xp-spec 3.1).
     */
    private static boolean fromPager(Throwable t) {
        com.google.rpc.Status status = io.grpc.protobuf.StatusProto.fromThrowable(t);
        return status != null && !markedBroken(t)
                && status.getDetailsList().stream().anyMatch(d -> d.is(com.google.rpc.ErrorInfo.class));
    }

    /** Whether replica {@code i} runs now. */
    public boolean up(int i) {
        return raft.up(i);
    }

    /** How many times a replica became leader so far. */
    public long leaderChanges() {
        return raft.leaderChanges();
    }

    /**
     * What the replicas' leaders appended so far ({@code AppendBatches}, {@link SimReplica}): the
     * entries sent, the Raft entries they went in, how many of those were batches, and the entries
     * and batches whose append failed (their senders were told: the streams ended). Every process
     * of every replica counts here, a crashed one's too. Simulator thread only.
     */
    public static final class Batches {
        long sent;
        long raftEntries;
        long batches;
        long entriesFailed;
        long batchesFailed;

        public long sent() {
            return sent;
        }

        public long raftEntries() {
            return raftEntries;
        }

        public long batches() {
            return batches;
        }

        public long entriesFailed() {
            return entriesFailed;
        }

        public long batchesFailed() {
            return batchesFailed;
        }
    }

    /** The leaders' appends ({@link Batches}). */
    final Batches batches = new Batches();

    public Batches batches() {
        return batches;
    }

    /**
     * Runs what follows an apply in a leader's appender (a Ratis leader's own thread does it, not
     * the applying one): at this instant, after what already runs, in scheduling order.
     */
    void afterApply(Runnable drain) {
        cluster.schedule(cluster.now(), drain);
    }

    /** Redirects (pager_redirect) the kernels followed so far, with a leader named or none known. */
    private long redirectsFollowed;
    /** Streams the group ended with ErrorInfo marked stream = broken (xp-spec 3.1: the kernels name end_info). */
    private long endsMarkedBroken;

    public long redirectsFollowed() {
        return redirectsFollowed;
    }

    public long endsMarkedBroken() {
        return endsMarkedBroken;
    }

    /** Whether the status carries ErrorInfo marked {@code stream = broken} (a replica's redirect or loss of leadership). */
    private static boolean markedBroken(Throwable t) {
        com.google.rpc.Status status = io.grpc.protobuf.StatusProto.fromThrowable(t);
        return status != null && status.getDetailsList().stream().anyMatch(d -> {
            try {
                return d.is(com.google.rpc.ErrorInfo.class) && io.machxp.pager.net.StreamEnds.STREAM_BROKEN.equals(
                        d.unpack(com.google.rpc.ErrorInfo.class).getMetadataOrDefault(
                                io.machxp.pager.net.StreamEnds.STREAM_KEY, ""));
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                return false;
            }
        });
    }
}
