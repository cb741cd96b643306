package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --raft-sync: its values and their errors, the Ratis setting each gives, and the store of a
 * replica whose log was not synced, which a restarted host must not trust.
 */
class RaftSyncTest {
    private static final Map<String, String> GROUP = Map.of("a", "127.0.0.1:7070", "b", "127.0.0.1:7080", "c",
            "127.0.0.1:7090");

    @Test
    void fsyncAndNoneAreTheValuesAndAnythingElseNamesBoth() {
        assertThat(RaftSync.parse("fsync")).isEqualTo(RaftSync.FSYNC);
        assertThat(RaftSync.parse(" NONE ")).isEqualTo(RaftSync.NONE);
        for (String bad : new String[] {"async", "", "false"}) {
            assertThatThrownBy(() -> RaftSync.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--raft-sync '" + bad + "'").hasMessageContaining("fsync, none");
        }
        assertThatThrownBy(() -> RaftSync.parse(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fsync, none");
    }

    @Test
    void aGroupSyncsByDefaultAndNoneTurnsOnRatisUnsafeFlush(@TempDir Path dir) {
        ReplicaConfig group = new ReplicaConfig("a", GROUP);
        assertThat(group.raftSync()).isEqualTo(RaftSync.FSYNC);
        assertThat(RaftServerConfigKeys.Log.unsafeFlushEnabled(RaftSettings.of(group, dir, "127.0.0.1", 7071)))
                .isFalse();
        ReplicaConfig unsynced = group.withRaftSync(RaftSync.NONE).withSnapshotEvery(10);
        assertThat(unsynced.raftSync()).isEqualTo(RaftSync.NONE);
        assertThat(unsynced.withElectionTimeout(java.time.Duration.ofSeconds(1)).raftSync()).isEqualTo(RaftSync.NONE);
        var props = RaftSettings.of(unsynced, dir, "127.0.0.1", 7071);
        assertThat(RaftServerConfigKeys.Log.unsafeFlushEnabled(props)).isTrue();
        assertThat(RaftServerConfigKeys.Log.asyncFlushEnabled(props)).as("Ratis refuses both at once").isFalse();
    }

    @Test
    void aStoreWrittenUnsyncedIsRefusedAfterTheHostRestarted(@TempDir Path dir) throws IOException {
        Path raft = dir.resolve("raft-a");
        UnsyncedLog.check(raft, RaftSync.NONE, () -> "boot-1", "replica a");
        assertThat(Files.readString(raft.resolve(UnsyncedLog.MARKER), StandardCharsets.US_ASCII).trim())
                .isEqualTo("boot-1");
        UnsyncedLog.check(raft, RaftSync.NONE, () -> "boot-1", "replica a"); // the process restarted: trusted

        for (RaftSync sync : RaftSync.values()) {
            assertThatThrownBy(() -> UnsyncedLog.check(raft, sync, () -> "boot-2", "replica a"))
                    .isInstanceOf(IOException.class).hasMessageContaining("replica a")
                    .hasMessageContaining("--raft-sync none").hasMessageContaining("boot id then boot-1, now boot-2")
                    .hasMessageContaining("remove each one's raft-ID directory");
        }
        assertThatThrownBy(() -> UnsyncedLog.check(raft, RaftSync.NONE, () -> null, "replica a"))
                .isInstanceOf(IOException.class).hasMessageContaining("now unknown");
    }

    @Test
    void aCleanStopOrAnFsyncStartInTheSameBootSyncsTheLogAndForgetsTheMarker(@TempDir Path dir) throws IOException {
        Path raft = dir.resolve("raft-a");
        UnsyncedLog.check(raft, RaftSync.NONE, () -> "boot-1", "replica a");
        Files.writeString(raft.resolve("log_inprogress_0"), "entries");
        UnsyncedLog.syncAndForget(raft);
        assertThat(raft.resolve(UnsyncedLog.MARKER)).doesNotExist();
        UnsyncedLog.check(raft, RaftSync.FSYNC, () -> "boot-2", "replica a"); // nothing unsynced: trusted

        UnsyncedLog.check(raft, RaftSync.NONE, () -> "boot-2", "replica a");
        UnsyncedLog.check(raft, RaftSync.FSYNC, () -> "boot-2", "replica a");
        assertThat(raft.resolve(UnsyncedLog.MARKER)).doesNotExist();
        UnsyncedLog.check(raft, RaftSync.FSYNC, () -> "boot-3", "replica a");
        assertThat(raft.resolve("log_inprogress_0")).hasContent("entries");
    }

    @Test
    void withoutABootIdAnUnsyncedStoreIsRefusedAndAnFsyncOneIsNot(@TempDir Path dir) throws IOException {
        Path raft = dir.resolve("raft-a");
        assertThatThrownBy(() -> UnsyncedLog.check(raft, RaftSync.NONE, () -> null, "replica a"))
                .isInstanceOf(IOException.class).hasMessageContaining("boot id").hasMessageContaining("--raft-sync fsync");
        UnsyncedLog.check(raft, RaftSync.FSYNC, () -> null, "replica a");
        assertThat(raft.resolve(UnsyncedLog.MARKER)).doesNotExist();
    }
}
