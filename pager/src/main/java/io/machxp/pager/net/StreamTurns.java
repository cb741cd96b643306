package io.machxp.pager.net;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Turns of the kernels' XP streams on the pager's one event loop: each stream's messages are
 * taken with gRPC's manual inbound flow control, at most {@link #DEFAULT_MESSAGES_PER_TURN} in a
 * row; then the stream waits for its next turn, which comes only after the loop has read every
 * other connection once more. So one kernel's burst (65,536 back-to-back {@code lock_futex}, the
 * xpprobe's {@code cache_stall}) no longer keeps another kernel's keepalive waiting behind it for
 * seconds, longer than a lease (docs/limits.md).
 *
 * <h2>Overview</h2>
 * <pre>
 *  stream opens                       one message requested (as gRPC's automatic flow control does)
 *  a message handled, turn not used   the next requested at once (inline, as gRPC's automatic flow
 *                                       control does: no task, no allocation)
 *  a message handled, turn used up    nothing requested: the stream joins the waiting line; one
 *                                       turn task is scheduled for the next pass of the loop
 *  turn task (after the loop's I/O)   each stream that waited when it started gets a new turn, in
 *                                       line order (round-robin); those that use it up wait again,
 *                                       for a task after the loop's next I/O
 *  stream ends                        marked ended: the turn task drops it from the line, nothing
 *                                       requested of it (O(1), no scan of the line)
 * </pre>
 * What a waiting stream's kernel sends meanwhile stays in gRPC's deframer and HTTP/2's window
 * (1 MiB a stream): the window is given back only as messages are taken, so a waiting kernel is
 * held back by flow control, not buffered without bound.
 *
 * <p>Why flow control and not a lease that counts a keepalive the transport read but the core has
 * not handled yet: that would keep a starved kernel alive, but everything else it waits for (a
 * grant, a page, the keepalive's answer, which its own lease counts from) would still wait behind
 * the burst; and the transport cannot tell a keepalive without parsing every message. Turns bound
 * the wait of every message of every other kernel.
 *
 * <p>"The next pass" is {@code nextPass}: on Netty's event loop a task scheduled with no delay,
 * which Netty moves to its task queue only when it starts running tasks, after a round of I/O; a
 * turn task scheduled by a turn task therefore runs after the following round of I/O. Everything
 * here runs on that one thread.
 */
public final class StreamTurns {
    /**
     * Messages of one stream handled in a row before the others' have a turn. A lock_futex costs
     * the core some 10-50 us (more at load), so a turn is a few milliseconds at most; a kernel
     * sending at a normal rate never uses a turn up before the loop's next pass.
     */
    public static final int DEFAULT_MESSAGES_PER_TURN = 64;

    private final int perTurn;
    private final Consumer<Runnable> nextPass;
    private final ArrayDeque<Turn> waiting = new ArrayDeque<>();
    private final Runnable giveTurns = this::giveTurns;
    private boolean taskDue;

    /**
     * @param perTurn messages of one stream in a row
     * @param nextPass runs a task on the loop after its next round of I/O
     */
    public StreamTurns(int perTurn, Consumer<Runnable> nextPass) {
        if (perTurn < 1) {
            throw new IllegalArgumentException("a stream's turn must take at least one message, not " + perTurn);
        }
        this.perTurn = perTurn;
        this.nextPass = nextPass;
    }

    /** Streams waiting for their turn now (ended ones too, until the turn task drops them). */
    public int waiting() {
        return waiting.size();
    }

    /**
     * A new stream's turn: automatic inbound flow control off. Call within the service method
     * (before it returns, as gRPC requires), then {@link Turn#start} once the listener is ready.
     */
    public Turn open(ServerCallStreamObserver<?> call) {
        call.disableAutoRequest();
        return new Turn(call);
    }

    private void giveTurns() {
        taskDue = false;
        for (int n = waiting.size(); n > 0; n--) { // only those waiting now: a turn used up here waits again
            Turn t = waiting.poll();
            if (!t.ended) {
                t.left = perTurn;
                t.call.request(1);
            }
        }
    }

    /** One stream's place: how many messages it may still take in this turn. */
    public final class Turn {
        private final ServerCallStreamObserver<?> call;
        private int left = perTurn;
        private boolean ended;

        private Turn(ServerCallStreamObserver<?> call) {
            this.call = call;
        }

        /** Requests the stream's first message. */
        public void start() {
            call.request(1);
        }

        /** After each message taken: the next requested now, or the stream waits for its next turn. */
        public void taken() {
            if (ended) {
                return;
            }
            if (--left > 0) {
                call.request(1);
                return;
            }
            waiting.add(this);
            if (!taskDue) {
                taskDue = true;
                nextPass.accept(giveTurns);
            }
        }

        /** The stream ended (or the pager stops taking its messages): no turn is given to it again. */
        public void end() {
            ended = true; // one waiting stays in the line until the turn task, which drops it: no scan of the line
        }
    }
}
