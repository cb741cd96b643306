package io.machxp.pager.replica;

import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.ReplicaSnapshot;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.AtomicFileOutputStream;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;

/**
 * The Ratis state machine of a replicated pager: each committed entry of the Raft log is a
 * {@link PagerLogEntry}, applied to this replica's {@link ReplicaCore} in log order on Ratis's
 * applying thread (the only thread that touches the core). Leader changes are passed on to the
 * replica's XP side, which takes kernels only while this replica leads.
 *
 * <h2>Snapshots</h2>
 * <pre>
 *  takeSnapshot (Ratis, every so many entries)  the replica's state ({@link ReplicaCore#snapshot})
 *                                               written to snapshot.TERM_INDEX in the state machine
 *                                               directory, atomically (a temporary file renamed),
 *                                               with its MD5; Ratis may then purge the log up to it
 *  initialize (start)                           the latest snapshot, if any, is restored; Ratis
 *                                               applies the log after it
 *  pause, reinitialize (a snapshot installed   the same, from the snapshot the leader sent: paused
 *    by the leader on a replica that lags)      while Ratis writes it, then restored
 * </pre>
 * Every call that touches the core comes on Ratis's applying thread, between two entries: the
 * core is never touched by two threads.
 *
 * <h2>What may fail on Ratis's threads</h2>
 * <pre>
 *  applyTransaction        nothing thrown (the core's failures end the session of the entry), but
 *                          for a genesis that builds no core here: the Raft server closes
 *                          (ReplicaCore); anything else is logged, the entry counts as applied
 *  takeSnapshot            a failure is an IOException: Ratis logs it and takes none this time
 *  initialize,             a snapshot that does not restore is an IOException: this replica does
 *    reinitialize            not start, or stops (its file alone; the others go on)
 *  notifyLeaderChanged,    a failure of the XP side's is logged, never thrown into Ratis
 *    notifyNotLeader
 * </pre>
 *
 * <h2>Paused, once a snapshot was installed</h2>
 * Ratis calls {@link #pause} on the thread that receives an install (once per chunk) and, after
 * the last chunk, has the applying thread call {@link #reinitialize}, asserting first that this
 * state machine is {@code PAUSED}: if it is not, the applying thread stops and the replica's Raft
 * server closes itself. A lagging replica can be sent a second snapshot right after the first (the
 * leader purged its log past the first one meanwhile), and that second install's pause can come
 * before the first one's reinitialize: a reinitialize that went back to {@code RUNNING} then left
 * the second one to find this state machine running, and the replica died (seen under load, a
 * restarted replica that then could neither vote nor lead). Nothing here needs pausing - an install
 * only writes a file, which the applying thread reads - and nothing in Ratis reads the state but
 * that assertion, so {@link #reinitialize} leaves it {@code PAUSED}: every later install finds it so.
 *
 * <h2>Reading an installed snapshot while the next one is written</h2>
 * Ratis writes each chunk of an install, and on the last one swaps the state machine directory for
 * the new one (the old directory renamed away, the new one renamed in: {@code SnapshotManager.rename}),
 * holding its division's lock ({@code synchronized (server)} in
 * {@code SnapshotInstallationHandler.checkAndInstallSnapshot}); the applying thread's reload of the
 * previous install holds nothing. A reinitialize that read the directory in the middle of a swap
 * found no snapshot ({@code SimpleStateMachineStorage.loadLatestSnapshot} returns null on an
 * {@code IOException}) or a file that vanished, and restored nothing, while Ratis then took the
 * latest snapshot's index as applied and skipped the log up to it: a replica whose core had not
 * the state Ratis counted, silently. So {@link #reinitialize} holds the same lock (Ratis's own
 * {@code RaftServerImpl.resume} calls reinitialize under it too; the lock order is the division's,
 * then this machine's, as for {@link #pause}), and finding no snapshot is an error, not a no-op.
 */
