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
 */
final class RaftSettings {
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
        long every = replicas.snapshotEvery();
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, every);
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(props, SNAPSHOTS_KEPT);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(props, true);
        RaftServerConfigKeys.Log.setPurgeGap(props, (int) Math.min(every, RaftServerConfigKeys.Log.PURGE_GAP_DEFAULT));
        long segment = Math.max(MIN_SEGMENT_KIB << 10, Math.min(MAX_SEGMENT_MIB << 20, every * BYTES_PER_ENTRY));
        RaftServerConfigKeys.Log.setSegmentSizeMax(props, SizeInBytes.valueOf(segment));
        return props;
    }
}
