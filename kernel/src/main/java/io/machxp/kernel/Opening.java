package io.machxp.kernel;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * The task interface's gate while a kernel starts: its port is bound before its pager session
 * opens (so that a port in use fails before the pager hears of the kernel), and a call that comes
 * in between is answered UNAVAILABLE, which a client may retry, until {@link #open()}.
 */
final class Opening implements ServerInterceptor {
    private volatile boolean open;

    void open() {
        open = true;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
            ServerCallHandler<Q, A> next) {
        if (!open) {
            call.close(Status.UNAVAILABLE.withDescription("the kernel is still opening its session with the pager;"
                    + " try again in a moment"), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
    }
}
