package io.machxp.pager.replica;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;

/**
 * A leader's appends, one Raft entry for all that are waiting: group commit on the appending
 * threads, with no timer and no thread of its own.
 *
 * <pre>
 *  send(m), nobody appending    this thread appends m, then, while entries queued up meanwhile
 *                               (other XP streams' messages, the ticker's), appends them all as one
 *                               batch entry (up to {@value #BATCH_BYTES} bytes each), and so on
 *                               until the queue is empty
 *  send(m), a thread appending  m is queued and the call returns; that thread appends it in its
 *                               next batch
 *  the reply of an append       completes the future of every entry in it (a batch commits and is
 *                               applied whole, or fails whole)
 * </pre>
 * Order: entries are appended in the order their sends were queued, and a batch's in that order
 * too, so a send that returned before another began is before it in the log, as when each send
 * appended on its own thread. An entry costs Ratis per Raft entry, not per byte (the request and
 * its retry-cache entry, the log write, an appendEntries item to every follower, an apply and a
 * reply on every replica, and the thread wake-ups between them): a batch of n pays that once.
 * Nothing waits for a batch to fill: an entry that finds nobody appending goes at once, so a lone
 * message's latency is what it was.
 */
final class AppendBatches {
    /** A batch takes entries up to this many bytes (a larger entry goes alone): far below Ratis's entry limit. */
    static final int BATCH_BYTES = 256 << 10;

    private final Function<Message, CompletableFuture<RaftClientReply>> append;
    private final Function<List<Message>, Message> join;
    private final ConcurrentLinkedQueue<Waiting> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean appending = new AtomicBoolean();

    private record Waiting(Message message, CompletableFuture<RaftClientReply> reply) {}

    /**
     * @param append appends one Raft entry (on the calling thread), its future the reply
     * @param join one entry that applies the given ones in order
     */
    AppendBatches(Function<Message, CompletableFuture<RaftClientReply>> append, Function<List<Message>, Message> join) {
        this.append = append;
        this.join = join;
    }

    /** Appends {@code m} now or in the next batch; the future completes with its entry's reply. */
    CompletableFuture<RaftClientReply> send(Message m) {
        Waiting w = new Waiting(m, new CompletableFuture<>());
        queue.add(w);
        // Whoever holds the flag drains the queue; re-checked after letting go, so no entry is left behind.
        while (!queue.isEmpty() && appending.compareAndSet(false, true)) {
            try {
                drain();
            } finally {
                appending.set(false);
            }
        }
        return w.reply;
    }

    private void drain() {
        Waiting first;
        while ((first = queue.poll()) != null) {
            List<Waiting> batch = new ArrayList<>(4);
            batch.add(first);
            int bytes = first.message.getContent().size();
            Waiting next;
            while (bytes < BATCH_BYTES && (next = queue.peek()) != null
                    && bytes + next.message.getContent().size() <= BATCH_BYTES) {
                batch.add(queue.poll()); // the only thread polling: it is next
                bytes += next.message.getContent().size();
            }
            appendNow(batch);
        }
    }


    private void appendNow(List<Waiting> batch) {
        CompletableFuture<RaftClientReply> reply;
        try {
            if (batch.size() == 1) {
                reply = append.apply(batch.get(0).message);
            } else {
                List<Message> messages = new ArrayList<>(batch.size());
                batch.forEach(w -> messages.add(w.message));
                reply = append.apply(join.apply(messages));
            }
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, e) -> {
            for (Waiting w : batch) {
                if (e != null) {
                    w.reply.completeExceptionally(e);
                } else {
                    w.reply.complete(r);
                }
            }
        });
    }
}
