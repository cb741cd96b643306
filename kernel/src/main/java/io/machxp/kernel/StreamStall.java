package io.machxp.kernel;

import io.grpc.stub.ClientCallStreamObserver;
import io.machxp.proto.xp.KernelToPager;
import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * The bound on what waits on one {@link PagerLink}'s stream for a pager that does not read it
 * (xp-spec 4.7), as the pager bounds a kernel's ({@link XpSendLimits}). Core thread.
 *
 * <h2>Overview</h2>
 * A pager that does not read its stream (gRPC's flow control: the stream is not ready, the
 * pager's window is full) makes what the kernel sends wait. The bound is checked at every message
 * the core sends ({@link #admit}): while the stream is not ready, at most {@code maxBytes} are
 * handed to gRPC; what does not fit waits in the kernel ({@link SendBacklog}) or, if it is counted
 * and passes the bound, stalls the stream.
 * <pre>
 *  FLOWING  --send while not ready-->                   WAITING (a patience timer starts; the
 *                                                               bytes handed meanwhile are counted)
 *  WAITING  --the stream is ready again (onReady)-->    FLOWING; what waits in the backlog goes
 *                                                       first, as far as the stream takes it
 *  WAITING  --not ready for the patience, or more
 *             than the bound in bytes waiting-->        STALLED: {@link Stalled#stalled} (the
 *                                                       link asks the core to resume the session
 *                                                       on a new connection, or cancels the stream)
 *  STALLED  nothing more is written on the stream, even if it becomes ready again, and nothing
 *           more is taken from it ({@link #overflowed}): what the core would answer is kept for the
 *           resume, and a pager that goes on asking while it reads nothing cannot make the kernel
 *           keep more than the bound and the one message that passed it
 *  new stream ({@link #newStream})                      FLOWING, the backlog empty
 * </pre>
 * While the core handles the pager's welcome to a resume ({@link #resending}), what it sends
 * again was counted against the bound on the stream it left, and does not count towards a stall
 * again (it may exceed the bound by itself: it is what the pager did not read). It still goes to
 * gRPC only within the bound: the rest waits in the backlog, and goes as the pager reads. A
 * counted message sent while anything waits waits behind it, and counts. The send path adds one
 * call of gRPC's isReady per message; the rest runs only while the stream is not ready.
 */
final class StreamStall {
    /** What the link does with a stalled stream. */
    interface Stalled {
        /** Core thread, never inside a send: stream {@code stream} passed a bound, for the reason {@code why}. */
        void stalled(int stream, String why);
    }

    /** What becomes of a message the core sends on a stream that has connected. */
    enum Verdict {
        /** Handed to gRPC now. */
        HAND,
        /** Waits in the kernel's backlog; handed when the stream takes it. */
        WAIT,
        /** Not written: the stream is stalled (the core keeps it for a resume, or the stream breaks). */
        HOLD
    }

    private final EventLoop loop;
    /** The link's current stream number: a timer of an older stream does nothing. */
    private final IntSupplier currentStream;
    private final Stalled onStall;
    /** Hands a message to the current stream's gRPC call (the link's, which the tap hears). */
    private final Consumer<KernelToPager> hand;
    /** How long the stream may stay not ready, and how much may wait on it meanwhile. */
    private final long patienceNanos;
    private final long maxUnsentBytes;
    /** The current stream's call, for its flow control. */
    private ClientCallStreamObserver<KernelToPager> call;
    /** Counts the waits (stream not ready): a wait's timer acts on its own only. */
    private long waits;
    /** Whether the current stream is waiting (not ready since a send). */
    private boolean waiting;
    /** The bytes handed to gRPC in this wait (sent again after a resume included): at most the bound. */
    private long handedBytes;
    /** Of those, the counted ones (not sent again): with the backlog's counted bytes, what a stall weighs. */
    private long countedBytes;
    /** What the current stream does not take yet. */
    private final SendBacklog backlog = new SendBacklog();
    /** The current stream passed a bound: nothing more is written on it, nor taken from it. */
    private boolean overflowed;
    /** The core is handling the pager's welcome to a resume: what it sends again is not counted. */
    private boolean resending;

    StreamStall(EventLoop loop, XpSendLimits limits, IntSupplier currentStream, Stalled onStall,
            Consumer<KernelToPager> hand) {
        this.loop = loop;
        this.patienceNanos = limits.patience().toNanos();
        this.maxUnsentBytes = limits.maxBytes();
        this.currentStream = currentStream;
        this.onStall = onStall;
        this.hand = hand;
    }

    /** A new stream (its call starts next, {@link #started}): it flows; what waited for the old one is dropped. */
    void newStream() {
        waiting = false;
        overflowed = false;
        backlog.clear();
    }

    /** The new stream's call, before it starts. */
    void started(ClientCallStreamObserver<KernelToPager> started) {
        call = started;
    }

    /**
     * gRPC says the current stream is ready: if it takes more again, the pager read, and the wait
     * is over; what waits in the backlog goes, as far as the stream takes it within the bound.
     */
    void onReady() {
        if (call.isReady()) {
            waiting = false;
        }
        drain();
    }

    /** Whether the current stream is stalled: the link takes nothing more from it. */
    boolean overflowed() {
        return overflowed;
    }

    /** What becomes of {@code message}, sent on the current stream, which has connected. */
    Verdict admit(KernelToPager message) {
        if (overflowed) {
            return Verdict.HOLD;
        }
        if (backlog.isEmpty() && call.isReady()) {
            return Verdict.HAND;
        }
        long bytes = message.getSerializedSize();
        boolean counted = !resending;
        startWait();
        if (backlog.isEmpty() && handedBytes + bytes <= maxUnsentBytes) {
            handedBytes += bytes;
            if (counted) {
                countedBytes += bytes;
            }
            return Verdict.HAND;
        }
        if (counted && countedBytes + backlog.countedBytes() + bytes > maxUnsentBytes) {
            overflow();
            return Verdict.HOLD;
        }
        backlog.add(message, bytes, counted);
        return Verdict.WAIT;
    }

    /** The link saw the stream stalled: nothing more is written on it. */
    void stalled() {
        overflowed = true;
    }

    /** Whether the core is sending again what a resumed stream's pager did not read (not counted). */
    void resending(boolean again) {
        resending = again;
    }

    /** Before a half-close: everything still waiting goes to gRPC, whatever the bound (the stream ends after it). */
    void flush() {
        while (!overflowed && !backlog.isEmpty()) {
            hand.accept(backlog.poll().message());
        }
    }

    /** Messages waiting in the backlog now; for tests and log lines. */
    int backlogSize() {
        return backlog.size();
    }

    /** Hands the backlog's head to gRPC while the stream takes it: ready, or within the bound while not. */
    private void drain() {
        while (!overflowed && !backlog.isEmpty()) {
            SendBacklog.Waiting head = backlog.peek();
            if (!call.isReady()) {
                startWait();
                if (handedBytes + head.bytes() > maxUnsentBytes) {
                    return; // the next onReady goes on
                }
                handedBytes += head.bytes();
                if (head.counted()) {
                    countedBytes += head.bytes();
                }
            }
            backlog.poll();
            hand.accept(head.message());
        }
    }

    /** The stream takes nothing now: a wait starts, with its patience timer, unless one is on. */
    private void startWait() {
        if (waiting) {
            return;
        }
        waiting = true;
        handedBytes = 0;
        countedBytes = 0;
        long wait = ++waits;
        int current = currentStream.getAsInt();
        loop.schedule(() -> {
            if (current == currentStream.getAsInt() && wait == waits && waiting && !overflowed && !call.isReady()) {
                onStall.stalled(current, "the pager has not read what waits on the stream for "
                        + patienceNanos / 1_000_000 + " ms (gRPC's flow control: the stream takes no more)");
            }
        }, patienceNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A counted message passed the bound: the stream is stalled at once (nothing more is written on
     * it or taken from it); the link hears it next on the loop, not inside the core's own send.
     */
    private void overflow() {
        overflowed = true;
        int current = currentStream.getAsInt();
        String why = "more than " + maxUnsentBytes + " bytes of messages wait on the stream: the pager does not "
                + "read it (gRPC's flow control: the stream takes no more)";
        loop.execute(() -> onStall.stalled(current, why));
    }
}
