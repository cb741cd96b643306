package io.machxp.pager.replica;

import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;

/**
 * A replica's snapshot files (Ratis's {@link SimpleStateMachineStorage}) that lists its directory
 * only when a snapshot may have appeared there, not on every question.
 *
 * <p>Ratis asks a state machine for its latest snapshot on hot paths: a follower for each
 * appendEntries it receives ({@code ServerImplUtils.assertEntries}, through
 * {@code ServerState.getSnapshotIndex}), the leader's appender each time it checks whether a
 * follower needs a snapshot ({@code LogAppender.shouldInstallSnapshot}). Ratis's storage keeps the
 * latest snapshot it knows, but while it knows none it lists the state machine directory for
 * every such question: an opendir, a readdir and a closedir per appendEntries on each follower and
 * per appender turn on the leader, until the group's first snapshot (100,000 entries by default).
 * A profile of the bench's three replicas found them in 1.5% of the CPU outside the JIT.
 *
 * <p>A snapshot appears in the directory in three ways, each of which tells this storage: the
 * replica's own {@code takeSnapshot} ({@link #updateLatestSnapshot}), an install from the leader,
 * after which {@link PagerStateMachine#reinitialize} reads the directory again
 * ({@link #loadLatestSnapshot}), and a start, whose {@link #init} reads it. So once a listing found
 * none, "none" is the answer until one of those happens. A snapshot known is always answered
 * before "none" (a listing that found none while a snapshot was being recorded cannot hide it).
 * Between an install's last chunk and the reload Ratis does not ask this storage for the installed
 * snapshot: it keeps that one's index itself ({@code ServerState.latestInstalledSnapshot}, which
 * {@code getSnapshotIndex} and {@code containsTermIndex} read besides this storage).
 */
final class SnapshotStorage extends SimpleStateMachineStorage {
    /** The latest snapshot recorded or found here, null if none yet. */
    private volatile SingleFileSnapshotInfo known;
    /** A listing of the directory found no snapshot, and none was recorded or installed since. */
    private volatile boolean listedNone;
    /** Whether {@link #init} gave this storage its directory (before it, a listing finds nothing to cache). */
    private volatile boolean initialized;

    @Override
    public void init(RaftStorage storage) throws java.io.IOException {
        initialized = true;
        listedNone = false;
        super.init(storage);
    }

    @Override
    public SingleFileSnapshotInfo getLatestSnapshot() {
        SingleFileSnapshotInfo s = known;
        if (s != null) {
            return s;
        }
        if (listedNone) {
            return null;
        }
        return loadLatestSnapshot();
    }

    /** Lists the directory (a start, an install's reload); remembers whether it found none. */
    @Override
    public SingleFileSnapshotInfo loadLatestSnapshot() {
        listedNone = false;
        SingleFileSnapshotInfo s = super.loadLatestSnapshot();
        if (s == null && initialized) {
            listedNone = true;
        }
        return s;
    }

    @Override
    public SingleFileSnapshotInfo updateLatestSnapshot(SingleFileSnapshotInfo info) {
        SingleFileSnapshotInfo latest = super.updateLatestSnapshot(info);
        if (latest != null) {
            known = latest;
        }
        return latest;
    }
}
