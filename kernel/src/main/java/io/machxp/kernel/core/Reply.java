package io.machxp.kernel.core;

/**
 * Where the kernel core sends the answer to a request. Called once, on the core thread, and must
 * not block: the real runtime completes a gRPC response or a future, the simulator records an
 * event.
 */
public interface Reply<T> {
    void complete(T value);

    void fail(KernelError error);

    /**
     * Whether this reply answers {@code call}: it is that reply, or wraps it (a reply the core
     * wraps to record something, GrantRecording), so a cancel naming the caller's reply finds it.
     */
    default boolean answersFor(Reply<?> call) {
        return this == call;
    }

    /** A reply nobody waits for. */
    static <T> Reply<T> ignore() {
        return new Reply<>() {
            @Override
            public void complete(T value) {}

            @Override
            public void fail(KernelError error) {}
        };
    }
}
