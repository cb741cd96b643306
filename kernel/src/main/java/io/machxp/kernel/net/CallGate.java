package io.machxp.kernel.net;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.ServerCallStreamObserver;
import io.machxp.kernel.ipc.ReceiveGate;
import java.util.function.BooleanSupplier;

/**
 * A gRPC mach_msg call as the IPC core's receive sees it ({@link ReceiveGate}): gone once cancelled
 * or past its deadline - checked on the core thread before a message is dequeued, so that a
 * message is not taken for a caller that will never read it - and bounded by the gRPC message size
 * both ends allow ({@link #MAX_GRPC_MESSAGE_BYTES}).
 */
public final class CallGate implements ReceiveGate {
    /**
     * The largest gRPC message the kernel's server takes and its clients' channels take
     * (maxInboundMessageSize on both ends; gRPC's default, said explicitly): a request above it is
     * RESOURCE_EXHAUSTED, a message whose reply would exceed it is MACH_RCV_TOO_LARGE.
     */
    public static final int MAX_GRPC_MESSAGE_BYTES = 4 << 20;

    private final ServerCallStreamObserver<?> call;
    private final Deadline deadline;
    private final BooleanSupplier cancelled;

    /** The call being served now (its Context's deadline: call on the gRPC thread that got it). */
    CallGate(ServerCallStreamObserver<?> call, BooleanSupplier cancelled) {
        this.call = call;
        this.deadline = Context.current().getDeadline();
        this.cancelled = cancelled;
    }

    @Override
    public boolean callerGone() {
        return cancelled.getAsBoolean() || call.isCancelled() || deadline != null && deadline.isExpired();
    }

    @Override
    public long maxReplyBytes() {
        return MAX_GRPC_MESSAGE_BYTES;
    }
}
