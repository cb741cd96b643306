package io.machxp.pager.replica;

import io.grpc.stub.ServerCallStreamObserver;

/**
 * How many of one kernel stream's messages a replicated pager's leader has appended and not yet
 * seen applied: at most {@link #DEFAULT_IN_FLIGHT}. The stream's messages are taken with gRPC's
 * manual inbound flow control: {@code inFlight} requested when it opens, one more each time an
 * append of it completes (applied, or refused). The group's log is one queue for every kernel, so
 * without a bound one kernel's burst (65,536 back-to-back lock_futex, the xpprobe's
 * {@code cache_stall}) was appended ahead of every later keepalive of every other kernel, which
 * waited for the whole burst to be committed and applied, longer than a lease (docs/limits.md).
 * With it, another kernel's keepalive waits behind at most {@code inFlight} entries of each
 * stream. What the kernel sends meanwhile waits in HTTP/2's window, which holds it back.
 *
 * <p>Thread-safe as gRPC's {@code request} is: the append's completion runs on the group's
 * client threads, the stream's messages on gRPC's.
 */
final class AppendWindow {
    /** Messages of one stream appended and not yet applied, at most. */
    static final int DEFAULT_IN_FLIGHT = 64;

    private final ServerCallStreamObserver<?> call;

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

    /** The stream may send its first {@link #DEFAULT_IN_FLIGHT} messages. */
    void open() {
        call.request(DEFAULT_IN_FLIGHT);
    }

    /** A message was taken and not appended (the stream ends): nothing more is owed to it. */
    void appendDone() {
        call.request(1);
    }
}