final class PagerStateMachine extends BaseStateMachine {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PagerStateMachine.class);

    /** What an install of a snapshot is written under: Ratis's division of this replica. */
    interface InstallLock {
        Object get() throws IOException;
    }

    private final ReplicaCore replica;
    private final Consumer<RaftPeerId> leaderChanged;
    private final SimpleStateMachineStorage storage;
    private final InstallLock installLock;
    /** Snapshots installed from the leader (reinitialize), for tests and tools. */
    private final java.util.concurrent.atomic.AtomicInteger installed = new java.util.concurrent.atomic.AtomicInteger();

    PagerStateMachine(ReplicaCore replica, Consumer<RaftPeerId> leaderChanged) {
        this(replica, leaderChanged, new SnapshotStorage(), null);
    }

    /** With a storage and a lock of the caller's (tests; null: this replica's Ratis division). */
    PagerStateMachine(ReplicaCore replica, Consumer<RaftPeerId> leaderChanged, SimpleStateMachineStorage storage,
            InstallLock installLock) {
        this.replica = replica;
        this.leaderChanged = leaderChanged;
        this.storage = storage;
        this.installLock = installLock != null ? installLock : this::division;
    }

    /** This replica's Ratis division: the object Ratis synchronizes an install's chunks on. */
    private Object division() throws IOException {
        RaftServer server = getServer().getNow(null);
        if (server == null) {
            throw new IOException("replica: a snapshot install before the Raft server initialized its state machine");
        }
        return server.getDivision(getGroupId());
    }

    /**
     * Applies a committed entry. Nothing is thrown from here: on Ratis's applying thread an
     * exception closes this replica's Raft server, and every replica applies the same entry, so
     * each would close in turn. The core's failures are handled by the replica core, by the entry
     * alone ({@link ReplicaCore}, "When the core fails on an entry"); anything else thrown is logged
     * and the entry counts as applied, on every replica alike.
     */
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        try {
            replica.apply(entry.getIndex(), PagerLogEntry.parseFrom(entry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            // Only replicas append: an entry that does not parse is a bug, and skipping it on every
            // replica alike keeps them equal.
            log.error("replica {}: log entry {} is not a pager log entry; skipped on every replica", getId(),
                    entry.getIndex(), e);
        } catch (RuntimeException e) {
            log.error("replica {}: applying log entry {} failed; the replica goes on, as every other does at this entry",
                    getId(), entry.getIndex(), e);
        }
        String failed = replica.genesisFailed();
        if (failed != null) {
            // This replica's configuration is not the group's: thrown onto Ratis's applying thread,
            // which closes this replica's Raft server (it no longer votes, leads or snapshots), the
            // genesis not counted as applied, so that a restart with the group's configuration applies it.
            throw new IllegalStateException("replica " + getId() + ": the group's genesis at log index "
                    + entry.getIndex() + " builds no pager core here (" + failed + "); this replica's Raft server "
                    + "stops: restart it with the group's configuration");
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        getLifeCycle().startAndTransition(() -> {
            storage.init(raftStorage);
            load(storage.getLatestSnapshot());
        });
    }

    /**
     * A snapshot from the leader is being written here (called for each chunk): {@code PAUSED},
     * as Ratis asserts before it has {@link #reinitialize} called.
     */
    @Override
    public synchronized void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /**
     * A snapshot from the leader is installed: restored, holding the lock Ratis writes installs
     * under (see the class comment). The state stays {@code PAUSED}: another install may already
     * be under way.
     *
     * @throws IOException if no snapshot is found: Ratis would count the log as applied up to a
     *     snapshot this replica's core does not hold (Ratis then stops this replica's Raft server,
     *     which is restarted on its store and recovers; a replica gone on unrestored would not)
     */
    @Override
    public void reinitialize() throws IOException {
        synchronized (installLock.get()) {
            synchronized (this) {
                SingleFileSnapshotInfo latest = storage.loadLatestSnapshot();
                if (latest == null) {
                    throw new IOException("replica " + getId() + ": Ratis installed a snapshot, but none is found in its state "
                            + "machine directory: not going on with a state that is not the one Ratis counts");
                }
                load(latest);
                installed.incrementAndGet();
            }
        }
    }

    /** How many snapshots the leader installed here. */
    int installed() {
        return installed.get();
    }

    /** The log index of the latest snapshot here, -1 if none. */
    long latestSnapshotIndex() {
        SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
        return latest == null ? RaftLog.INVALID_LOG_INDEX : latest.getIndex();
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() < 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        ReplicaSnapshot snapshot;
        try {
            snapshot = replica.snapshot();
        } catch (RuntimeException e) {
            // Ratis takes snapshots on the applying thread and lets only an IOException pass (logged,
            // no snapshot taken this time, the log kept); anything else would close this replica.
            throw new IOException("replica " + getId() + ": no snapshot at log index " + last.getIndex()
                    + ": writing the pager's state failed", e);
        }
        try (OutputStream out = new AtomicFileOutputStream(file)) {
            snapshot.writeTo(out);
        }
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(),
                MD5FileUtil.computeAndSaveMd5ForFile(file)), last));
        log.info("replica {}: snapshot at log index {} ({} bytes, {} sessions, {} futexes, {} pages)", getId(),
                last.getIndex(), snapshot.getSerializedSize(), snapshot.getCore().getSessionsCount(),
                snapshot.getCore().getFutexesCount(), snapshot.getCore().getStoredPagesCount());
        return last.getIndex();
    }

    /** Restores the replica from a snapshot file (none: nothing to do, the log is applied from its start). */
    private void load(SingleFileSnapshotInfo info) throws IOException {
        if (info == null) {
            return;
        }
        File file = info.getFile().getPath().toFile();
        if (info.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file, info.getFile().getFileDigest());
        }
        ReplicaSnapshot snapshot;
        try (InputStream in = Files.newInputStream(file.toPath())) {
            snapshot = ReplicaSnapshot.parseFrom(in);
        }
        try {
            replica.restore(snapshot);
        } catch (RuntimeException e) {
            // This replica's file alone: it stops (Ratis fails its start, or closes it on a reinitialize)
            // rather than go on with a state that is not the one Ratis counts as applied.
            throw new IOException("replica " + getId() + ": the snapshot at log index " + info.getIndex() + " ("
                    + file + ") does not restore into this pager", e);
        }
        setLastAppliedTermIndex(info.getTermIndex());
        log.info("replica {}: restored the snapshot at log index {}", getId(), info.getIndex());
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeader) {
        tellLeaderChanged(newLeader);
    }

    /**
     * Ratis tells of a leader on its own threads, holding its division's lock, in the middle of an
     * election or an append: what the XP side does with it must not fail that.
     */
    private void tellLeaderChanged(RaftPeerId newLeader) {
        try {
            leaderChanged.accept(newLeader);
        } catch (RuntimeException e) {
            log.error("replica {}: passing on the leader change (to {}) failed", getId(), newLeader, e);
        }
    }

    /**
     * This replica stopped leading (Ratis 3.1.3 and 3.3.0 {@code LeaderStateImpl.stop}, on any step-down):
     * told as a leader change to none. Ratis's {@code notifyLeaderChanged} comes only with a leader
     * ({@code ServerState.setLeader} skips null), so without this a leader deposed by a vote, or
     * that stepped down for want of a majority, kept its kernels' streams and its client until it
     * heard of the next leader, and its kernels learnt it only when an append of theirs failed.
     */
    @Override
    public void notifyNotLeader(Collection<TransactionContext> pendingEntries) {
        tellLeaderChanged(null);
    }

    /** Ratis's protobuf is shaded: an entry's bytes for its log (the array wrapped, not copied again: nothing else holds it). */
    static Message message(PagerLogEntry e) {
        return Message.valueOf(org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations.unsafeWrap(e.toByteArray()));
    }

    /**
     * One entry that applies {@code entries} (each an entry's bytes, from {@link #message}) in this
     * order: a {@code batch} of them (pager_replica.proto), its bytes written from theirs without
     * parsing them again (a repeated message field is, on the wire, each one's bytes with its tag
     * and length).
     */
    static Message batch(java.util.List<Message> entries) {
        int inner = 0;
        for (Message m : entries) {
            inner += 1 + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(size(m)) + size(m); // tag, length, bytes
        }
        byte[] out = new byte[1 + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(inner) + inner];
        com.google.protobuf.CodedOutputStream o = com.google.protobuf.CodedOutputStream.newInstance(out);
        try {
            o.writeTag(PagerLogEntry.BATCH_FIELD_NUMBER, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
            o.writeUInt32NoTag(inner);
            for (Message m : entries) {
                o.writeTag(io.machxp.proto.replica.Batch.ENTRIES_FIELD_NUMBER,
                        com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
                o.writeUInt32NoTag(size(m));
                o.writeRawBytes(m.getContent().asReadOnlyByteBuffer());
            }
            o.checkNoSpaceLeft();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("a batch entry's bytes did not add up", e);
        }
        return Message.valueOf(org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations.unsafeWrap(out));
    }

    private static int size(Message m) {
        return m.getContent().size();
    }

}
