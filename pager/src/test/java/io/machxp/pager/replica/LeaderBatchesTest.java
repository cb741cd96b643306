package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.Tick;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.server.raftlog.RaftLog;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's appends over Ratis ({@link LeaderAppender}, {@link AppendBatches}): while
 * {@link AppendBatches#DEFAULT_IN_FLIGHT} of its Raft entries wait for their commit, what it is sent
 * is not appended one entry each but waits, and goes as one batch entry, in the order sent, once one
 * of them is applied. Three Raft servers with the replica's settings in this JVM; the followers'
 * syncs are held, so nothing commits until the test lets them go. Before, each send was a Raft
 * entry of its own at once (the log held all twelve while none was committed).
 */
class LeaderBatchesTest {
    @TempDir
    Path dir;

    private static org.apache.ratis.protocol.Message tick(long stamp) {
        return PagerStateMachine.message(PagerLogEntry.newBuilder().setTick(Tick.getDefaultInstance())
                .setClockNanos(stamp).setTerm(1).build());
    }

    @Test
    void whatIsSentWhileThePipelineWaitsForItsCommitGoesAsOneEntryInOrder() throws Exception {
        List<FollowerAppendTest.Replica> group = LoopbackGroup.start(3, a -> FollowerAppendTest.startGroup(dir, a));
        try {
            FollowerAppendTest.Replica leader = Awaitility.await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> group.stream().filter(r -> r.division().getInfo().isLeaderReady()).findFirst(),
                            Optional::isPresent).orElseThrow();
            List<FollowerAppendTest.Replica> followers = group.stream().filter(r -> r != leader).toList();
            followers.forEach(r -> r.stateMachine().holdSyncs());
            LeaderAppender appender = new LeaderAppender(leader.server(), leader.groupId(), leader.id(),
                    leader.division().getInfo().getCurrentTerm());
            RaftLog log = leader.division().getRaftLog();
            long start = log.getLastEntryTermIndex().getIndex();
            int depth = AppendBatches.DEFAULT_IN_FLIGHT;
            int sent = depth + 10;

            List<CompletableFuture<RaftClientReply>> replies = new ArrayList<>();
            for (int i = 1; i <= sent; i++) {
                replies.add(appender.send(tick(i)));
            }
            assertThat(log.getLastEntryTermIndex().getIndex()).as("the leader's log while nothing is committed")
                    .isEqualTo(start + depth);
            assertThat(replies.subList(depth, sent)).as("the sends that wait").noneMatch(CompletableFuture::isDone);

            followers.forEach(r -> r.stateMachine().releaseSyncs());
            for (CompletableFuture<RaftClientReply> r : replies) {
                assertThat(r.get(30, TimeUnit.SECONDS).isSuccess()).isTrue();
            }
            assertThat(log.getLastEntryTermIndex().getIndex()).as("the leader's log once all are applied")
                    .isEqualTo(start + depth + 1);
            for (int i = 1; i <= depth; i++) {
                assertThat(entry(log, start + i).getClockNanos()).isEqualTo(i);
            }
            PagerLogEntry batch = entry(log, start + depth + 1);
            assertThat(batch.getBatch().getEntriesList()).extracting(PagerLogEntry::getClockNanos)
                    .as("the batch's entries, in the order sent")
                    .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(depth + 1, sent).boxed().toList());
            assertThat(appender.counts()).containsExactly(sent, depth + 1);
        } finally {
            for (FollowerAppendTest.Replica r : group) {
                r.stateMachine().releaseSyncs();
                r.server().close();
            }
        }
    }

    private static PagerLogEntry entry(RaftLog log, long index) throws Exception {
        return PagerLogEntry.parseFrom(log.get(index).getStateMachineLogEntry().getLogData().toByteArray());
    }
}
