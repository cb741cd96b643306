package io.machxp.pager.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.Tick;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.junit.jupiter.api.Test;

/**
 * The leader's group commit: sends made while another thread appends go as one batch entry, in
 * the order they were queued, and the batch's bytes parse as the entries it holds.
 */
class AppendBatchesTest {

    private static Message entry(long index) {
        return PagerStateMachine.message(PagerLogEntry.newBuilder().setClockNanos(index).setTerm(3)
                .setKernelMessage(KernelMessage.newBuilder().setSessionId(7).setIndex(index)).build());
    }

    private static List<Long> indexes(Message m) throws Exception {
        PagerLogEntry e = PagerLogEntry.parseFrom(m.getContent().toByteArray());
        List<Long> out = new ArrayList<>();
        if (e.hasBatch()) {
            for (PagerLogEntry inner : e.getBatch().getEntriesList()) {
                out.add(inner.getKernelMessage().getIndex());
                assertEquals(inner.getKernelMessage().getIndex(), inner.getClockNanos()); // each keeps its stamp
            }
        } else {
            out.add(e.getKernelMessage().getIndex());
        }
        return out;
    }

    @Test
    void sendsDuringAnAppendGoAsOneEntryInOrder() throws Exception {
        List<Message> appended = new ArrayList<>();
        List<CompletableFuture<RaftClientReply>> replies = new ArrayList<>();
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        AppendBatches batches = new AppendBatches(m -> {
            synchronized (appended) {
                appended.add(m);
            }
            if (appended.size() == 1) {
                inFirst.countDown();
                try {
                    releaseFirst.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            CompletableFuture<RaftClientReply> r = new CompletableFuture<>();
            replies.add(r);
            return r;
        }, PagerStateMachine::batch);

        CompletableFuture<CompletableFuture<RaftClientReply>> first = CompletableFuture.supplyAsync(() -> batches.send(entry(1)));
        assertTrue(inFirst.await(30, TimeUnit.SECONDS));
        List<CompletableFuture<RaftClientReply>> queued = new ArrayList<>();
        for (long i = 2; i <= 4; i++) {
            queued.add(batches.send(entry(i))); // returns at once: the first send is appending
        }
        assertEquals(1, appended.size());
        releaseFirst.countDown();
        first.get(30, TimeUnit.SECONDS);

        assertEquals(2, appended.size(), "the three sends queued during the first append are one entry");
        assertEquals(List.of(1L), indexes(appended.get(0)));
        assertEquals(List.of(2L, 3L, 4L), indexes(appended.get(1)));
        queued.forEach(q -> assertTrue(!q.isDone()));
        replies.get(1).complete(null);
        queued.forEach(q -> assertTrue(q.isDone(), "the batch's reply completes each of its entries"));
    }

    @Test
    void aBatchFailsWhole() {
        CompletableFuture<RaftClientReply> failing = CompletableFuture.failedFuture(new IllegalStateException("not leader"));
        AppendBatches batches = new AppendBatches(m -> failing, PagerStateMachine::batch);
        assertTrue(batches.send(entry(1)).isCompletedExceptionally());
    }

    @Test
    void aBatchAppliesAsItsEntriesOneByOne() throws Exception {
        List<Message> entries = List.of(entry(5), PagerStateMachine.message(PagerLogEntry.newBuilder()
                .setTick(Tick.getDefaultInstance()).setClockNanos(9).build()), entry(6));
        PagerLogEntry batch = PagerLogEntry.parseFrom(PagerStateMachine.batch(entries).getContent().toByteArray());
        assertEquals(3, batch.getBatch().getEntriesCount());
        for (int i = 0; i < 3; i++) {
            assertEquals(PagerLogEntry.parseFrom(entries.get(i).getContent().toByteArray()), batch.getBatch().getEntries(i));
        }
    }
}
