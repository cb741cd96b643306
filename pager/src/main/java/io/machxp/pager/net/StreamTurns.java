package io.machxp.pager.net;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns of the kernels' XP streams on the pager's one event loop, by peer: the streams of one peer
 * ({@link CallerPeer}: one host, or one certificate) share one turn of
 * {@link #DEFAULT_MESSAGES_PER_TURN} messages, taken round-robin among them; then the peer's
 * streams wait for its next turn, which comes only after the loop has read every other
 * connection once more. So one kernel's burst (65,536 back-to-back {@code lock_futex}, the
 * xpprobe's {@code cache_stall}) no longer keeps another kernel's keepalive waiting behind it for
 * seconds, longer than a lease (docs/limits.md); nor does one host that opens many XP sessions and
 * bursts on each: before, the turn was a stream's, and k sessions of one host had 64 k messages a
 * pass ahead of another kernel's keepalive (review burst M2).
 *
 * <h2>Overview</h2>
 * <pre>
 *  stream opens                       one message requested (as gRPC's automatic flow control does)
 *  a message arrives, its peer's      handled at once; the next requested at once (inline, as gRPC's
 *    turn has room                      automatic flow control does: no task, no allocation)
 *  a message arrives, its peer's      held (one per stream: nothing more is requested of it); the
 *    turn used up                       stream joins its peer's line and the peer the waiting line;
 *                                       one turn task is scheduled for the next pass of the loop
 *  turn task (after the loop's I/O)   each peer that waited when it started gets a new turn: its
 *                                       held messages handled one per stream in line order
 *                                       (round-robin: a stream's next message, requested after its
 *                                       held one, goes to the back of the line) until the turn is
 *                                       used up; a peer with messages left waits again, for a task
 *                                       after the loop's next I/O
 *  stream ends (half-close, cancel)   after its held message, if any, is handled: its end runs then
 *  stream ends (the pager's side)     marked ended: nothing requested of it again; a peer whose last
 *                                       stream ended is forgotten
 * </pre>
 * Every stream that is not holding a message has one requested, so an idle kernel of a busy peer
 * is heard as soon as it speaks (its message joins the back of its peer's line: one pass per 64
 * of the peer's streams holding ahead of it, plus up to two turns of every other busy peer a pass); the
 * messages held are one per stream, which gRPC would otherwise hold in its deframer. What a
 * holding stream's kernel sends meanwhile stays in gRPC's deframer and HTTP/2's window (1 MiB a
 * stream): the window is given back only as messages are taken, so a waiting kernel is held back
 * by flow control, not buffered without bound. A peer's streams together: at most one turn when
 * its connections are read and one when the turn task runs, in each pass of the loop.
 *
 * <p>Why flow control and not a lease that counts a keepalive the transport read but the core has
 * not handled yet: that would keep a starved kernel alive, but everything else it waits for (a
 * grant, a page, the keepalive's answer, which its own lease counts from) would still wait behind
 * the burst; and the transport cannot tell a keepalive without parsing every message. Turns bound
 * the wait of every message of every other peer.
 *
 * <p>Many kernels behind one host (the demo's kernels in one JVM, {@code machxp scale} on
 * loopback) are one peer and share its turn: each is heard every pass, in the peer's line; the
 * cost is a pass of the loop (a look at the sockets) per 64 of their messages.
 *
 * <p>"The next pass" is {@code nextPass}: on Netty's event loop a task scheduled with no delay,
 * which Netty moves to its task queue only when it starts running tasks, after a round of I/O; a
 * turn task scheduled by a turn task therefore runs after the following round of I/O. Everything
 * here runs on that one thread.
 */
public final class StreamTurns {
    /**
     * Messages of one peer's streams handled in a row before the other peers' have a turn. A
     * lock_futex costs the core some 10-50 us (more at load), so a turn is a few milliseconds at
     * most; a kernel sending at a normal rate never uses a turn up before the loop's next pass.
     */
    public static final int DEFAULT_MESSAGES_PER_TURN = 64;

    private final int perTurn;
    private final Consumer<Runnable> nextPass;
    /** The peers with a stream open, by their key ({@link CallerPeer}). */
    private final Map<Object, Peer> peers = new HashMap<>();
    /** Peers with held messages, waiting for a turn. */
    private final ArrayDeque<Peer> waiting = new ArrayDeque<>();
    private final Runnable giveTurns = this::giveTurns;
    private boolean taskDue;
    /** Messages held now, of every peer. */
    private int held;

    /**
     * @param perTurn messages of one peer's streams in a row
     * @param nextPass runs a task on the loop after its next round of I/O
     */
    public StreamTurns(int perTurn, Consumer<Runnable> nextPass) {
        if (perTurn < 1) {
            throw new IllegalArgumentException("a peer's turn must take at least one message, not " + perTurn);
        }
        this.perTurn = perTurn;
        this.nextPass = nextPass;
    }

    /** Streams waiting for their peer's turn now (each holds one message). */
    public int waiting() {
        return held;
    }

    /** Peers with a stream open now. */
    public int peers() {
        return peers.size();
    }

    /**
     * A new stream's turn, in the turn of {@code peer} (null: a peer of its own): automatic
     * inbound flow control off. Call within the service method (before it returns, as gRPC
     * requires), then {@link Turn#start} once the listener is ready.
     */
    public Turn open(ServerCallStreamObserver<?> call, Object peer) {
        call.disableAutoRequest();
        Peer p = peer == null ? new Peer(null) : peers.computeIfAbsent(peer, Peer::new);
        p.streams++;
        Turn t = new Turn(call, p);
        // grpc-java gives neither onError nor onCompleted to a call the pager closed itself (a
        // failed session, a redirect): only this, on every close (review tb LOW-2).
        call.setOnCloseHandler(t::callClosed);
        return t;
    }

    /** A stream that is a peer of its own. */
    public Turn open(ServerCallStreamObserver<?> call) {
        return open(call, null);
    }

    private void giveTurns() {
        taskDue = false;
        for (int n = waiting.size(); n > 0; n--) { // only those waiting now: a turn used up here waits again
            Peer p = waiting.poll();
            p.queued = false;
            p.left = perTurn;
            p.serving = true;
            try {
                while (p.left > 0 && !p.line.isEmpty()) {
                    p.line.poll().handleHeld(); // its next message, requested now, joins the back of the line
                }
            } finally {
                p.serving = false;
            }
            if (!p.line.isEmpty()) {
                p.await();
            } else {
                p.forgetIfDone();
            }
        }
    }

    /** One peer's turn: what is left of it, and its streams that hold a message, in line. */
    private final class Peer {
        private final Object key;
        private final ArrayDeque<Turn> line = new ArrayDeque<>();
        private int left = perTurn;
        private int streams;
        /** In the waiting line. */
        private boolean queued;
        /** Its turn is being given (by the turn task): what arrives meanwhile joins the line. */
        private boolean serving;

        private Peer(Object key) {
            this.key = key;
        }

        /** The peer waits for its next turn (if not already). */
        private void await() {
            if (!queued) {
                queued = true;
                waiting.add(this);
            }
            if (!taskDue) {
                taskDue = true;
                nextPass.accept(giveTurns);
            }
        }

        private void forgetIfDone() {
            if (streams == 0 && !queued && key != null && peers.get(key) == this) {
                peers.remove(key);
            }
        }
    }

    /** One stream's place in its peer's turn. */
    public final class Turn {
        private final ServerCallStreamObserver<?> call;
        private final Peer peer;
        /** The message that arrived after the peer's turn was used up, to handle in its next (null: none). */
        private Object heldMessage;
        private Consumer<Object> heldHandle;
        /** The stream's end, to run after {@link #heldMessage}. */
        private Runnable endAfter;
        private boolean ended;

        private Turn(ServerCallStreamObserver<?> call, Peer peer) {
            this.call = call;
            this.peer = peer;
        }

        /** Requests the stream's first message. */
        public void start() {
            call.request(1);
        }

        /**
         * A message arrived: {@code handle} takes it now if its peer's turn has room, and the next
         * message is requested; else in the peer's next turn, and nothing more is requested of
         * the stream until then.
         */
        @SuppressWarnings("unchecked")
        public <M> void arrived(M message, Consumer<M> handle) {
            if (ended) {
                return;
            }
            if (peer.left > 0 && !peer.serving && peer.line.isEmpty()) {
                peer.left--;
                handle.accept(message);
                requestNext();
                return;
            }
            heldMessage = message;
            heldHandle = (Consumer<Object>) handle;
            held++;
            peer.line.add(this);
            if (!peer.serving) {
                peer.await(); // one being served waits again after its turn, if it has messages left
            }
        }

        /**
         * The kernel ended the stream (half-close, cancel): {@code ending} runs now, or after the
         * message it holds is handled (so in the order they came); nothing is requested again.
         */
        public void close(Runnable ending) {
            if (heldMessage != null) {
                endAfter = ending;
                return;
            }
            end();
            ending.run();
        }

        /**
         * The call closed (the pager ended it, or it completed): the stream leaves its peer, after
         * its held message if it has one; an end already waiting for that message is kept.
         */
        void callClosed() {
            if (heldMessage != null) {
                if (endAfter == null) {
                    endAfter = () -> { };
                }
                return;
            }
            end();
        }

        /** The pager stops taking the stream's messages (or it ended): no turn is given to it again. */
        public void end() {
            if (!ended) {
                ended = true;
                peer.streams--;
                peer.forgetIfDone();
            }
        }

        private void handleHeld() {
            Object message = heldMessage;
            Consumer<Object> handle = heldHandle;
            heldMessage = null;
            heldHandle = null;
            held--;
            peer.left--;
            handle.accept(message);
            Runnable ending = endAfter;
            if (ending != null) {
                endAfter = null;
                end();
                ending.run();
            } else {
                requestNext();
            }
        }

        private void requestNext() {
            if (!ended) {
                call.request(1);
            }
        }
    }
}
