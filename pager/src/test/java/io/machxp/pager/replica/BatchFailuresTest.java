package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.LeaderStarted;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.SessionOpened;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.junit.jupiter.api.Test;

/**
 * What a failure inside a batch costs (rv58 LOW-2): a throw on one entry of a batch, past the
 * core's own guards, costs that entry only, as a throw on a lone Raft entry does; an Error from an
 * append fails that batch's entries and gives its place in the pipeline back.
 */
class BatchFailuresTest {
    private static final long T0 = 1_000_000_000_000L;
    private static final long SESSION = 1L << 32 | 1;

    private static final class Sent implements ReplicaCore.Outlet {
        final List<PagerToKernel> sent = new ArrayList<>();

        @Override
        public void send(long sessionId, PagerToKernel message) {
            sent.add(message);
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
    }

    private static Message entry(PagerLogEntry.Builder e, long clock) {
        return PagerStateMachine.message(e.setClockNanos(clock).build());
    }

    @Test
    void aThrowOnOneEntryOfABatchLeavesTheBatchsOtherEntriesApplied() throws Exception {
        Sent out = new Sent();
        ReplicaCore core = new ReplicaCore("p", 4096, Map.of("obj", 4L * 4096), 1_000_000_000L, out, new PagerStats())
                .groupClock(new GroupClock(() -> {
                    throw new IllegalStateException("planted: the group clock fails at a leader_started");
                }));
        core.apply(1, PagerLogEntry.newBuilder().setClockNanos(T0).setGenesis(Genesis.newBuilder().setTokenEpoch(5)
                .setTokenSeed(ByteString.copyFromUtf8("a seed"))).build());
        Message batch = PagerStateMachine.batch(List.of(
                entry(PagerLogEntry.newBuilder().setLeaderStarted(LeaderStarted.newBuilder().setTerm(1)), T0 + 1),
                entry(PagerLogEntry.newBuilder().setSessionOpened(SessionOpened.newBuilder().setSessionId(SESSION)),
                        T0 + 2),
                entry(PagerLogEntry.newBuilder().setKernelMessage(KernelMessage.newBuilder().setSessionId(SESSION)
                        .setMessage(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                                .setKernelName("A").setProtocolVersion(1)))), T0 + 3)));
        Throwable thrown = catchThrowable(() -> core.apply(2, PagerLogEntry.parseFrom(batch.getContent().toByteArray())));
        assertThat(thrown).as("the batch's apply throws nothing").isNull();
        assertThat(out.sent).as("the entries after the one that threw are applied: A is welcomed")
                .anyMatch(PagerToKernel::hasPagerWelcome);
    }

    @Test
    void anErrorFromAnAppendFailsItsBatchAndLeavesThePipelineRoom() {
        AtomicInteger calls = new AtomicInteger();
        AppendBatches<Message, RaftClientReply> b = AppendBatches.ofRaft(m -> {
            if (calls.incrementAndGet() <= 2) {
                throw new OutOfMemoryError("planted: the append runs out of memory");
            }
            return new CompletableFuture<RaftClientReply>(); // an ordinary append, answered later
        }, list -> list.get(0), 2, Runnable::run);
        CompletableFuture<RaftClientReply> first = sent(b, 1);
        CompletableFuture<RaftClientReply> second = sent(b, 2);
        assertThat(catchThrowable(first::join)).isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(OutOfMemoryError.class);
        assertThat(second).isCompletedExceptionally();
        CompletableFuture<RaftClientReply> third = sent(b, 3);
        assertThat(calls.get()).as("the third entry is appended: nothing is in flight").isEqualTo(3);
        assertThat(third).isNotDone(); // its append answers later, as any
    }

    /** A send, which throws nothing (before, the append's Error came out of it, past JUnit too). */
    private static CompletableFuture<RaftClientReply> sent(AppendBatches<Message, RaftClientReply> b, long index) {
        java.util.concurrent.atomic.AtomicReference<CompletableFuture<RaftClientReply>> f =
                new java.util.concurrent.atomic.AtomicReference<>();
        Throwable thrown = catchThrowable(() -> f.set(b.send(AppendBatchesTest.entry(index))));
        assertThat(thrown).as("send %d throws nothing: the append's failure is its future's", index).isNull();
        return f.get();
    }
}
