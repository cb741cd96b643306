package io.machxp.pager.replica;

import io.machxp.proto.replica.PagerLogEntry;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;

/**
 * The Ratis state machine of a replicated pager: each committed entry of the Raft log is a
 * {@link PagerLogEntry}, applied to this replica's {@link ReplicaCore} in log order on Ratis's
 * applying thread (the only thread that touches the core). Leader changes are passed on to the
 * replica's XP side, which takes kernels only while this replica leads.
 */
final class PagerStateMachine extends BaseStateMachine {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PagerStateMachine.class);

    private final ReplicaCore replica;
    private final Consumer<RaftPeerId> leaderChanged;

    PagerStateMachine(ReplicaCore replica, Consumer<RaftPeerId> leaderChanged) {
        this.replica = replica;
        this.leaderChanged = leaderChanged;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        try {
            replica.apply(PagerLogEntry.parseFrom(entry.getStateMachineLogEntry().getLogData().toByteArray()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            // Only replicas append: an entry that does not parse is a bug, and skipping it on every
            // replica alike keeps them equal.
            log.error("replica {}: log entry {} is not a pager log entry; skipped on every replica", getId(),
                    entry.getIndex(), e);
        }
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeader) {
        leaderChanged.accept(newLeader);
    }

    /** Ratis's protobuf is shaded: an entry's bytes for its log. */
    static Message message(PagerLogEntry e) {
        return Message.valueOf(org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(e.toByteArray()));
    }

}
