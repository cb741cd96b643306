package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower takes the leader's next entries into its log while the entries before them still
 * wait for their sync, and no entry counts before a follower synced it ({@link RaftSettings}: a
 * follower's appends are not chained behind its syncs). Three Raft servers with the replica's
 * settings, in this JVM; each follower's syncs are held by its state machine, whose data flush
 * Ratis's log worker waits for before it syncs the log.
 *
 * <p>On Ratis 3.1.3 (and with Ratis's default chain), the follower appended the second request's
 * entry only once the first's was synced: its log stayed one entry short for as long as the
 * sync was held (and on 3.1.3 it refused the request, INCONSISTENCY, so the leader sent both again).
 */
class FollowerAppendTest {
    @TempDir
    Path dir;

    @Test
    void aFollowerAppendsTheNextRequestWhileThePreviousWaitsForItsSync() throws Exception {
        List<Replica> group = LoopbackGroup.start(3, a -> startGroup(dir, a));
        try {
            // Every replica has its first leader's first entry (no log is empty): a leader is ready
            // once a majority has it, so one follower's log may still be empty when it is.
            awaitLogs(group, 0);
            Replica leader = Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> group.stream().filter(r -> r.division().getInfo().isLeaderReady()).findFirst(),
                            Optional::isPresent).orElseThrow();
            List<Replica> followers = group.stream().filter(r -> r != leader).toList();
            followers.forEach(r -> r.stateMachine.holdSyncs());
            LeaderAppender appender = new LeaderAppender(leader.server, leader.groupId, leader.id,
                    leader.division().getInfo().getCurrentTerm());
            RaftLog leaderLog = leader.division().getRaftLog();

            CompletableFuture<RaftClientReply> first = appender.send(Message.valueOf("first"));
            long firstIndex = leaderLog.getLastEntryTermIndex().getIndex();
            awaitLogs(followers, firstIndex);
            CompletableFuture<RaftClientReply> second = appender.send(Message.valueOf("second"));
            long secondIndex = leaderLog.getLastEntryTermIndex().getIndex();
            assertThat(secondIndex).isEqualTo(firstIndex + 1);

            awaitLogs(followers, secondIndex);
            assertThat(leaderLog.getLastCommittedIndex()).as("the leader's commit index while no follower synced")
                    .isLessThan(firstIndex);
            assertThat(first).as("the first entry's reply while no follower synced it").isNotDone();

            followers.forEach(r -> r.stateMachine.releaseSyncs());
            assertThat(first.get(30, TimeUnit.SECONDS).isSuccess()).isTrue();
            assertThat(second.get(30, TimeUnit.SECONDS).isSuccess()).isTrue();
        } finally {
            for (Replica r : group) {
                r.stateMachine.releaseSyncs();
                r.server.close();
            }
        }
    }

    /**
     * Waits until each of {@code followers} has the entry at {@code index} in its log (synced or
     * not). A log with no entry yet has no last entry (Ratis: null): it has not reached any index.
     */
    static void awaitLogs(List<Replica> followers, long index) {
        for (Replica f : followers) {
            Awaitility.await("replica " + f.id + "'s log to reach index " + index).atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> lastIndex(f.division().getRaftLog()) >= index);
        }
    }

    /** The index of the last entry in {@code log}, -1 if it has none (Ratis's last entry of an empty log is null). */
    static long lastIndex(RaftLog log) {
        org.apache.ratis.server.protocol.TermIndex last = log.getLastEntryTermIndex();
        return last == null ? -1 : last.getIndex();
    }

    /** Three Raft servers with the replica's settings and {@link HeldSyncs} state machines, logs under {@code dir}. */
    static List<Replica> startGroup(Path dir, Map<String, String> addresses) throws IOException {
        List<RaftPeer> peers = new ArrayList<>();
        ReplicaConfig any = new ReplicaConfig(addresses.keySet().iterator().next(), addresses);
        for (String id : addresses.keySet()) {
            peers.add(RaftPeer.newBuilder().setId(id).setAddress(any.raftAddress(id)).build());
        }
        RaftGroup raftGroup = RaftGroup.valueOf(RaftGroupId.valueOf(UUID.randomUUID()), peers);
        List<Replica> started = new ArrayList<>();
        try {
            for (String id : addresses.keySet()) {
                ReplicaConfig config = new ReplicaConfig(id, addresses).withElectionTimeout(ReplicaTrio.ELECTION_TIMEOUT);
                String raftAddress = config.raftAddress(id);
                int port = Integer.parseInt(raftAddress.substring(raftAddress.lastIndexOf(':') + 1));
                Path raftDir = Files.createTempDirectory(dir, "raft-" + id);
                HeldSyncs stateMachine = new HeldSyncs();
                RaftServer server = RaftServer.newBuilder().setServerId(RaftPeerId.valueOf(id)).setGroup(raftGroup)
                        .setProperties(RaftSettings.of(config, raftDir, "127.0.0.1", port))
                        .setOption(RaftStorage.StartupOption.FORMAT).setStateMachine(stateMachine).build();
                started.add(new Replica(RaftPeerId.valueOf(id), raftGroup.getGroupId(), server, stateMachine));
                try {
                    RaftStart.start(server);
                } catch (RaftStart.RpcNotStarted e) {
                    throw ReplicaPortInUse.cannotListen("p", "127.0.0.1", id, port, "its Raft port", e);
                }
            }
            return started;
        } catch (IOException | RuntimeException e) {
            for (Replica r : started) {
                r.server.close();
            }
            throw e;
        }
    }

    record Replica(RaftPeerId id, RaftGroupId groupId, RaftServer server, HeldSyncs stateMachine) {
        RaftServer.Division division() {
            try {
                return server.getDivision(groupId);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * A state machine whose data flush, which Ratis's log worker waits for before each sync of the
     * log, can be held: while held, nothing more is synced on that replica.
     */
    static final class HeldSyncs extends BaseStateMachine implements StateMachine.DataApi {
        private volatile CompletableFuture<Void> syncs = CompletableFuture.completedFuture(null);

        void holdSyncs() {
            syncs = new CompletableFuture<>();
        }

        void releaseSyncs() {
            syncs.complete(null);
        }

        @Override
        public CompletableFuture<Void> flush(long logIndex) {
            return syncs;
        }
    }
}
