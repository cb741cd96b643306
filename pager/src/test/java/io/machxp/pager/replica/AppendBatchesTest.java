package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.Tick;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.junit.jupiter.api.Test;

/**
 * The leader's group commit ({@link AppendBatches}) with a scripted log: a lone send is appended at
 * once on its own thread; sends made while the pipeline is full wait and go as one batch entry, in
 * the order sent, once an entry is applied, on the appender's thread; a batch completes and fails
 * whole; nothing is left waiting; the batch's bytes parse as the entries it holds.
 */
class AppendBatchesTest {
    /** A log whose appends complete when the test says. */
    private static final class Log {
        final List<Message> appended = new ArrayList<>();
        final List<Thread> appendedOn = new ArrayList<>();
        final List<CompletableFuture<RaftClientReply>> replies = new ArrayList<>();

        CompletableFuture<RaftClientReply> append(Message m) {
            appended.add(m);
            appendedOn.add(Thread.currentThread());
            CompletableFuture<RaftClientReply> r = new CompletableFuture<>();
            replies.add(r);
            return r;
        }
    }

    /** The appender's thread, run when the test says. */
    private static final class Later implements Executor {
        final List<Runnable> tasks = new ArrayList<>();

        @Override
        public void execute(Runnable r) {
            tasks.add(r);
        }

        void runAll() {
            while (!tasks.isEmpty()) {
                tasks.remove(0).run();
            }
        }
    }

    static Message entry(long index) {
        return PagerStateMachine.message(PagerLogEntry.newBuilder().setClockNanos(index).setTerm(3)
                .setKernelMessage(KernelMessage.newBuilder().setSessionId(7).setIndex(index)).build());
    }

    private static List<Long> indexes(Message m) throws Exception {
        PagerLogEntry e = PagerLogEntry.parseFrom(m.getContent().toByteArray());
        List<Long> out = new ArrayList<>();
        if (e.hasBatch()) {
            for (PagerLogEntry inner : e.getBatch().getEntriesList()) {
                out.add(inner.getKernelMessage().getIndex());
                assertThat(inner.getClockNanos()).isEqualTo(inner.getKernelMessage().getIndex()); // each keeps its stamp
            }
        } else {
            out.add(e.getKernelMessage().getIndex());
        }
        return out;
    }

    @Test
    void aLoneSendIsAppendedAtOnceOnItsThread() {
        Log log = new Log();
        Later later = new Later();
        AppendBatches<Message, RaftClientReply> batches = AppendBatches.ofRaft(log::append, PagerStateMachine::batch, 2, later);
        CompletableFuture<RaftClientReply> reply = batches.send(entry(1));
        assertThat(log.appendedOn).containsExactly(Thread.currentThread());
        log.replies.get(0).complete(null);
        assertThat(reply).isDone();
        assertThat(later.tasks).as("nothing waited: no append after the apply").isEmpty();
    }

    @Test
    void sendsWhileThePipelineIsFullGoAsOneEntryInOrderOnceOneIsApplied() throws Exception {
        Log log = new Log();
        Later later = new Later();
        AppendBatches<Message, RaftClientReply> batches = AppendBatches.ofRaft(log::append, PagerStateMachine::batch, 2, later);
        List<CompletableFuture<RaftClientReply>> replies = new ArrayList<>();
        for (long i = 1; i <= 6; i++) {
            replies.add(batches.send(entry(i)));
        }
        assertThat(log.appended).as("two in flight, the others wait").hasSize(2);
        assertThat(indexes(log.appended.get(0))).containsExactly(1L);
        assertThat(indexes(log.appended.get(1))).containsExactly(2L);

        log.replies.get(0).complete(null); // entry 1 applied
        assertThat(replies.get(0)).isDone();
        assertThat(log.appended).as("appended on the appender's thread, not the applying one").hasSize(2);
        later.runAll();
        assertThat(log.appended).hasSize(3);
        assertThat(indexes(log.appended.get(2))).containsExactly(3L, 4L, 5L, 6L);
        assertThat(replies.subList(1, 6)).noneMatch(CompletableFuture::isDone);

        log.replies.get(2).complete(null); // the batch applied before entry 2: each completes with its own entry
        assertThat(replies.subList(2, 6)).allMatch(CompletableFuture::isDone);
        assertThat(replies.get(1)).isNotDone();
        assertThat(batches.counts()).containsExactly(6L, 3L);
    }

