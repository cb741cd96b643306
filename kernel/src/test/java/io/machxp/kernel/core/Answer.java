package io.machxp.kernel.core;

/** Captures the one answer a core request gets. */
final class Answer<T> implements Reply<T> {
    private boolean answered;
    private T value;
    private KernelError error;

    @Override
    public void complete(T v) {
        if (answered) {
            throw new AssertionError("answered twice");
        }
        answered = true;
        value = v;
    }

    @Override
    public void fail(KernelError e) {
        if (answered) {
            throw new AssertionError("answered twice");
        }
        answered = true;
        error = e;
    }

    boolean answered() {
        return answered;
    }

    /** Whether it was answered with an error. */
    boolean failed() {
        return answered && error != null;
    }

    T value() {
        if (!answered || error != null) {
            throw new AssertionError("no value: " + (answered ? error : "not answered"));
        }
        return value;
    }

    KernelError error() {
        if (!answered || error == null) {
            throw new AssertionError("no error: " + (answered ? "value " + value : "not answered"));
        }
        return error;
    }
}
