package io.machxp.pager.replica;

import io.grpc.stub.ServerCallStreamObserver;
import io.machxp.proto.xp.PagerToKernel;

/**
 * A kernel's server call for tests of the replica's streams: ready, never cancelled, and every
 * method a no-op; a test overrides what it watches.
 */
class StubServerCall extends ServerCallStreamObserver<PagerToKernel> {
    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {
    }

    @Override
    public void setCompression(String compression) {
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {
    }

    @Override
    public void disableAutoInboundFlowControl() {
    }

    @Override
    public void disableAutoRequest() {
    }

    @Override
    public void request(int count) {
    }

    @Override
    public void setMessageCompression(boolean enable) {
    }

    @Override
    public void onNext(PagerToKernel value) {
    }

    @Override
    public void onError(Throwable t) {
    }

    @Override
    public void onCompleted() {
    }

    /** What gRPC runs once the call is closed (onComplete); a test that closes the call runs it ({@link #closeCall}). */
    Runnable onClose;

    @Override
    public void setOnCloseHandler(Runnable onCloseHandler) {
        onClose = onCloseHandler;
    }

    /** The server closed the call (the pager's onError or onCompleted): gRPC runs the close handler. */
    void closeCall() {
        if (onClose != null) {
            onClose.run();
        }
    }
}
