package io.machxp.pager.replica;

import io.machxp.proto.replica.PagerLogEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;

/**
 * A replica's leadership, for {@link ReplicatedPager}: the appender it writes its group's log
 * through while it leads ({@link LeaderAppender}, one per term), and whether it takes kernels.
 *
 * <pre>
 *  Ratis names this replica leader      a new appender for its term; the old one closed
 *  Ratis names another, or none         no appender; the kernels' streams end (they resume at the
 *                                         new leader)
 *  an append through c fails            refused for load while c's term still leads: AppendRefused
 *                                         (c kept); else a new appender if this replica still
 *                                         leads, none if not (Ratis names it again)
 *  a new stream's session               its id drawn for c's term under c's lock, its
 *                                         session_opened appended through c
 *  every entry                          stamped with the group clock of c's term, and that term
 *  closed                               no appender again
 * </pre>
 * It takes kernels only while its appender is open, Ratis says it is the ready leader of that
 * appender's term, and that term's leader_started is applied ({@link LeaderTicker#announced}).
 * Ratis's notices and the appends' completions come on Ratis's threads, the ticker's entries on
 * the ticker thread: the appender is swapped under this object's lock, and nothing waits there.
 */
final class ReplicaLeadership {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicatedPager.class);

    private final String pagerName;
    private final RaftServer raft;
    private final RaftGroupId groupId;
    private final RaftPeerId self;
    private final ReplicaCore replica;
    private final GroupClock clock;
    private final LeaderTicker ticker;
    private final ReplicaStreams streams;
    private final SessionIds sessionIds = new SessionIds();
    /** How this replica appends while it leads; null while it does not. */
    private volatile LeaderAppender appender;
    private volatile boolean closed;

    ReplicaLeadership(String pagerName, RaftServer raft, RaftGroupId groupId, RaftPeerId self, ReplicaCore replica,
            GroupClock clock, LeaderTicker ticker, ReplicaStreams streams) {
        this.pagerName = pagerName;
        this.raft = raft;
        this.groupId = groupId;
        this.self = self;
        this.replica = replica;
        this.clock = clock;
        this.ticker = ticker;
        this.streams = streams;
    }

    DivisionInfo info() {
        try {
            return raft.getDivision(groupId).getInfo();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether this replica leads its group now. */
    boolean isLeader() {
        try {
            return info().isLeader();
        } catch (UncheckedIOException e) {
            return false; // closing
        }
    }

    /** The appender now; null while this replica does not lead. */
    LeaderAppender appender() {
        return appender;
    }

    /** Whether {@link #close} ran. */
    boolean closed() {
        return closed;
    }

    /**
     * Ratis's notice: {@code leader} leads now, or (null) this replica stopped leading and no
     * leader is known yet ({@link PagerStateMachine#notifyNotLeader}). The new leader makes an
     * appender of its own and appends a genesis; a replica that led and no longer does ends its
     * kernels' streams and closes its appender (a flag: Ratis calls both holding its division's
     * lock, and nothing here waits).
     */
    void leaderChanged(RaftPeerId leader) {
        boolean leads;
        LeaderAppender old;
        synchronized (this) {
            leads = leader != null && self.equals(leader) && !closed;
            old = appender;
            appender = leads ? newAppender() : null;
        }
        closeQuietly(old);
        if (leads) {
            log.info("pager {}: replica {} leads its group now (term {})", pagerName, self, term());
        } else {
            streams.endAll("replica " + self + " no longer leads its pager group (the leader is now "
                    + (leader == null ? "unknown" : leader) + "): the kernel resumes its session at the new leader");
        }
    }

    /** The Raft term this replica is in; -1 while closing. */
    private long term() {
        try {
            return info().getCurrentTerm();
        } catch (UncheckedIOException e) {
            return -1;
        }
    }

    /**
     * The leader's appender into its own Raft server ({@link LeaderAppender}): entries in the
     * order sent, no retries (an entry this replica cannot append, as it no longer leads, must
     * fail, not go to the next leader behind the kernel's back).
     */
    private LeaderAppender newAppender() {
        return new LeaderAppender(raft, groupId, self, term());
    }

    /**
     * An append through {@code failed} failed: a replica that still leads makes a new appender
     * (the streams whose entries failed have ended), so that the entries of one appender form a
     * run with no hole that a later entry of the same appender could follow.
     */
    private void replaceAppender(LeaderAppender failed) {
        synchronized (this) {
            if (appender != failed || closed) {
                return;
            }
            // One that no longer leads keeps none until Ratis names it leader again (leaderChanged):
            // Ratis steps a leader down without notice, and a closed appender kept here had the ticker
            // append through it, each append failing at once, every 5 ms, until the next leader was known.
            appender = isLeader() ? newAppender() : null;
        }
        closeQuietly(failed);
    }

    /**
     * Closes an appender no longer in {@link #appender}: nothing more is appended through it. Says
     * at INFO how many entries it appended in how many Raft entries ({@link AppendBatches}).
     */
    private void closeQuietly(LeaderAppender c) {
        if (c != null) {
            c.close();
            long[] counts = c.counts();
            if (counts[0] > 0) {
                log.info("pager {}: replica {} appended {} entries in {} Raft entries in term {}", pagerName, self,
                        counts[0], counts[1], c.term());
            }
        }
    }

    /** Whether this replica leads and Ratis takes its appends (its term's first entry applied). */
    boolean leaderReady() {
        try {
            return info().isLeaderReady();
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /** Whether this replica takes kernels now ({@link ReplicaXpService.Group#takesKernels}). */
    boolean takesKernels() {
        LeaderAppender c = appender;
        return c != null && takesKernels(c);
    }

    /** Whether this replica leads {@code c}'s term still, is ready, and has that term's leader_started applied. */
    private boolean takesKernels(LeaderAppender c) {
        try {
            DivisionInfo info = info();
            return !c.closed() && info.isLeaderReady() && info.getCurrentTerm() == c.term() && ticker.announced(c.term());
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /**
     * A new stream's session (ReplicaXpService.Group#openSession): its id drawn for the term of the
     * appender its session_opened goes through, under that appender's lock, so that the id's term
     * and the append's are one; refused if the term moved (the kernel is redirected).
     */
    ReplicaXpService.Group.Opened openSession(java.util.function.LongConsumer hold, String peer) {
        LeaderAppender c = appender;
        if (c == null) {
            return null;
        }
        synchronized (c) {
            if (!takesKernels(c)) {
                return null;
            }
            long id;
            try {
                id = sessionIds.next(c.term());
            } catch (IllegalStateException older) {
                return null; // a newer term's ids were drawn here: this appender's term is over
            }
            hold.accept(id);
            return new ReplicaXpService.Group.Opened(id, append(c, PagerLogEntry.newBuilder().setSessionOpened(
                    io.machxp.proto.replica.SessionOpened.newBuilder().setSessionId(id).setPeer(peer))));
        }
    }

    /** Appends {@code entry} through the appender now (none: completes false). */
    CompletableFuture<Boolean> append(PagerLogEntry.Builder entry) {
        return append(appender, entry);
    }

    /** Appends {@code entry} through {@code c}, stamped with the group clock of {@code c}'s term. */
    CompletableFuture<Boolean> append(LeaderAppender c, PagerLogEntry.Builder entry) {
        if (c == null) {
            return CompletableFuture.completedFuture(false);
        }
        entry.setClockNanos(groupNow(c, entry)).setTerm(c.term()); // the term: a stalled append's stamp is ignored
        return c.send(PagerStateMachine.message(entry.build())).handle((reply, e) -> {
            boolean appended = e == null && reply.isSuccess();
            if (!appended) {
                // Refused for load, still leading c's term: completes exceptionally; else a step-down's (tb LOW-3)
                if (takesKernels(c)) {
                    AppendRefused.throwIfRefused(reply, e);
                }
                replaceAppender(c);
            }
            return appended;
        });
    }

    /**
     * The group clock as the leader of {@code c}'s term stamps an entry now ({@link GroupClock});
     * a genesis, the first entry of a group, is stamped with this machine's wall time, an origin
     * only (nothing compares the group clock with a wall clock).
     */
    private long groupNow(LeaderAppender c, PagerLogEntry.Builder entry) {
        long applied = replica.clock();
        if (entry.hasGenesis()) {
            Instant now = Instant.now();
            return Math.max(applied, now.getEpochSecond() * 1_000_000_000L + now.getNano());
        }
        return clock.now(c.term(), applied);
    }

    /** Closed: no appender from now on; the one it had is closed first, as in a crash. */
    void close() {
        LeaderAppender last;
        synchronized (this) {
            closed = true;
            last = appender;
            appender = null;
        }
        closeQuietly(last);
    }
}
