package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SnapshotStorage}: while a replica has no snapshot, Ratis's questions for the latest one
 * (one per appendEntries on a follower) do not each list the state machine directory; a snapshot
 * recorded, installed or there at a start is still found.
 */
class SnapshotStorageTest {
    @TempDir
    Path dir;

    /** {@code s} initialized as Ratis initializes a state machine's storage; returns its directory. */
    private static Path init(Path root, SnapshotStorage s) throws IOException {
        RaftStorage raft = RaftStorage.newBuilder().setDirectory(root.toFile())
                .setOption(RaftStorage.StartupOption.FORMAT).setStorageFreeSpaceMin(SizeInBytes.valueOf(0))
                .setLogCorruptionPolicy(RaftServerConfigKeys.Log.CorruptionPolicy.getDefault()).build();
        raft.initialize();
        Path smDir = raft.getStorageDir().getStateMachineDir().toPath();
        Files.createDirectories(smDir);
        s.init(raft);
        return smDir;
    }

    /** A snapshot file as the replica's takeSnapshot or Ratis's install leaves it. */
    private static Path snapshotFile(Path smDir, long term, long index) throws IOException {
        return Files.writeString(smDir.resolve("snapshot." + term + "_" + index), "state");
    }

    /**
     * The directory is read once: a file that appears without the storage being told (no replica
     * path does that) is not seen by the next questions, which Ratis's own storage answered by
     * listing the directory each time.
     */
    @Test
    void withNoSnapshotTheQuestionsDoNotListTheDirectoryAgain() throws IOException {
        SnapshotStorage storage = new SnapshotStorage();
        Path smDir = init(dir.resolve("r"), storage);
        assertThat(storage.getLatestSnapshot()).isNull();
        snapshotFile(smDir, 1, 5);
        for (int i = 0; i < 3; i++) {
            assertThat(storage.getLatestSnapshot()).as("answered without a listing").isNull();
        }
    }

    /** The replica's own takeSnapshot records it: answered at once after a "none". */
    @Test
    void aSnapshotTakenHereIsAnsweredAfterNone() throws IOException {
        SnapshotStorage storage = new SnapshotStorage();
        Path smDir = init(dir.resolve("r"), storage);
        assertThat(storage.getLatestSnapshot()).isNull();
        Path file = snapshotFile(smDir, 2, 40);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file, null), 2, 40));
        assertThat(storage.getLatestSnapshot().getIndex()).isEqualTo(40);
    }

    /** An install from the leader is read again by the reload (PagerStateMachine.reinitialize). */
    @Test
    void anInstalledSnapshotIsFoundByTheReload() throws IOException {
        SnapshotStorage storage = new SnapshotStorage();
        Path smDir = init(dir.resolve("r"), storage);
        assertThat(storage.getLatestSnapshot()).isNull();
        snapshotFile(smDir, 3, 70);
        assertThat(storage.loadLatestSnapshot().getIndex()).isEqualTo(70);
        assertThat(storage.getLatestSnapshot().getIndex()).isEqualTo(70);
    }

    /** A replica started on a store with a snapshot finds it (init reads the directory). */
    @Test
    void aSnapshotThereAtTheStartIsFound() throws IOException {
        RaftStorage raft = RaftStorage.newBuilder().setDirectory(dir.resolve("r").toFile())
                .setOption(RaftStorage.StartupOption.FORMAT).setStorageFreeSpaceMin(SizeInBytes.valueOf(0))
                .setLogCorruptionPolicy(RaftServerConfigKeys.Log.CorruptionPolicy.getDefault()).build();
        raft.initialize();
        Path smDir = raft.getStorageDir().getStateMachineDir().toPath();
        Files.createDirectories(smDir);
        snapshotFile(smDir, 1, 9);
        SnapshotStorage started = new SnapshotStorage();
        started.init(raft);
        assertThat(started.getLatestSnapshot().getIndex()).isEqualTo(9);
    }
}
