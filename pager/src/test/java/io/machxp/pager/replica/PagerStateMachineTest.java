package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.ReplicaSnapshot;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Installs of snapshots from the leader, in the orders Ratis may call the state machine: before
 * each reinitialize Ratis asserts that the state machine is PAUSED (and closes the replica's Raft
 * server if it is not), so each reinitialize here first checks what Ratis checks. The snapshots are
 * real ones, written by a leader's state machine and put where Ratis's install puts them.
 */
class PagerStateMachineTest {
    private static final ReplicaCore.Outlet NOWHERE = new ReplicaCore.Outlet() {
        @Override
        public void send(long sessionId, PagerToKernel message) {
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
        }

        @Override
        public void endSessionFailed(long sessionId, String message) {
        }
    };

    /** Stands for Ratis's division, which an install's chunks are written under. */
    private final Object division = new Object();

    @TempDir
    Path dir;

    /** {@code s} initialized as Ratis initializes a state machine's storage, on a Raft storage in {@code root}. */
    private static SimpleStateMachineStorage storage(Path root, SimpleStateMachineStorage s) throws IOException {
        RaftStorage raft = RaftStorage.newBuilder().setDirectory(root.toFile())
                .setOption(RaftStorage.StartupOption.FORMAT).setStorageFreeSpaceMin(SizeInBytes.valueOf(0))
                .setLogCorruptionPolicy(RaftServerConfigKeys.Log.CorruptionPolicy.getDefault()).build();
        raft.initialize();
        Files.createDirectories(raft.getStorageDir().getStateMachineDir().toPath());
        s.init(raft);
        return s;
    }

    private static ReplicaCore core() {
        return new ReplicaCore("p", 4096, Map.of("obj", 4L * 4096), 1_000_000_000L, NOWHERE, new PagerStats());
    }

    /** A replica's state machine, running, its installs written under {@link #division}. */
    private final class Replica {
        final ReplicaCore core = core();
        final SimpleStateMachineStorage storage;
        final PagerStateMachine machine;
        long index;

        Replica(SimpleStateMachineStorage storage) {
            this.storage = storage;
            this.machine = new PagerStateMachine(core, leader -> { }, storage, () -> division);
            machine.getLifeCycle().startAndTransition(() -> { }); // what initialize does, without a Raft server
        }

        Replica(String name) throws IOException {
            this(storage(dir.resolve(name), new SimpleStateMachineStorage()));
        }

        void apply(PagerLogEntry e) {
            index++;
            LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(index).setStateMachineLogEntry(
                    StateMachineLogEntryProto.newBuilder().setLogData(PagerStateMachine.message(e).getContent()))
                    .build();
            machine.applyTransaction(TransactionContext.newBuilder().setStateMachine(machine).setLogEntry(entry)
                    .build());
        }

        /** What Ratis's install writes: the leader's latest snapshot files, in this one's directory. */
        void installFrom(Replica leader) throws IOException {
            SingleFileSnapshotInfo latest = leader.storage.getLatestSnapshot();
            Path from = latest.getFile().getPath();
            Path to = smDir().resolve(from.getFileName());
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(from.resolveSibling(from.getFileName() + ".md5"), to.resolveSibling(to.getFileName() + ".md5"),
                    StandardCopyOption.REPLACE_EXISTING);
        }

        Path smDir() {
            return storage.getSnapshotFile(0, 0).toPath().getParent();
        }

        /** What Ratis's applying thread does after an install's last chunk. */
        void reload() throws IOException {
            assertThat(machine.getLifeCycleState()).as("the state Ratis asserts before reinitialize")
                    .isEqualTo(LifeCycle.State.PAUSED);
            machine.reinitialize();
        }
    }

    private static PagerLogEntry genesis() {
        return PagerLogEntry.newBuilder().setClockNanos(1_000).setGenesis(Genesis.newBuilder().setTokenEpoch(9)
                .setTokenSeed(ByteString.copyFromUtf8("seed"))).build();
    }

    private static PagerLogEntry opened(long session) {
        return PagerLogEntry.newBuilder().setClockNanos(2_000)
                .setSessionOpened(SessionOpened.newBuilder().setSessionId(session)).build();
    }

    /** A leader with a snapshot taken after its first entry, and one after its second. */
    private Replica leaderWithSnapshot(int entries) throws IOException {
        Replica leader = new Replica("leader");
        leader.apply(genesis());
        leader.machine.takeSnapshot();
        for (int i = 1; i < entries; i++) {
            leader.apply(opened(1L << 32 | i));
            leader.machine.takeSnapshot();
        }
        return leader;
    }

