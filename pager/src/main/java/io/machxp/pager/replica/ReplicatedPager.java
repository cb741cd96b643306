package io.machxp.pager.replica;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.replica.PagerLogEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;

/**
 * One replica of a replicated pager ({@code machxp pager --replicas}, xp-spec 13): an Apache Ratis
 * server whose state machine is the pager core ({@link PagerStateMachine}, {@link ReplicaCore}),
 * and an XP server for kernels ({@link ReplicaXpService}).
 *
 * <pre>
 *  kernel --XP--> leader's XpService --append--> Raft log (leader + followers, majority commits)
 *                                                    |
 *           every replica applies each entry to its own PagerCore, in log order
 *                                                    |
 *  kernel <--XP-- the leader's streams  <--  the core's sends (followers: no stream, dropped)
 * </pre>
 *
 * The leader appends three kinds of entry besides kernels' messages ({@link LeaderTicker}): a
 * genesis when it leads and has not applied one (the first one applied builds every replica's
 * core, later ones are ignored), a leader_started once per term before it takes kernels (every
 * live session's lease runs a full lease from the takeover), and a tick when the core's first
 * timer is due by the group clock (so that leases run out the same way on every replica). Every
 * entry carries the leader's reading of the group clock ({@link GroupClock}: from its applied
 * leader_started on its monotonic clock, never a wall clock). The Raft log is kept in {@code STORE/raft-ID} with {@code --store} (then a group
 * that stops whole starts again where it was), else in a directory removed on close; snapshots
 * bound it ({@link RaftSettings}, {@link PagerStateMachine}). Each entry is synced to disk before
 * it counts, or with {@link RaftSync#NONE} only written to the page cache; a store written so is
 * refused after its host restarted ({@link UnsyncedLog}).
 *
 * <p>Its parts: {@link ReplicaLeadership} (the appender while it leads, whether it takes kernels),
 * {@link ReplicaTicks} (what its ticker thread does every few milliseconds); this class builds
 * them and the two servers, answers the kernels' service ({@link ReplicaXpService.Group}), and
 * says where it stands.
 */
