package io.machxp.kernel.net;

import com.google.protobuf.MessageLite;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.machxp.kernel.shm.TakenCall;
import io.machxp.proto.shm.CallLayout;

/**
 * The answer side of a call that came through the call file instead of gRPC: the task interface
 * answers it exactly as a gRPC call (one reply, or an error status with its ErrorInfo), and the
 * answer goes into the call's slot. A call the client gave up on reports itself cancelled, runs
 * the cancel handler, and refuses a reply (onNext throws, as a cancelled gRPC call's does), so
 * that a lock granted at that moment is unlocked again.
 */
final class SlotObserver<T extends MessageLite> extends ServerCallStreamObserver<T> {
    private final TakenCall call;

    SlotObserver(TakenCall call) {
        this.call = call;
    }

    @Override
    public void onNext(T value) {
        byte[] bytes = value.toByteArray();
        boolean answered = bytes.length <= CallLayout.PAYLOAD ? call.answer(CallLayout.REPLY, bytes)
                : call.answer(CallLayout.STATUS, StatusProto.fromStatusAndTrailers(Status.INTERNAL.withDescription(
                        "a reply of " + bytes.length + " bytes does not fit a call slot"), null).toByteArray());
        if (!answered) {
            throw Status.CANCELLED.withDescription("the caller gave the call up").asRuntimeException();
        }
    }

    @Override
    public void onError(Throwable t) {
        com.google.rpc.Status status = StatusProto.fromThrowable(t);
        if (status == null) {
            status = StatusProto.fromStatusAndTrailers(Status.fromThrowable(t), null);
        }
        call.answer(CallLayout.STATUS, status.toByteArray());
    }

    @Override
    public void onCompleted() {
        // answered in onNext: a unary call has one reply
    }

    @Override
    public boolean isCancelled() {
        return call.cancelled();
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {
        call.onCancel(onCancelHandler);
    }

    @Override
    public void setCompression(String compression) {
        // nothing is compressed in shared memory
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {
        // always ready: one answer per call
    }

    @Override
    public void disableAutoInboundFlowControl() {
        // one request per call: nothing to flow-control
    }

    @Override
    public void request(int count) {
        // one request per call: nothing to flow-control
    }

    @Override
    public void setMessageCompression(boolean enable) {
        // nothing is compressed in shared memory
    }
}
