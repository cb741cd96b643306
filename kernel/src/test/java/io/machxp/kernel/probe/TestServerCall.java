package io.machxp.kernel.probe;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * A server call a test hands straight to a service method and gives up on when it says so:
 * {@link #cancelledUnseen} marks it cancelled before its cancel handler runs (the window a real
 * cancellation lands in), {@link #cancel} then runs the handler, as gRPC does. Records what it
 * was answered; a cancelled unary call takes answers and delivers none.
 */
final class TestServerCall<T> extends ServerCallStreamObserver<T> {
    private volatile boolean cancelled;
    private volatile Runnable onCancel;
    private final List<T> answers = new ArrayList<>();
    private final List<Throwable> errors = new ArrayList<>();

    synchronized List<T> answers() {
        return List.copyOf(answers);
    }

    synchronized List<Throwable> errors() {
        return List.copyOf(errors);
    }

    synchronized boolean answered() {
        return !answers.isEmpty() || !errors.isEmpty();
    }

    /** The caller gave up; its cancel handler has not run yet. */
    void cancelledUnseen() {
        cancelled = true;
    }

    /** The caller gives up: cancelled, then its cancel handler runs. */
    void cancel() {
        cancelled = true;
        Runnable handler = onCancel;
        if (handler != null) {
            handler.run();
        }
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {
        onCancel = onCancelHandler;
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

    @Override
    public synchronized void onError(Throwable t) {
        errors.add(t);
    }

    @Override
    public void onCompleted() {}
}
