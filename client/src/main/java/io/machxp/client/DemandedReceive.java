package io.machxp.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.proto.task.MachIpcGrpc;
import io.machxp.proto.task.MachMsgDemand;
import io.machxp.proto.task.MachMsgReply;
import io.machxp.proto.task.MachMsgRequest;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A streamed receive (task.proto's MachMsgReceiveOnDemand) read as an iterator: it asks the kernel
 * for one message at a time, the next only when its caller wants it ({@link #hasNext}), so the
 * kernel dequeues no message its caller will not read: cancelling (an {@link io.grpc.Context})
 * leaves the unread ones queued on the port. States: asked (one message asked for, not yet
 * arrived) -> arrived (taken by hasNext, not yet by next) -> idle -> asked ... until the stream's
 * end or failure (thrown by hasNext, as {@code kernel.call} throws a unary call's).
 */
final class DemandedReceive implements Iterator<MachMsgReply> {
    /** The stream's end, in the queue of what arrived. */
    private static final Object END = new Object();
    private final BlockingQueue<Object> arrived = new LinkedBlockingQueue<>();
    private final ClientCall<MachMsgDemand, MachMsgReply> call;
    private boolean asked;
    /** What hasNext took and next has not returned: a reply, END, or the failure. */
    private Object taken;

    DemandedReceive(Channel channel, MachMsgRequest start) {
        call = channel.newCall(MachIpcGrpc.getMachMsgReceiveOnDemandMethod(), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(MachMsgReply m) {
                arrived.add(m);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                arrived.add(status.isOk() ? END : status.asRuntimeException(trailers));
            }
        }, new Metadata());
        call.request(Integer.MAX_VALUE); // the kernel sends only what was asked for
        call.sendMessage(MachMsgDemand.newBuilder().setStart(start).setRequest(1).build());
        asked = true;
    }

    @Override
    public boolean hasNext() {
        if (taken == null) {
            if (!asked) {
                call.sendMessage(MachMsgDemand.newBuilder().setRequest(1).build());
                asked = true;
            }
            try {
                taken = arrived.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                call.cancel("the reading thread was interrupted", e);
                throw Status.CANCELLED.withDescription("interrupted while waiting for a message").withCause(e)
                        .asRuntimeException();
            }
            asked = false;
        }
        if (taken instanceof StatusRuntimeException failure) {
            throw failure;
        }
        return taken != END;
    }

    @Override
    public MachMsgReply next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the streamed receive has ended");
        }
        MachMsgReply m = (MachMsgReply) taken;
        taken = null;
        return m;
    }
}
