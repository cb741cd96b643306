package io.machxp.pager.replica;

import io.grpc.stub.ServerCallStreamObserver;

/**
 * How much of one kernel stream a replicated pager's leader has appended and not yet seen applied:
 * at most {@link #DEFAULT_IN_FLIGHT} messages, and no further message is taken once
 * {@link #MAX_BYTES} are (so at most {@code MAX_BYTES} plus one message, under 6.1 MiB). The
 * stream's messages are taken with gRPC's manual inbound flow control, one requested at a time
 * (as gRPC's automatic flow control does) while the window has room: when a message is taken and
 * when an append of it completes (applied, or refused). The group's log is one queue for every
 * kernel, so without a bound one kernel's burst (65,536 back-to-back lock_futex, the xpprobe's
 * {@code cache_stall}) was appended ahead of every later keepalive of every other kernel, which
 * waited for the whole burst to be committed and applied, longer than a lease (docs/limits.md).
 * With it, another kernel's keepalive waits behind at most {@code inFlight} entries of each
 * stream. The byte bound keeps a flush of large data_returns (up to 4 MiB each) under Ratis's
 * pending-write byte limit ({@link RaftSettings}): before, 64 of them were 256 MiB, and the append
 * past the limit failed and ended the stream, which the kernel resumed and sent again. What the
 * kernel sends meanwhile waits in HTTP/2's window, which holds it back.
 *
 * <p>Thread-safe: the append's completion runs on the group's client threads, the stream's
 * messages on gRPC's; {@code request} is called outside the lock (it may deliver inline).
 */
final class AppendWindow {
    /** Messages of one stream appended and not yet applied, at most. */
    static final int DEFAULT_IN_FLIGHT = 64;
    /** Bytes of one stream's messages appended and not applied past which no more is taken. */
    static final int MAX_BYTES = 2 << 20;

    private final ServerCallStreamObserver<?> call;
    /** Taken and not yet completed: messages, and their bytes. */
    private int inFlight;
    private long bytes;
    /** Whether one message is requested and not yet taken. */
    private boolean requested;

    private AppendWindow(ServerCallStreamObserver<?> call) {
        this.call = call;
    }

    /**
     * Automatic inbound flow control off for the stream: call within the service method, then
     * {@link #open()}. Null for an observer that is not a server call's (a simulation's): no window.
     */
    static AppendWindow of(Object toKernel) {
        if (toKernel instanceof ServerCallStreamObserver<?> call) {
            call.disableAutoRequest();
            return new AppendWindow(call);
        }
        return null;
    }

    /** The stream may send its first message. */
    void open() {
        synchronized (this) {
            requested = true;
        }
        call.request(1);
    }

    /** A message of {@code size} bytes was taken, to be appended: the next is asked for if there is room. */
    void taken(int size) {
        boolean more;
        synchronized (this) {
            requested = false;
            inFlight++;
            bytes += size;
            more = more();
        }
        if (more) {
            call.request(1);
        }
    }

    /** The append of a message of {@code size} bytes completed (applied, or not): room for the next. */
    void appendDone(int size) {
        boolean more;
        synchronized (this) {
            inFlight--;
            bytes -= size;
            more = more();
        }
        if (more) {
            call.request(1);
        }
    }

    /** Under the lock: whether to request one more now (and note it requested). */
    private boolean more() {
        if (requested || inFlight >= DEFAULT_IN_FLIGHT || bytes >= MAX_BYTES) {
            return false;
        }
        requested = true;
        return true;
    }
}