    @Test
    void aBatchFailsWholeAndTheQueueDrains() {
        Log log = new Log();
        Later later = new Later();
        AppendBatches<Message, RaftClientReply> batches = AppendBatches.ofRaft(log::append, PagerStateMachine::batch, 1, later);
        CompletableFuture<RaftClientReply> first = batches.send(entry(1));
        CompletableFuture<RaftClientReply> second = batches.send(entry(2));
        CompletableFuture<RaftClientReply> third = batches.send(entry(3));
        log.replies.get(0).completeExceptionally(new IllegalStateException("not leader"));
        assertThat(first).isCompletedExceptionally();
        later.runAll();
        log.replies.get(1).completeExceptionally(new IllegalStateException("not leader"));
        assertThat(second).isCompletedExceptionally();
        assertThat(third).isCompletedExceptionally();
        later.runAll();
        assertThat(later.tasks).isEmpty();
    }

    @Test
    void aClosedAppendersWaitingEntriesFailAtOnceThoughThoseInFlightAreNeverAnswered() {
        Log log = new Log();
        Later later = new Later();
        boolean[] closed = {false};
        AppendBatches<Message, RaftClientReply> batches = AppendBatches.ofRaft(m -> closed[0]
                ? CompletableFuture.failedFuture(new IllegalStateException("closed")) : log.append(m),
                PagerStateMachine::batch, 1, later);
        CompletableFuture<RaftClientReply> inFlight = batches.send(entry(1));
        CompletableFuture<RaftClientReply> waiting = batches.send(entry(2));
        closed[0] = true;
        batches.close();
        assertThat(waiting).isCompletedExceptionally();
        assertThat(inFlight).isNotDone();
        assertThat(batches.send(entry(3))).isCompletedExceptionally();
    }

    @Test
    void aBatchHoldsAtMostItsBytesALargerEntryGoesAlone() throws Exception {
        Log log = new Log();
        Later later = new Later();
        AppendBatches<Message, RaftClientReply> batches = AppendBatches.ofRaft(log::append, PagerStateMachine::batch, 1, later);
        batches.send(entry(1));
        Message large = PagerStateMachine.message(PagerLogEntry.newBuilder().setClockNanos(2).setKernelMessage(
                KernelMessage.newBuilder().setSessionId(7).setIndex(2).setMessage(io.machxp.proto.xp.KernelToPager
                        .newBuilder().setMemoryObjectDataReturn(io.machxp.proto.xp.MemoryObjectDataReturn.newBuilder().setData(
                                com.google.protobuf.ByteString.copyFrom(new byte[AppendBatches.BATCH_BYTES]))))).build());
        batches.send(entry(3));
        batches.send(large);
        batches.send(entry(4));
        log.replies.get(0).complete(null);
        later.runAll();
        assertThat(indexes(log.appended.get(1))).containsExactly(3L);
        log.replies.get(1).complete(null);
        later.runAll();
        assertThat(log.appended.get(2)).isSameAs(large);
        log.replies.get(2).complete(null);
        later.runAll();
        assertThat(indexes(log.appended.get(3))).containsExactly(4L);
    }

    @Test
    void aBatchesBytesParseAsItsEntries() throws Exception {
        List<Message> entries = List.of(entry(5), PagerStateMachine.message(PagerLogEntry.newBuilder()
                .setTick(Tick.getDefaultInstance()).setClockNanos(9).build()), entry(6));
        PagerLogEntry batch = PagerLogEntry.parseFrom(PagerStateMachine.batch(entries).getContent().toByteArray());
        assertThat(batch.getBatch().getEntriesCount()).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            assertThat(batch.getBatch().getEntries(i))
                    .isEqualTo(PagerLogEntry.parseFrom(entries.get(i).getContent().toByteArray()));
        }
    }
}
