package io.machxp.sim;

import io.machxp.pager.core.PagerStats;
import io.machxp.pager.replica.AppendBatches;
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
 * committed log, its leader's appends grouped as a Ratis leader's are ({@link AppendBatches},
 * {@link #BATCHES_IN_FLIGHT} deep; one appender a term it leads, closed when it stops leading or
 * an append fails, as {@code ReplicaLeadership}'s), its {@link ReplicaStreams} holding the
 * kernels' streams, its {@link ReplicaXpService} taking them (redirecting when it does not lead, hinting a futex's holder
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

    /**
     * Raft entries of the appender appended and not yet applied before sends wait and go as one
     * batch: a Ratis leader's default ({@code AppendBatches.DEFAULT_IN_FLIGHT}), fixed here so that
     * a seed's run does not depend on a property.
     */
    static final int BATCHES_IN_FLIGHT = 2;
    /** The appender of the term this replica leads now (as a LeaderAppender), or null: none yet, or closed. */
    private AppendBatches<PagerLogEntry, Boolean> appender;
    /** The term {@link #appender} appends for: an older appender's entries never reach a newer term's log. */
    private long appenderTerm = -1;

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
            closeAppender(appender); // what waits in it fails at once (its streams end below, or as they fail)
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
        // other entry the group clock from this leader's leader_started on its monotonic clock;
        // stamped when sent, whether it goes at once or waits for a batch.
        long stamp = entry.hasGenesis() ? Math.max(core.clock(), group.wallClock(id))
                : clock.now(raft.term(id), core.clock());
        group.batches.sent++;
        return appender().send(entry.setClockNanos(stamp).build());
    }

    /** The appender of this replica's term now: a new one when it leads a new term or the last one closed. */
    private AppendBatches<PagerLogEntry, Boolean> appender() {
        long term = raft.term(id);
        if (appender == null || appenderTerm != term) {
            closeAppender(appender);
            java.util.concurrent.atomic.AtomicReference<AppendBatches<PagerLogEntry, Boolean>> made =
                    new java.util.concurrent.atomic.AtomicReference<>();
            made.set(new AppendBatches<>(e -> appendOne(made.get(), term, e), SimReplica::batch,
                    PagerLogEntry::getSerializedSize, BATCHES_IN_FLIGHT, group::afterApply));
            appender = made.get();
            appenderTerm = term;
        }
        return appender;
    }

    /**
     * One Raft entry of appender {@code a}, made for {@code term}: appended while {@code a} is this
     * replica's appender and its term is still the replica's (a batch still waiting when its
     * appender closed is not); a failed append closes {@code a}, as ReplicaLeadership replaces its
     * appender, so that nothing sent after it goes through it.
     */
    private CompletableFuture<Boolean> appendOne(AppendBatches<PagerLogEntry, Boolean> a, long term, PagerLogEntry e) {
        SimReplicaGroup.Batches counts = group.batches;
        counts.raftEntries++;
        int entries = e.hasBatch() ? e.getBatch().getEntriesCount() : 1;
        if (e.hasBatch()) {
            counts.batches++;
        }
        CompletableFuture<Boolean> done = a != appender || raft.term(id) != term
                ? CompletableFuture.completedFuture(false) : raft.append(id, e);
        return done.thenApply(ok -> {
            if (!ok) {
                counts.entriesFailed += entries;
                counts.batchesFailed += e.hasBatch() ? 1 : 0;
                closeAppender(a);
            }
            return ok;
        });
    }

    /** {@code a} appends nothing more; what waits in it fails now (null: none). */
    private void closeAppender(AppendBatches<PagerLogEntry, Boolean> a) {
        if (a == null) {
            return;
        }
        if (a == appender) {
            appender = null;
        }
        a.close();
    }

    /** One log entry that applies {@code entries} in order (pager_replica.proto's Batch; its own stamp unset). */
    static PagerLogEntry batch(java.util.List<PagerLogEntry> entries) {
        return PagerLogEntry.newBuilder().setBatch(io.machxp.proto.replica.Batch.newBuilder().addAllEntries(entries))
                .build();
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
