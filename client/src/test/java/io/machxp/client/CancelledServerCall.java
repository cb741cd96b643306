package io.machxp.client;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * A server call a test controls, handed straight to a service method: cancelled when the test
 * says so (before any cancel handler runs, the window a real cancellation can land in), recording
 * what it was sent (answers and errors), as a cancelled unary call accepts an answer and never delivers it.
 */
final class CancelledServerCall<T> extends ServerCallStreamObserver<T> {
    volatile boolean cancelled;
    private final List<T> answers = new ArrayList<>();
    private final List<Throwable> errors = new ArrayList<>();

    /** A call its caller has already given up on. */
    static <T> CancelledServerCall<T> givenUp() {
        CancelledServerCall<T> call = new CancelledServerCall<>();
        call.cancelled = true;
        return call;
    }

    synchronized List<T> answers() {
        return List.copyOf(answers);
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    private volatile Runnable onCancel;

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {
        onCancel = onCancelHandler;
    }

    /** The caller gives up: the call is cancelled, then its cancel handler runs, as gRPC does it. */
    void cancel() {
        cancelled = true;
        Runnable handler = onCancel;
        if (handler != null) {
            handler.run();
        }
    }

    @Override
    public void setCompression(String compression) {}

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {}

    @Override
    public void request(int count) {}

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void disableAutoInboundFlowControl() {}

    @Override
    public synchronized void onNext(T value) {
        answers.add(value);
    }

    /** The errors it was failed with. */
    synchronized List<Throwable> errors() {
        return List.copyOf(errors);
    }

    @Override
    public synchronized void onError(Throwable t) {
        errors.add(t);
    }

    @Override
    public void onCompleted() {}
}
