package io.machxp.kernel.core;

import io.machxp.proto.task.Errno;

/** A {@link KernelError} thrown by the blocking in-process API. */
public final class KernelException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Errno errno;

    public KernelException(KernelError error) {
        super(error.errno() + ": " + error.message());
        this.errno = error.errno();
    }

    public Errno errno() {
        return errno;
    }
}
