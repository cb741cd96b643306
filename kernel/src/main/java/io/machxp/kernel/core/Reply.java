package io.machxp.kernel.core;

/**
 * Where the kernel core sends the answer to a request. Called once, on the core thread, and must
 * not block: the real runtime completes a gRPC response or a future, the simulator records an
 * event.
 */
public interface Reply<T> {
    void complete(T value);

    void fail(KernelError error);

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
