package io.machxp.sim;

import io.machxp.pager.core.PagerStats;
import io.machxp.pager.replica.EarlyAsks;
import io.machxp.pager.replica.GroupClock;
import io.machxp.pager.replica.LeaderTicker;
import io.machxp.pager.replica.ReplicaCore;
import io.machxp.pager.replica.ReplicaStreams;
import io.machxp.pager.replica.ReplicaXpService;
import io.machxp.pager.replica.SessionIds;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.PagerLogEntry;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One replica of a simulated replicated pager, one run of its process (a restart makes a new
 * one): the real replica code of {@code machxp pager --replicas} - its {@link ReplicaCore} fed the
 * committed log, its {@link ReplicaStreams} holding the kernels' streams, its
 * {@link ReplicaXpService} taking them (redirecting when it does not lead, hinting a futex's holder
 * as a lock_futex arrives: {@link EarlyAsks}), its
 * {@link LeaderTicker} - on the modelled Raft log ({@link SimRaft}) instead of Ratis. What
 * {@code ReplicatedPager} does with Ratis, this does with the model: it is the group the XP
 * service appends through, and a replica that stops leading ends its kernels' streams.
 */
final class SimReplica implements SimRaft.Member, ReplicaXpService.Group {
    final int id;
    private final SimReplicaGroup group;
    private final SimRaft raft;
    final ReplicaStreams streams = new ReplicaStreams();
    /** What this replica's core counted (every replica applies the same log: the same counts). */
    final PagerStats stats = new PagerStats();
    final ReplicaCore core;
    final ReplicaXpService xp;
    /** The leader's early asks (hints to a futex's holder when a lock_futex arrives), as ReplicatedPager's. */
    final EarlyAsks earlyAsks;
    private final LeaderTicker ticker;
    private final SessionIds sessionIds = new SessionIds();
    /** The leader's reading of the group clock, on this replica's modelled monotonic clock (as ReplicatedPager's). */
    private final GroupClock clock;

    SimReplica(SimReplicaGroup group, SimRaft raft, int id, int pageSize, Map<String, Long> objects, long leaseNanos) {
        this.group = group;
        this.raft = raft;
        this.id = id;
        this.clock = new GroupClock(() -> group.monotonic(id));
        this.core = new ReplicaCore(SimReplicaGroup.name(id), pageSize, objects, leaseNanos, streams, stats)
                .answerDeadline(group.answerDeadlineNanos()).futexRecords(group.futexRecords()).groupClock(clock);
        this.earlyAsks = new EarlyAsks(core.holders(), streams);
        this.xp = new ReplicaXpService(this, streams, earlyAsks, leaseNanos, () -> group.monotonic(id)); // the apply rate in virtual time
        this.ticker = new LeaderTicker(core);
    }

    /** The leader's ticker (ReplicatedPager polls every 5 ms; here every tick interval of virtual time). */
    void tick() {
        if (raft.up(id) && raft.role(id) == SimRaft.Role.LEADER) {
            // The genesis names the replicas' objects, page size, lease and deadline, as ReplicatedPager's.
            ticker.check(clock.now(raft.term(id), core.clock()), raft.term(id), () -> core.configuredIn(group.genesis()),
                    this::append);
        }
    }

    @Override
    public void apply(PagerLogEntry entry) {
        if (entry != null) {
            core.apply(entry);
        }
    }

    /** As ReplicatedPager on Ratis's notice: a replica that does not lead ends its kernels' streams. */
    @Override
    public void leaderChanged(int leader) {
        if (leader != id) {
            streams.endAll("replica " + id() + " no longer leads its pager group (the leader is now "
                    + (leader < 0 ? "unknown" : SimReplicaGroup.name(leader)) + "): the kernel resumes its session "
                    + "at the new leader");
        }
    }

    @Override
    public boolean takesKernels() {
        return raft.leaderReady(id) && ticker.announced(raft.term(id));
    }

    /** As ReplicatedPager's: the id of the leader's term, drawn with its session_opened's append (one thread here). */
    @Override
    public Opened openSession(java.util.function.LongConsumer hold, String peer) {
        if (!takesKernels()) {
            return null;
        }
        long sessionId = sessionIds.next(raft.term(id));
        hold.accept(sessionId);
        return new Opened(sessionId, append(PagerLogEntry.newBuilder().setSessionOpened(
                io.machxp.proto.replica.SessionOpened.newBuilder().setSessionId(sessionId).setPeer(peer))));
    }

    @Override
    public String[] leader() {
        int leader = raft.leaderOf(id);
        if (leader < 0 || leader == id) {
            return null;
        }
        return new String[] {SimReplicaGroup.name(leader), SimReplicaGroup.name(leader)};
    }

    @Override
    public CompletableFuture<Boolean> append(PagerLogEntry.Builder entry) {
        if (raft.role(id) != SimRaft.Role.LEADER) {
            return CompletableFuture.completedFuture(false);
        }
        // As ReplicatedPager: the genesis carries the first leader's wall time (an origin only), every
        // other entry the group clock from this leader's leader_started on its monotonic clock.
        long stamp = entry.hasGenesis() ? Math.max(core.clock(), group.wallClock(id))
                : clock.now(raft.term(id), core.clock());
        return raft.append(id, entry.setClockNanos(stamp).build());
    }

    @Override
    public String id() {
        return SimReplicaGroup.name(id);
    }

    /** Builds a genesis for the group: token epoch 1, no grace (it starts with its kernels), a seeded secret. */
    static Genesis.Builder genesis(byte[] seed) {
        return Genesis.newBuilder().setTokenEpoch(1).setGraceNanos(0)
                .setTokenSeed(com.google.protobuf.ByteString.copyFrom(seed));
    }
}