public final class ReplicatedPager implements AutoCloseable, ReplicaXpService.Group {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicatedPager.class);

    private final PagerConfig config;
    private final ReplicaConfig replicas;
    private final RaftGroup group;
    private final RaftPeerId self;
    private final ReplicaStreams streams;
    private final ReplicaCore replica;
    private final PagerStats stats = new PagerStats();
    private final RaftServer raft;
    private final PagerStateMachine stateMachine;
    private final Server xp;
    /**
     * The XP server's one event loop: its sockets, and the service's callbacks run inline on it
     * (gRPC's direct executor), so a kernel's message is appended to the Raft log on the thread
     * that read it, as the unreplicated pager handles it on the thread that read it. With gRPC's
     * default executor each message the loop read was handed to a pooled thread to be appended
     * (a wake-up and a queue transfer per burst, measured in bench/results/perf21).
     */
    private final io.netty.channel.EventLoopGroup xpLoop;
    private final Path raftDir;
    private final boolean removeRaftDir;
    private final ScheduledExecutorService tickerThread;
    /** The leader's reading of the group clock (the applying thread sets its base at each leader_started). */
    private final GroupClock clock = new GroupClock();
    private final LeaderTicker ticker;
    /** The appender while this replica leads, and whether it takes kernels. */
    private final ReplicaLeadership leadership;
    /** What the ticker thread does. */
    private final ReplicaTicks ticks;

    private ReplicatedPager(PagerConfig config, ReplicaConfig replicas, ReplicaStreams streams) throws IOException {
        this.streams = streams;
        this.config = config;
        this.replicas = replicas;
        this.self = RaftPeerId.valueOf(replicas.self());
        List<RaftPeer> peers = new ArrayList<>();
        for (String id : replicas.replicas().keySet()) {
            peers.add(RaftPeer.newBuilder().setId(id).setAddress(replicas.raftAddress(id)).build());
        }
        UUID groupUuid = UUID.nameUUIDFromBytes(("machxp pager " + config.name() + " " + replicas.replicas())
                .getBytes(StandardCharsets.UTF_8));
        this.group = RaftGroup.valueOf(RaftGroupId.valueOf(groupUuid), peers);
        this.removeRaftDir = config.storeDir() == null;
        this.raftDir = removeRaftDir ? Files.createTempDirectory("machxp-raft-" + replicas.self())
                : config.storeDir().resolve("raft-" + replicas.self());
        if (!removeRaftDir) {
            // A log on a store written unsynced is trusted only within the boot that wrote it (UnsyncedLog).
            UnsyncedLog.check(raftDir, replicas.raftSync(), UnsyncedLog::bootId,
                    "pager " + config.name() + " replica " + replicas.self());
        }
        this.replica = new ReplicaCore(config.name(), String.valueOf(replicas.self()), config.pageSize(), config.objects(),
                config.lease().toNanos(), streams, stats).answerDeadline(config.answerDeadlineNanos()).groupClock(clock);
        RaftProperties props = RaftSettings.of(replicas, raftDir, config.bindHost(),
                port(replicas.raftAddress(replicas.self())));
        this.ticker = new LeaderTicker(replica);
        this.stateMachine = new PagerStateMachine(replica, this::leaderChanged);
        // A replica restarted on its store recovers its Raft log, term and vote (Ratis's default,
        // FORMAT, refuses a directory that exists); a first start formats an empty one.
        boolean recover = Files.isDirectory(raftDir.resolve(group.getGroupId().getUuid().toString()));
        this.raft = RaftServer.newBuilder().setServerId(self).setGroup(group).setProperties(props)
                .setOption(recover ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
                .setStateMachine(stateMachine).build();
        this.leadership = new ReplicaLeadership(config.name(), raft, group.getGroupId(), self, replica, clock, ticker,
                streams);
        this.ticks = new ReplicaTicks(config, replicas.self(), replica, clock, ticker, streams, leadership, this::logStatus);
        this.xpLoop = io.machxp.pager.net.NettyTransport.oneLoop(xpThreadPrefix(config.name(), replicas.self()));
        this.xp = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindHost(),
                        replicas.xpPort(replicas.self())), config.transport().serverCredentials(config.bindHost(),
                        "pager " + config.name() + " replica " + replicas.self()))
                .bossEventLoopGroup(xpLoop).workerEventLoopGroup(xpLoop)
                .channelType(io.machxp.pager.net.NettyTransport.serverChannel())
                .directExecutor() // appended on the loop's thread (xpLoop); nothing in the service waits on the loop
                // Kernels ping their connection every 10 s, also while idle (a spare for a resume):
                // permitted, as by the unreplicated pager, so that no GOAWAY cuts them.
                .permitKeepAliveTime(5, TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true)
                .maxInboundMessageSize(RaftSettings.MAX_KERNEL_MESSAGE_BYTES) // the log takes an entry of it (RaftSettings)
                // As many calls per connection as the unreplicated pager takes (xp-spec 1.1).
                .maxConcurrentCallsPerConnection(io.machxp.pager.Pager.MAX_CALLS_PER_CONNECTION)
                .addService(io.grpc.ServerInterceptors.intercept(new ReplicaXpService(this, streams,
                        new EarlyAsks(replica.holders(), streams), config.lease().toNanos(), System::nanoTime), io.machxp.pager.net.CallerPeer.INTERCEPTOR)).build();
        this.tickerThread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pager-" + config.name() + "-ticker-" + replicas.self());
            t.setDaemon(true);
            return t;
        });
        // A kernel that does not read: its session closes on every replica (appended from the
        // ticker's thread, not from the applying thread that counted the bytes), and its stream
        // ends EAGAIN once the close is in the log's order (ReplicaStreams.UnreadEnded).
        streams.onUnreadEnded((id, end) -> {
            try {
                tickerThread.execute(() -> {
                    try {
                        leadership.append(PagerLogEntry.newBuilder().setSessionClosed(
                                io.machxp.proto.replica.SessionClosed.newBuilder().setSessionId(id)));
                    } finally {
                        end.run();
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                log.debug("pager {} replica {}: closing; session {} stays until its lease ends", config.name(),
                        replicas.self(), id);
                end.run();
            }
        });
    }

    /** Starts this replica: its Raft server (which finds or elects a leader) and its XP server. */
    public static ReplicatedPager start(PagerConfig config, ReplicaConfig replicas) throws IOException {
        return start(config, replicas, new ReplicaStreams(config.unreadLimits()));
    }

    /** With the kernels' streams held by {@code streams} (tests: other bounds for a kernel that does not read). */
    static ReplicatedPager start(PagerConfig config, ReplicaConfig replicas, ReplicaStreams streams) throws IOException {
        if (config.lease().isZero()) {
            // A broken stream appends nothing (the kernel may resume at the next leader), so only a
            // lease ends the session of a kernel that crashed; without one no session token is given
            // either, so nobody resumes: the crashed kernel's futexes and name would be held for good.
            throw new IllegalArgumentException("pager " + config.name() + " replica " + replicas.self() + ": a "
                    + "replicated pager needs a lease (--lease-ms above 0): a kernel's broken stream is not in its log, "
                    + "so without a lease a kernel that crashed would keep its session, its futexes and its name for "
                    + "the group's life");
        }
        ReplicatedPager p = new ReplicatedPager(config, replicas, streams);
        int xpPort = replicas.xpPort(replicas.self());
        try {
            RaftStart.start(p.raft); // a Raft port in use is an exception here, not Ratis's System.exit
        } catch (RaftStart.RpcNotStarted e) {
            p.close();
            throw ReplicaPortInUse.cannotListen(config.name(), config.bindHost(), replicas.self(), xpPort + 1, "its Raft port (the next after its XP port " + xpPort + ")", e);
        } catch (IOException e) {
            p.close();
            throw new IOException("pager " + config.name() + " replica " + replicas.self() + ": its Raft server did not "
                    + "start: " + e.getMessage(), e);
        }
        try {
            p.xp.start();
        } catch (IOException e) {
            p.close();
            throw ReplicaPortInUse.cannotListen(config.name(), config.bindHost(), replicas.self(), xpPort, "its XP port", e);
        }
        p.tickerThread.scheduleWithFixedDelay(p.ticks::tick, ReplicaTicks.TICK_CHECK_MILLIS, ReplicaTicks.TICK_CHECK_MILLIS,
                TimeUnit.MILLISECONDS);
        log.info("pager {} replica {} serving {} on {} (Raft on port {}, log in {}, {}), one of {}", config.name(),
                replicas.self(), config.objects().keySet(), replicas.address(), replicas.xpPort(replicas.self()) + 1,
                p.raftDir, replicas.raftSync().label, replicas.replicas());
        return p;
    }

    /** The name its XP server's event-loop thread starts with ({@link #xpLoop}). */
    static String xpThreadPrefix(String pagerName, String replicaId) {
        return "pager-" + pagerName + "-xp-" + replicaId;
    }

    private static int port(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    DivisionInfo info() {
        return leadership.info();
    }

    /** Whether this replica leads its group now. */
    public boolean isLeader() {
        return leadership.isLeader();
    }

    /** This replica's id. */
    @Override
    public String id() {
        return replicas.self();
    }

    /** This replica's XP address, "host:port". */
    public String address() {
        return replicas.address();
    }

    /** Ratis's notice: {@code leader} leads now, or (null) none known ({@link ReplicaLeadership#leaderChanged}). */
    private void leaderChanged(RaftPeerId leader) {
        leadership.leaderChanged(leader);
    }

    @Override
    public boolean takesKernels() {
        return leadership.takesKernels();
    }

    /** A new stream's session ({@link ReplicaLeadership#openSession}). */
    @Override
    public Opened openSession(java.util.function.LongConsumer hold, String peer) {
        return leadership.openSession(hold, peer);
    }

    @Override
    public String[] leader() {
        RaftPeerId leader;
        try {
            leader = info().getLeaderId();
        } catch (UncheckedIOException e) {
            return null;
        }
        if (leader == null || leader.equals(self) || !replicas.replicas().containsKey(leader.toString())) {
            return null;
        }
        return new String[] {replicas.replicas().get(leader.toString()), leader.toString()};
    }

    @Override
    public CompletableFuture<Boolean> append(PagerLogEntry.Builder entry) {
        return leadership.append(entry);
    }

    /** Completes with why once this replica's configuration refused the group's genesis (the process should end). */
    public CompletableFuture<String> refusedGenesis() {
        return ticks.refusedGenesis();
    }

    /** Whether this replica has been closed. */
    public boolean closed() {
        return leadership.closed();
    }

    /**
     * What this replica's core counted: every replica applies the same log, so each counts every
     * XP message the group received and the messages its core sent (only the leader's reach a kernel).
     */
    public PagerStats stats() {
        return stats;
    }

    /** Kernels' streams held now (the leader's). */
    public int streamCount() {
        return streams.count();
    }

    /**
     * Where this replica's log and snapshots stand: the last entry applied, the first entry its log
     * still has (entries before it were purged), the latest snapshot, and how many snapshots the
     * leader installed here. For tests and tools.
     */
    public record LogStatus(long applied, long logStart, long latestSnapshot, int installed) {}

    public LogStatus logStatus() throws IOException {
        RaftServer.Division d = raft.getDivision(group.getGroupId());
        var applied = stateMachine.getLastAppliedTermIndex();
        return new LogStatus(applied == null ? -1 : applied.getIndex(), d.getRaftLog().getStartIndex(),
                stateMachine.latestSnapshotIndex(), stateMachine.installed());
    }

    /**
     * One line on where this replica stands, for an operator or a failed test: its Raft role, term
     * and leader; as a leader, whether Ratis says it is ready, whether it has its appender and has
     * applied its leader_started (it takes kernels only with all three) and whether a ticker entry
     * is on its way; as a follower, how long since it heard from a leader and how many of the
     * leader's requests it is still handling (Ratis starts no election while one is); its log.
     */
    public String describe() {
        if (leadership.closed()) {
            return "replica " + replicas.self() + ": closed";
        }
        try {
            DivisionInfo info = info();
            var role = info.getRoleInfoProto();
            StringBuilder b = new StringBuilder("replica ").append(replicas.self()).append(": Raft server ")
                    .append(info.getLifeCycleState()).append(", ")
                    .append(info.getCurrentRole()).append(" in term ").append(info.getCurrentTerm())
                    .append(", leader ").append(info.getLeaderId());
            if (info.isLeader()) {
                b.append(", ready ").append(info.isLeaderReady()).append(", appender ").append(leadership.appender() != null)
                        .append(", leader_started applied ").append(ticker.announced(info.getCurrentTerm()))
                        .append(", ticker entry in flight ").append(ticker.inFlight());
            } else if (role.hasFollowerInfo()) {
                b.append(", last heard from a leader ")
                        .append(role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs())
                        .append(" ms ago, requests in hand ").append(role.getFollowerInfo().getOutstandingOp());
            }
            return b.append(", ").append(logStatus()).toString();
        } catch (IOException | RuntimeException e) {
            return "replica " + replicas.self() + ": " + e;
        }
    }

    /**
     * Asks the group, through this replica (its leader), to make replica {@code to} its leader (a
     * rolling restart moves leadership away first; tests choose who leads).
     *
     * @throws IOException if the group did not move its leadership within {@code timeout}
     */
    public void transferLeadership(String to, java.time.Duration timeout) throws IOException {
        try (RaftClient c = RaftClient.newBuilder().setRaftGroup(group).setLeaderId(self)
                .setProperties(new RaftProperties()).build()) {
            var reply = c.admin().transferLeadership(RaftPeerId.valueOf(to), timeout.toMillis());
            if (!reply.isSuccess()) {
                throw new IOException("pager " + config.name() + ": leadership did not move to replica " + to + ": "
                        + reply.getException());
            }
        }
    }

    /** Stops this replica, as a crash would for the others: no word to the group, streams cut. */
    @Override
    public void close() {
        leadership.close(); // first: nothing more is appended through this replica, as in a crash
        // No interrupt: a tick under way may be inside a Raft append, where Ratis's log worker
        // takes an interrupt while it waits for room in its queue as a failure and closes the
        // division with an ERROR (review F6 of ratis-latency). It runs to its end, or fails as
        // Raft closes below; no tick starts after this.
        tickerThread.shutdown();
        xp.shutdownNow();
        try {
            raft.close();
            if (!removeRaftDir) {
                UnsyncedLog.syncAndForget(raftDir); // a clean stop leaves a log a host restart keeps
            }
        } catch (IOException e) {
            log.warn("pager {} replica {}: closing Raft: {}", config.name(), replicas.self(), e.getMessage());
        }
        try {
            xp.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        xpLoop.shutdownGracefully(0, 5, TimeUnit.SECONDS); // its sockets are closed: nothing is left to run
        if (removeRaftDir) {
            deleteTree(raftDir);
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log.debug("removing {}: {}", dir, e.getMessage());
        }
    }
}
