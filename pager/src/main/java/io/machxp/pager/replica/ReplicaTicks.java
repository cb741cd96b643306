package io.machxp.pager.replica;

import io.machxp.pager.PagerConfig;
import io.machxp.proto.replica.Genesis;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * What a replica's ticker thread does, for {@link ReplicatedPager}: it runs {@link #tick} every
 * {@link #TICK_CHECK_MILLIS} ms, and only that thread changes this object's state. Other threads
 * read one field: the future {@code refused} ({@link #refusedGenesis}, through ReplicatedPager, for
 * {@code PagerCommand}), which the ticker completes.
 *
 * <pre>
 *  each tick     the Raft server stopped on its own: said once ({@link RaftStopReport})
 *                a genesis that built no core here: {@link #refusedGenesis} completes with why
 *                leading and ready: the leader's entries when due ({@link LeaderTicker}: a
 *                  genesis until one is applied, leader_started once a term, a tick when the
 *                  core's first timer is due), through the appender of its term
 *  each second   a replica applying nothing more while its Raft server runs: said once
 *                  ({@link ApplyStallWatch})
 *  each 100 ms   kernels that do not read ({@link ReplicaStreams#checkUnread})
 * </pre>
 * A tick that throws is logged and the next runs as usual.
 */
final class ReplicaTicks {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicatedPager.class);
    /** How often the leader looks whether a timer of the core is due. */
    static final long TICK_CHECK_MILLIS = 5;
    /**
     * How long a replica's last applied entry may stay behind the start of its log before it is
     * said to apply nothing more: longer than a snapshot install takes to reload (the gap is there
     * from the end of an install until its reload).
     */
    static final long APPLY_STALL_PATIENCE_MILLIS = 30_000;
    /** How often the ticker looks for kernels that do not read (ReplicaStreams). */
    private static final long UNREAD_CHECK_MILLIS = 100;

    /** Where this replica's log stands ({@link ReplicatedPager#logStatus}). */
    interface LogReader {
        ReplicatedPager.LogStatus read() throws IOException;
    }

    private final PagerConfig config;
    private final String self;
    private final ReplicaCore replica;
    private final GroupClock clock;
    private final LeaderTicker ticker;
    private final ReplicaStreams streams;
    private final ReplicaLeadership leadership;
    private final LogReader logStatus;
    /** Says once that the Raft server stopped on its own. */
    private final RaftStopReport raftStop = new RaftStopReport();
    /** Completed with why, once a genesis built no core here: its Raft server closed. */
    private final CompletableFuture<String> refused = new CompletableFuture<>();
    /** A replica applying nothing more while its Raft server runs ({@link #reportIfApplyStalled}). */
    private final ApplyStallWatch applyStall = new ApplyStallWatch(APPLY_STALL_PATIENCE_MILLIS);
    /** When {@link #reportIfApplyStalled} looks next. */
    private long nextApplyCheckMillis;
    /** When the ticker looks next for kernels that do not read. */
    private long nextUnreadCheckMillis;

    ReplicaTicks(PagerConfig config, String self, ReplicaCore replica, GroupClock clock, LeaderTicker ticker,
            ReplicaStreams streams, ReplicaLeadership leadership, LogReader logStatus) {
        this.config = config;
        this.self = self;
        this.replica = replica;
        this.clock = clock;
        this.ticker = ticker;
        this.streams = streams;
        this.leadership = leadership;
        this.logStatus = logStatus;
    }

    /** Completes with why once this replica's configuration refused the group's genesis. */
    CompletableFuture<String> refusedGenesis() {
        return refused;
    }

    /** The leader's ticker ({@link LeaderTicker}): a genesis until one is applied, then ticks when due. */
    void tick() {
        try {
            raftStop.check(leadership::closed, leadership::info, "pager " + config.name() + " replica " + self);
            reportIfApplyStalled();
            if (replica.genesisFailed() != null && !leadership.closed()) {
                refused.complete(replica.genesisFailed());
            }
            // Not before Ratis says the leader is ready: it refuses a leader's appends until its
            // first entry of the term is applied (LeaderNotReadyException), and each refusal
            // replaced the client, every 5 ms, for the whole takeover.
            LeaderAppender c = leadership.appender();
            if (c != null && leadership.leaderReady()) {
                // The ticker's due time and its leader_started are the appender's term's: one made
                // for an older term appends nothing (its entries fail, and a new appender follows).
                ticker.check(clock.now(c.term(), replica.clock()), c.term(), this::genesis,
                        entry -> leadership.append(c, entry));
            }
            long nowMillis = System.nanoTime() / 1_000_000;
            if (nowMillis >= nextUnreadCheckMillis) {
                nextUnreadCheckMillis = nowMillis + UNREAD_CHECK_MILLIS;
                streams.checkUnread();
            }
        } catch (RuntimeException e) {
            log.warn("pager {} replica {}: tick failed: {}", config.name(), self, e.toString());
        }
    }

    /**
     * Once a second: whether this replica still applies ({@link ApplyStallWatch}: a reload lost to
     * a Ratis race leaves a replica that votes but applies nothing, and, elected, never becomes
     * ready). Said once, as an error an operator can act on.
     */
    private void reportIfApplyStalled() {
        long now = System.nanoTime() / 1_000_000;
        if (leadership.closed() || now - nextApplyCheckMillis < 0) {
            return;
        }
        nextApplyCheckMillis = now + 1_000;
        ReplicatedPager.LogStatus status;
        try {
            status = logStatus.read();
        } catch (IOException | RuntimeException e) {
            return; // a stopped Raft server is RaftStopReport's
        }
        if (applyStall.observe(now, status.applied(), status.logStart()) && !leadership.closed()) {
            log.error("pager {} replica {}: applies nothing more: its last applied entry is {} but its log begins at {} "
                    + "(a snapshot install whose reload Ratis lost); it still votes, and elected would never be ready: "
                    + "restart this replica (it loads its latest snapshot)", config.name(), self,
                    status.applied(), status.logStart());
        }
    }

    /**
     * A genesis of this group ({@link GroupGenesis}): the first leader's start time as token epoch
     * (seconds since 2024, as an unreplicated pager's; its millisecond as the first token's low
     * half), a secret seed from a secure source, this replica's configuration (objects included).
     */
    private Genesis.Builder genesis() {
        byte[] seed = new byte[32];
        new SecureRandom().nextBytes(seed);
        return GroupGenesis.draw(replica.configuredIn(Genesis.newBuilder()), Instant.now(), seed,
                config.freshStart() ? 0 : config.lease().toNanos());
    }
}
