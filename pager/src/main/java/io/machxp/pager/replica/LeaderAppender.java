package io.machxp.pager.replica;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientAsynchronousProtocol;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;

/**
 * How a leading replica appends to its group's log: write requests handed straight to its own
 * Raft division (the group's member in its Raft server), one appender per time it leads.
 *
 * <pre>
 *  open      send(m) -> a write request of this appender's client id and the next call id; the
 *                       division appends it to its log on the calling thread before the call
 *                       returns (Ratis 3.3.0 RaftServerImpl.appendTransaction), so entries
 *                       sent one after the other are in the log in that order; the future
 *                       completes when the entry is applied here, or fails (not the leader, not
 *                       ready, stepping down, closing)
 *  closed    send(m) -> failed at once, nothing appended (this replica stopped leading, or an
 *                       append failed and the replica made a new appender)
 * </pre>
 *
 * Sends made while {@link AppendBatches#DEFAULT_IN_FLIGHT} entries of this appender are appended
 * and not yet applied wait, and go together as one batch entry once one is applied
 * ({@link AppendBatches}): in the order they were sent, so the order above holds for sends that
 * follow one another.
 *
 * <p>No retry and no redirect: an entry this replica cannot append must fail here, never reach the
 * next leader behind the kernel's back. And no timeout: an entry waits for its commit as long as
 * this replica leads (a Raft client's 3 s request timeout failed every append sent during a slow
 * commit). Before this, appends went through a Raft client of the replica's own group: a gRPC
 * round trip to its own server and two more thread hand-offs per entry; then through the Raft
 * server, which still handed each entry to another thread and waited for it ({@link #division}).
 *
 * <p>Each reply's call id is passed back on a later request ({@code repliedCallIds}), as Ratis's
 * own client does, so that the server's retry cache forgets it then, not a minute later.
 */
final class LeaderAppender {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LeaderAppender.class);
    /** Whether an appender of this process said that its appends go through the server ({@link #division}). */
    private static final java.util.concurrent.atomic.AtomicBoolean THROUGH_SERVER_LOGGED =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** At most this many replied call ids ride on one request. */
    private static final int REPLIED_PER_REQUEST = 64;

    private final RaftServer server;
    private final RaftGroupId groupId;
    private final RaftPeerId self;
    /** The Raft term this appender was made for: its leader's entries are stamped and its session ids drawn for it. */
    private final long term;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final ConcurrentLinkedQueue<Long> replied = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    /** The division requests go to, once looked up ({@link #division}). */
    private volatile RaftClientAsynchronousProtocol direct;
    /** Sends that arrive while the pipeline is full wait here and go as one entry. */
    private final AppendBatches<Message, RaftClientReply> batches = AppendBatches.ofRaft(this::appendOne,
            PagerStateMachine::batch);

    LeaderAppender(RaftServer server, RaftGroupId groupId, RaftPeerId self, long term) {
        this.server = server;
        this.groupId = groupId;
        this.self = self;
        this.term = term;
    }

    /** The term this appender was made for (the replica leads it, or led it). */
    long term() {
        return term;
    }

    /** Whether nothing more is appended through this appender. */
    boolean closed() {
        return closed;
    }

    /**
     * Appends {@code m}, alone or in one batch entry with others sent meanwhile ({@link AppendBatches});
     * the reply comes once the entry is applied here.
     */
    CompletableFuture<RaftClientReply> send(Message m) {
        if (closed) {
            return closedFailure();
        }
        return batches.send(m);
    }

    /** Entries sent through this appender, and the Raft entries they went in, so far. */
    long[] counts() {
        return batches.counts();
    }

    private CompletableFuture<RaftClientReply> closedFailure() {
        return CompletableFuture.failedFuture(new IOException("replica " + self + " no longer appends through "
                + "this appender (it stopped leading, or an earlier append failed)"));
    }

    /** One Raft entry, on the calling thread; a batch still waiting when this appender closed is not appended. */
    private CompletableFuture<RaftClientReply> appendOne(Message m) {
        if (closed) {
            return closedFailure();
        }
        long callId = callIds.incrementAndGet();
        RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(self)
                .setGroupId(groupId).setCallId(callId).setRepliedCallIds(repliedSoFar()).setMessage(m)
                .setType(RaftClientRequest.writeRequestType()).build();
        CompletableFuture<RaftClientReply> reply;
        try {
            reply = division().submitClientRequestAsync(request);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return reply.whenComplete((r, e) -> replied.add(callId));
    }

    /**
     * Where a request goes: this replica's division of the group, called on the caller's thread.
     * {@link RaftServer#submitClientRequestAsync} hands each request to the division's client
     * executor and waits for it there (Ratis 3.1.3 and 3.3.0 {@code RaftServerImpl.executeSubmitClientRequestAsync}:
     * a {@code supplyAsync} joined), so the caller blocked as long either way; the hand-off only
     * added a thread wake-up to every commit's path. The division's own
     * {@code submitClientRequestAsync} does the same work (the retry cache, {@code startTransaction},
     * the append under the division's lock) on the calling thread. A division that does not take
     * client requests itself (not Ratis 3.3.0's) is reached through the server, as before, and
     * the first appender in this process that does so says it once at INFO: a Ratis upgrade that
     * loses the direct path shows in the log (review F8 of ratis-latency).
     */
    private RaftClientAsynchronousProtocol division() throws IOException {
        RaftClientAsynchronousProtocol d = direct;
        if (d == null) {
            RaftServer.Division division = server.getDivision(groupId);
            if (division instanceof RaftClientAsynchronousProtocol p) {
                d = p;
            } else {
                d = server;
                if (THROUGH_SERVER_LOGGED.compareAndSet(false, true)) {
                    log.info("replica {}: its Raft division ({}) does not take client requests itself; the leader's "
                            + "appends go through the Raft server, which hands each to another thread (a Ratis other "
                            + "than 3.3.0?)", self, division == null ? "none" : division.getClass().getName());
                }
            }
            direct = d;
        }
        return d;
    }

    private List<Long> repliedSoFar() {
        List<Long> ids = new ArrayList<>();
        Long id;
        while (ids.size() < REPLIED_PER_REQUEST && (id = replied.poll()) != null) {
            ids.add(id);
        }
        return ids;
    }

    /** Nothing more is appended through this appender; entries already appended go on, those still waiting fail. */
    void close() {
        closed = true;
        batches.close();
    }
}
