package io.machxp.pager.net;

import io.grpc.stub.ServerCallStreamObserver;

/**
 * The server side of a call, for tests that call a service method directly: ready, not cancelled,
 * every flow-control and compression setting ignored, every message dropped. A test overrides what
 * it watches.
 */
abstract class NoopServerCall<T> extends ServerCallStreamObserver<T> {
    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public void setOnCancelHandler(Runnable handler) {}

    @Override
    public void setCompression(String compression) {}

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void setOnReadyHandler(Runnable handler) {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public void onNext(T value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}

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
