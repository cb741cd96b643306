package io.machxp.pager.replica;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * The Ratis settings of one replica: where its log is, its Raft address, its election timeouts,
 * and how the log is bounded.
 *
 * <p>Bounding the log: a snapshot every {@link ReplicaConfig#snapshotEvery} entries applied
 * (Ratis's auto trigger), the last {@value #SNAPSHOTS_KEPT} kept; the log up to the latest
 * snapshot is purged. Ratis purges whole closed segments, so a segment holds about as many entries
 * as go between two snapshots ({@value #BYTES_PER_ENTRY} bytes each, from {@value #MIN_SEGMENT_KIB}
 * KiB to {@value #MAX_SEGMENT_MIB} MiB): the log keeps about two snapshots' worth of entries. A
 * replica that lags behind what the leader purged is sent the leader's snapshot (Ratis's
 * install-snapshot, on by default).
 *
 * <p>Durability: every entry is written and synced to disk (fdatasync) on a replica before that
 * replica acknowledges it, and an entry commits only when a majority acknowledged it (Ratis's
 * default, {@code raft.server.log.unsafe-flush.enabled} false, kept), unless
 * {@link ReplicaConfig#raftSync} is {@link RaftSync#NONE}: then unsafe-flush is on, and an entry
 * counts once written to the file (page cache), its sync left to a background thread. The kernel sees an entry's
 * effect only when it is applied, after it committed. What is turned off is Ratis's log metadata
 * ({@code raft.server.log.log-metadata.enabled}): an extra log entry, replicated and synced like
 * the others, each time the commit index moves, so that a restarted replica can apply what was
 * committed before it hears from a leader. Raft does not need the commit index on disk (a new
 * leader commits the entries of earlier terms by committing one of its own, which Ratis appends
 * when it leads); measured on the bench, these entries were 40% of the leader's entries and
 * syncs, each sync delaying the next kernel message's.
 *
 * <p>A follower's appends: Ratis's {@code raft.server.log.append-entries.compose.enabled} is turned
 * off. With it on (Ratis's default since RATIS-2235), a follower appends a request's entries to its
 * log only once the previous request's entries are synced, through the common fork-join pool and its
 * server executor; off, it appends them on the gRPC thread that received the request, in the order
 * the leader's stream carries them, and the log's worker writes and syncs them as for the leader's
 * own entries. Either way the follower answers only once the entries are synced (or, with
 * {@link RaftSync#NONE}, written). Ratis 3.1.3, which had only the chain and checked a request's
 * previous entry against the log as it arrived, refused 11-15% of the leader's requests
 * (INCONSISTENCY) while the previous one waited for its sync, and the leader sent them again.
 *
 * <p>Elections: Ratis's election timeouts (150 to 300 ms) unless {@link ReplicaConfig#electionTimeout}
 * says otherwise. A leader that no majority answered within the longest timeout steps down; Ratis
 * then keeps it from standing again for 10 s ({@code leader.step-down.wait-time}), which suits a
 * large group where another replica takes over. In a group of three with one replica down, the
 * one that stepped down is often the only one whose log is longest (the other has not taken its
 * last entries yet, so the other cannot win a vote from it): the group had no leader for 10 s
 * after each step-down (seen on a loaded host, where a follower that does not run for 300 ms makes
 * the leader step down). Here it may stand again after the longest election timeout.
 */
final class RaftSettings {
    /**
     * The largest kernel message a replica's XP server takes: gRPC's default limit, set explicitly
     * so that the log's bound below follows it; the unreplicated pager's is the same (a larger
     * reclaim travels in parts, xp-spec 9.4: each part is one message, so one entry here). A
     * replicated pager takes no reclaim: its core refuses one at its first part (ESTALE), so no
     * part is kept in its state.
     */
    static final int MAX_KERNEL_MESSAGE_BYTES = 4 << 20;
    /**
     * The largest log entry Ratis takes ({@code raft.server.log.appender.buffer.byte-limit}, by
     * default 4 MiB: a leader refuses a larger entry, "exceeds the max buffer limit", and its
     * appender could not send one). A kernel message of up to {@link #MAX_KERNEL_MESSAGE_BYTES}
     * travels in a kernel_message entry with its session id, index and clock, inside Ratis's own
     * wrapping (client and call ids, term, index): with Ratis's default, a message the XP server
     * took near 4 MiB failed its append, and the leader ended the kernel's stream as if it had
     * stopped leading; the kernel resumed and sent it again, without end. Room is left for the
     * wrapping; Ratis's write buffer (8 MiB by default) must hold the limit and 8 bytes more.
     */
    static final int MAX_ENTRY_BYTES = MAX_KERNEL_MESSAGE_BYTES + (64 << 10);
    /**
     * Appends the leader takes and has not applied ({@code raft.server.write.element-limit}, 4,096
     * by default; one past it is refused, {@link AppendRefused}). Set explicitly: at least every
     * kernel id's {@link AppendWindow#DEFAULT_IN_FLIGHT} (1,023 x 64 = 65,472); the kernels'
     * messages together stay 4,096 under it ({@link AppendBudget#GROUP_ENTRIES}).
     */
    static final int PENDING_WRITES = 1 << 16;
    /**
     * Bytes of those appends ({@code raft.server.write.byte-limit}, 64 MB by default). Set
     * explicitly: the kernels' messages together stay two largest entries under it
     * ({@link AppendBudget#GROUP_BYTES}): before, only each stream was bounded (under
     * {@link AppendWindow#MAX_BYTES} plus one entry), and 45-64 streams flushing 4 MiB
     * data_returns at once reached it (review late10 M2).
     */
    static final long PENDING_WRITE_BYTES = 256L << 20;
    static final int SNAPSHOTS_KEPT = 2;
    static final long BYTES_PER_ENTRY = 256;
    static final long MIN_SEGMENT_KIB = 64;
    static final long MAX_SEGMENT_MIB = 32;

    private RaftSettings() {
    }

    static RaftProperties of(ReplicaConfig replicas, Path raftDir, String bindHost, int raftPort) {
        RaftProperties props = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(props, List.of(raftDir.toFile()));
        GrpcConfigKeys.Server.setHost(props, bindHost);
        GrpcConfigKeys.Server.setPort(props, raftPort);
        if (replicas.electionTimeout() != null) {
            TimeDuration min = TimeDuration.valueOf(replicas.electionTimeout().toMillis(), TimeUnit.MILLISECONDS);
            RaftServerConfigKeys.Rpc.setTimeoutMin(props, min);
            RaftServerConfigKeys.Rpc.setTimeoutMax(props, min.multiply(2));
        }
        RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(props, RaftServerConfigKeys.Rpc.timeoutMax(props));
        long every = replicas.snapshotEvery();
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, every);
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(props, SNAPSHOTS_KEPT);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(props, true);
        RaftServerConfigKeys.Log.setPurgeGap(props, (int) Math.min(every, RaftServerConfigKeys.Log.PURGE_GAP_DEFAULT));
        long segment = Math.max(MIN_SEGMENT_KIB << 10, Math.min(MAX_SEGMENT_MIB << 20, every * BYTES_PER_ENTRY));
        RaftServerConfigKeys.Log.setSegmentSizeMax(props, SizeInBytes.valueOf(segment));
        RaftServerConfigKeys.Log.setLogMetadataEnabled(props, false);
        // A follower appends each appendEntries' entries to its log on the gRPC thread that received
        // it, as it arrives (Ratis 3.3.0, RATIS-2505), instead of chaining them behind the previous
        // request's sync through two thread pools (Ratis's default, RATIS-2235/2387). It still
        // acknowledges them only once synced (with fsync).
        RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(props, false);
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(props, SizeInBytes.valueOf(MAX_ENTRY_BYTES));
        RaftServerConfigKeys.Write.setElementLimit(props, PENDING_WRITES);
        RaftServerConfigKeys.Write.setByteLimit(props, SizeInBytes.valueOf(PENDING_WRITE_BYTES));
        // --raft-sync none: an entry counts once written to its segment file (the page cache); Ratis
        // syncs in the background and its flush index does not wait for it (RaftSync).
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(props, replicas.raftSync() == RaftSync.NONE);
        return props;
    }
}
