package io.machxp.pager.replica;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;

/**
 * A leader's appends, grouped: while {@code maxInFlight} Raft entries of this appender are
 * appended and not yet applied, what is sent meanwhile waits here, and goes as one Raft entry (a
 * {@code batch}, pager_replica.proto) as soon as one of them is applied. Group commit with a
 * bounded pipeline: a Raft entry costs Ratis per entry, not per byte (the request, its retry-cache
 * and pending-request records, the log write, an appendEntries item to every follower, an apply
 * and a reply on every replica, the thread wake-ups between them), and a batch of n pays it once.
 *
 * <pre>
 *  send(m), fewer than maxInFlight    m and whatever waits are appended now, on this thread, as
 *    appended and not applied           one entry (a lone entry as itself: its latency is what it was)
 *  send(m), maxInFlight of them       m waits; the call returns
 *  an entry is applied (its reply)    the future of every entry in it completes (a batch commits
 *                                       and is applied whole, or fails whole); what waits is
 *                                       appended as the next entry, on this appender's own thread
 *                                       (not on Ratis's applying thread that completed the reply:
 *                                       an append may wait for the division's lock)
 * </pre>
 * Order: one thread at a time appends ({@code appending}), taking entries in the order their sends
 * queued them, so a send that returned before another began is before it in the log, as when each
 * send appended on its own thread; a batch's entries are in that order too. A batch holds at most
 * {@link #BATCH_BYTES} bytes (a larger entry goes alone) and {@link #BATCH_ENTRIES} entries. Nothing
 * is lost: a queued entry is appended, or its future fails (the appender closed: every later
 * append fails at once, and {@link #close} takes what waits at once, so the queue drains even if
 * the entries in flight are never answered).
 *
 * <p>Generic in what an entry is ({@code M}) and what its append answers ({@code R}): Ratis's
 * {@link Message} and {@link RaftClientReply} for {@link LeaderAppender} ({@link #ofRaft}), the
 * simulator's {@code PagerLogEntry} and its modelled log's {@code Boolean} for its replicas
 * ({@code SimReplica}, so that the seeded chaos runs with replicas go through the same batching,
 * rv58 INFO-1). Nothing here reads a clock or draws a number: with an {@code afterApply} that runs
 * in the caller's order, the batches are a function of the sends and the replies' order.
 */
public final class AppendBatches<M, R> {
    /** A batch takes entries up to this many bytes (a larger entry goes alone): far below Ratis's entry limit. */
    static final int BATCH_BYTES = 256 << 10;
    /** A batch takes at most this many entries. */
    static final int BATCH_ENTRIES = 1024;
    /**
     * Raft entries of one appender appended and not yet applied, at most, before sends wait to be
     * batched: 2, so that one batch gathers while the one before commits (the property
     * {@code machxp.replica.batchesInFlight} sets another, for measurements).
     */
    static final int DEFAULT_IN_FLIGHT = Math.max(1, Integer.getInteger("machxp.replica.batchesInFlight", 2));

    private final Function<M, CompletableFuture<R>> append;
    private final Function<List<M>, M> join;
    private final ToIntFunction<M> size;
    private final int maxInFlight;
    private final Executor afterApply;
    private final ConcurrentLinkedQueue<Waiting<M, R>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean appending = new AtomicBoolean();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong raftEntries = new AtomicLong();
    /** Whether the appender closed: what waits is taken at once, past the pipeline's depth (each append fails). */
    private volatile boolean closing;

    private record Waiting<M, R>(M message, CompletableFuture<R> reply) {}

