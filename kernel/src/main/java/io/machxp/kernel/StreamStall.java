package io.machxp.kernel;

import io.grpc.stub.ClientCallStreamObserver;
import io.machxp.proto.xp.KernelToPager;
import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The bound on what waits on one {@link PagerLink}'s stream for a pager that does not read it
 * (xp-spec 4.7), as the pager bounds a kernel's ({@link XpSendLimits}). Core thread.
 *
 * <h2>Overview</h2>
 * A pager that does not read its stream (gRPC's flow control: the stream is not ready, the
 * pager's window is full) makes what the kernel sends wait in gRPC's buffers.
 * <pre>
 *  FLOWING  --send while not ready-->                   WAITING (a patience timer starts; the
 *                                                               bytes sent meanwhile are counted)
 *  WAITING  --the stream is ready again (onReady)-->    FLOWING
 *  WAITING  --not ready for the patience, or more
 *             than the bound in bytes waiting-->        STALLED: {@link Stalled#stalled} (the
 *                                                       link asks the core to resume the session
 *                                                       on a new connection, or cancels the stream)
 *  STALLED  nothing more is written on the stream, even if it becomes ready again
 *  new stream ({@link #newStream})                      FLOWING
 * </pre>
 * While the core handles the pager's welcome to a resume ({@link #resending}), what it sends
 * again was counted against the bound on the stream it left, and is not counted again (it may
 * exceed the bound by itself: it is what the pager did not read). The send path adds one call of
 * gRPC's isReady per message; the rest runs only while the stream is not ready.
 */
final class StreamStall {
    /** What the link does with a stalled stream. */
    interface Stalled {
        /** Core thread, never inside a send: stream {@code stream} passed a bound, for the reason {@code why}. */
        void stalled(int stream, String why);
    }

    private final EventLoop loop;
    /** The link's current stream number: a timer of an older stream does nothing. */
    private final IntSupplier currentStream;
    private final Stalled onStall;
    /** How long the stream may stay not ready, and how much may wait on it meanwhile. */
    private final long patienceNanos;
    private final long maxUnsentBytes;
    /** The current stream's call, for its flow control. */
    private ClientCallStreamObserver<KernelToPager> call;
    /** Counts the waits (stream not ready): a wait's timer acts on its own only. */
    private long waits;
    /** Whether the current stream is waiting (not ready since a send), and the bytes sent meanwhile. */
    private boolean waiting;
    private long waitingBytes;
    /** The current stream passed a bound: nothing more is written on it. */
    private boolean overflowed;
    /** The core is handling the pager's welcome to a resume: what it sends again is not counted. */
    private boolean resending;

    StreamStall(EventLoop loop, XpSendLimits limits, IntSupplier currentStream, Stalled onStall) {
        this.loop = loop;
        this.patienceNanos = limits.patience().toNanos();
        this.maxUnsentBytes = limits.maxBytes();
        this.currentStream = currentStream;
        this.onStall = onStall;
    }

    /** A new stream (its call starts next, {@link #started}): it flows. */
    void newStream() {
        waiting = false;
        overflowed = false;
    }

    /** The new stream's call, before it starts. */
    void started(ClientCallStreamObserver<KernelToPager> started) {
        call = started;
    }

    /** gRPC says the current stream is ready: if it takes more again, the pager read, and the wait is over. */
    void onReady() {
        if (call.isReady()) {
            waiting = false;
        }
    }

    /**
     * Whether {@code message} must not be written on the current stream (which has connected):
     * it is stalled, or takes nothing now and the message passes the bounds.
     */
    boolean holds(KernelToPager message) {
        return overflowed || !call.isReady() && !mayWait(message);
    }

    /** The link saw the stream stalled: nothing more is written on it. */
    void stalled() {
        overflowed = true;
    }

    /** Whether the core is sending again what a resumed stream's pager did not read (not counted). */
    void resending(boolean again) {
        resending = again;
    }

    /**
     * {@code message} is to go on a stream that takes nothing now (the pager has not read what is
     * on its way). Counts it against the bounds; false once they are passed.
     */
    private boolean mayWait(KernelToPager message) {
        if (overflowed) {
            return false;
        }
        if (!waiting) {
            waiting = true;
            waitingBytes = 0;
            long wait = ++waits;
            int current = currentStream.getAsInt();
            loop.schedule(() -> {
                if (current == currentStream.getAsInt() && wait == waits && waiting && !overflowed && !call.isReady()) {
                    onStall.stalled(current, "the pager has not read what waits on the stream for "
                            + patienceNanos / 1_000_000 + " ms (gRPC's flow control: the stream takes no more)");
                }
            }, patienceNanos, TimeUnit.NANOSECONDS);
        }
        if (!resending) {
            waitingBytes += message.getSerializedSize();
        }
        if (waitingBytes > maxUnsentBytes) {
            overflowed = true;
            int current = currentStream.getAsInt();
            String why = "more than " + maxUnsentBytes + " bytes of messages wait on the stream: the pager does not "
                    + "read it (gRPC's flow control: the stream takes no more)";
            loop.execute(() -> onStall.stalled(current, why)); // not inside the core's own send
            return false;
        }
        return true;
    }
}
