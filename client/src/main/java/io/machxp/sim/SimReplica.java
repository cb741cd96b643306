package io.machxp.sim;

import io.machxp.pager.core.PagerStats;
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
 * {@link ReplicaXpService} taking them (redirecting when it does not lead), its
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
    private final LeaderTicker ticker;
    private final SessionIds sessionIds = new SessionIds();

    SimReplica(SimReplicaGroup group, SimRaft raft, int id, int pageSize, Map<String, Long> objects, long leaseNanos) {
        this.group = group;
        this.raft = raft;
        this.id = id;
        this.core = new ReplicaCore(SimReplicaGroup.name(id), pageSize, objects, leaseNanos, streams, stats)
                .answerDeadline(group.answerDeadlineNanos());
        this.xp = new ReplicaXpService(this, streams);
        this.ticker = new LeaderTicker(core);
    }

    /** The leader's ticker (ReplicatedPager polls every 5 ms; here every tick interval of virtual time). */
    void tick() {
        if (raft.up(id) && raft.role(id) == SimRaft.Role.LEADER) {
            ticker.check(group.wallClock(id), raft.term(id), group::genesis, this::append);
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

    @Override
    public long newSessionId() {
        return sessionIds.next(raft.term(id));
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
        return raft.append(id, entry.setClockNanos(group.wallClock(id)).build());
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