    /**
     * @param append appends one Raft entry (on the calling thread), its future the reply once applied
     * @param join one entry that applies the given ones in order
     * @param size an entry's bytes (for {@link #BATCH_BYTES})
     * @param maxInFlight Raft entries appended and not yet applied before sends wait (at least 1)
     * @param afterApply runs the appends that follow an apply (not on the thread that completed it)
     */
    public AppendBatches(Function<M, CompletableFuture<R>> append, Function<List<M>, M> join, ToIntFunction<M> size,
            int maxInFlight, Executor afterApply) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("a pipeline of " + maxInFlight + " entries: at least 1");
        }
        this.append = append;
        this.join = join;
        this.size = size;
        this.maxInFlight = maxInFlight;
        this.afterApply = afterApply;
    }

    /**
     * A Ratis leader's: {@link #DEFAULT_IN_FLIGHT} deep, what follows an apply appended on a thread
     * of its own ({@code replica-batched-appends}).
     *
     * @param append appends one Raft entry (on the calling thread), its future the reply once applied
     * @param join one entry that applies the given ones in order
     */
    static AppendBatches<Message, RaftClientReply> ofRaft(Function<Message, CompletableFuture<RaftClientReply>> append,
            Function<List<Message>, Message> join) {
        return ofRaft(append, join, DEFAULT_IN_FLIGHT, appendsThread());
    }

    /** With the pipeline's depth and the executor of the appends that follow an apply given (a test's). */
    static AppendBatches<Message, RaftClientReply> ofRaft(Function<Message, CompletableFuture<RaftClientReply>> append,
            Function<List<Message>, Message> join, int maxInFlight, Executor afterApply) {
        return new AppendBatches<>(append, join, m -> m.getContent().size(), maxInFlight, afterApply);
    }

    /**
     * One daemon thread, started when an apply leaves entries waiting and ended a second after the
     * last such append.
     */
    private static Executor appendsThread() {
        return new ThreadPoolExecutor(0, 1, 1, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "replica-batched-appends");
            t.setDaemon(true);
            return t;
        });
    }

    /** Appends {@code m} now or in a later batch; the future completes with its Raft entry's reply. */
    public CompletableFuture<R> send(M m) {
        Waiting<M, R> w = new Waiting<>(m, new CompletableFuture<>());
        sent.incrementAndGet();
        queue.add(w);
        drain();
        return w.reply;
    }

    /**
     * The appender closed (its appends fail at once from now on): what waits is taken now, not
     * after the entries in flight, which a closed Raft server may never answer, so that every
     * waiting entry's future fails and its stream ends.
     */
    public void close() {
        closing = true;
        drain();
    }

    /** Entries sent, and the Raft entries they went in, so far. */
    public long[] counts() {
        return new long[] {sent.get(), raftEntries.get()};
    }

    /**
     * Appends what waits while the pipeline has room. Whoever holds the flag appends; the
     * condition is checked again after letting go, so no entry is left behind by a send or an
     * apply that came meanwhile.
     */
    private void drain() {
        while (!queue.isEmpty() && hasRoom() && appending.compareAndSet(false, true)) {
            try {
                List<Waiting<M, R>> batch;
                while (hasRoom() && (batch = take()) != null) {
                    inFlight.incrementAndGet();
                    appendNow(batch);
                }
            } finally {
                appending.set(false);
            }
        }
    }

    private boolean hasRoom() {
        return closing || inFlight.get() < maxInFlight;
    }

    /** The next batch, in queue order (only the thread holding the flag polls); null if none waits. */
    private List<Waiting<M, R>> take() {
        Waiting<M, R> first = queue.poll();
        if (first == null) {
            return null;
        }
        List<Waiting<M, R>> batch = new ArrayList<>(4);
        batch.add(first);
        long bytes = size(first);
        Waiting<M, R> next;
        while (batch.size() < BATCH_ENTRIES && (next = queue.peek()) != null && bytes + size(next) <= BATCH_BYTES) {
            batch.add(queue.poll());
            bytes += size(next);
        }
        return batch;
    }

    private int size(Waiting<M, R> w) {
        return size.applyAsInt(w.message);
    }

    private void appendNow(List<Waiting<M, R>> batch) {
        raftEntries.incrementAndGet();
        CompletableFuture<R> reply;
        try {
            if (batch.size() == 1) {
                reply = append.apply(batch.get(0).message);
            } else {
                List<M> messages = new ArrayList<>(batch.size());
                for (Waiting<M, R> w : batch) {
                    messages.add(w.message);
                }
                reply = append.apply(join.apply(messages));
            }
        } catch (Throwable e) {
            // Anything, an Error too (OutOfMemoryError in Ratis): the batch fails, its in-flight
            // count is given back below, so the pipeline is not left full for good (rv58 LOW-2).
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((r, e) -> {
            inFlight.decrementAndGet();
            for (Waiting<M, R> w : batch) {
                if (e != null) {
                    w.reply.completeExceptionally(e);
                } else {
                    w.reply.complete(r);
                }
            }
            if (!queue.isEmpty()) {
                afterApply.execute(this::drain);
            }
        });
    }
}