    @Test
    void oneInstallOfSeveralChunks() throws Exception {
        Replica leader = leaderWithSnapshot(2);
        Replica follower = new Replica("follower");
        follower.machine.pause();
        follower.machine.pause();
        follower.installFrom(leader);
        follower.machine.pause();
        follower.reload();
        assertThat(follower.machine.installed()).isEqualTo(1);
        assertThat(follower.core.snapshot()).isEqualTo(leader.core.snapshot());
        assertThat(follower.machine.getLastAppliedTermIndex().getIndex()).isEqualTo(2);
    }

    @Test
    void installsOneAfterTheOther() throws Exception {
        Replica leader = leaderWithSnapshot(1);
        Replica follower = new Replica("follower");
        follower.machine.pause();
        follower.installFrom(leader);
        follower.reload();
        leader.apply(opened(1L << 32 | 1));
        leader.machine.takeSnapshot();
        follower.machine.pause();
        follower.installFrom(leader);
        follower.reload();
        assertThat(follower.machine.installed()).isEqualTo(2);
        assertThat(follower.core.snapshot()).isEqualTo(leader.core.snapshot());
    }

    @Test
    void aSecondInstallBegunBeforeTheFirstIsReloaded() throws Exception {
        Replica leader = leaderWithSnapshot(1);
        Replica follower = new Replica("follower");
        follower.machine.pause(); // the first snapshot's chunk
        follower.installFrom(leader);
        follower.machine.pause(); // the second's, before the applying thread reloaded the first
        follower.reload();
        leader.apply(opened(1L << 32 | 1));
        leader.machine.takeSnapshot();
        follower.installFrom(leader);
        follower.reload(); // the second's reload: failed when the first reinitialize went back to RUNNING
        assertThat(follower.machine.installed()).isEqualTo(2);
        assertThat(follower.core.snapshot()).isEqualTo(leader.core.snapshot());
    }

    /**
     * Ratis swaps the state machine directory at an install's last chunk holding its division's
     * lock, and the applying thread's reload of an earlier install holds nothing: the reload must
     * read the directory under that lock, or it may find it in the middle of the swap.
     */
    @Test
    void reinitializeReadsTheInstalledSnapshotUnderTheLockRatisInstallsUnder() throws Exception {
        Replica leader = leaderWithSnapshot(2);
        boolean[] heldWhenRead = new boolean[1];
        SimpleStateMachineStorage spying = new SimpleStateMachineStorage() {
            @Override
            public SingleFileSnapshotInfo loadLatestSnapshot() {
                heldWhenRead[0] = Thread.holdsLock(division);
                return super.loadLatestSnapshot();
            }
        };
        Replica follower = new Replica(storage(dir.resolve("follower"), spying));
        follower.machine.pause();
        follower.installFrom(leader);
        follower.reload();
        assertThat(heldWhenRead[0]).as("the snapshot was read holding the division's lock").isTrue();
        assertThat(follower.core.snapshot()).isEqualTo(leader.core.snapshot());
    }

    /**
     * In the middle of Ratis's swap the state machine directory is renamed away: the storage finds
     * no snapshot (it answers null to an IOException). A reinitialize that went on restored nothing
     * while Ratis counted the log as applied up to the installed snapshot.
     */
    @Test
    void aReloadThatFindsNoSnapshotFailsInsteadOfGoingOnWithTheOldState() throws Exception {
        Replica leader = leaderWithSnapshot(2);
        Replica follower = new Replica("follower");
        follower.apply(genesis());
        ReplicaSnapshot before = follower.core.snapshot();
        follower.machine.pause();
        follower.installFrom(leader);
        Path sm = follower.smDir();
        Files.move(sm, sm.resolveSibling("sm.tmp-moved-away")); // the swap's first rename

        assertThatThrownBy(follower::reload).isInstanceOf(IOException.class)
                .hasMessageContaining("none is found");
        assertThat(follower.core.snapshot()).isEqualTo(before);
        assertThat(follower.machine.installed()).isZero();
    }

    /**
     * Ratis tells of a new leader only when one is known (ServerState.setLeader skips null), and of
     * a step-down through notifyNotLeader: the replica hears both, the second as a change to none.
     */
    @Test
    void aLeaderThatStepsDownIsToldAtOnceAsALeaderChangeToNone() throws Exception {
        List<RaftPeerId> told = new ArrayList<>();
        PagerStateMachine machine = new PagerStateMachine(core(), told::add);
        machine.notifyLeaderChanged(null, RaftPeerId.valueOf("a"));
        machine.notifyNotLeader(List.of());
        assertThat(told).containsExactly(RaftPeerId.valueOf("a"), null);
    }
}
