package io.machxp.kernel.ipc;

/** A mach_port_* call of the in-process API that did not return KERN_SUCCESS. */
public final class KernReturnException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final KernReturn code;

    public KernReturnException(KernReturn code, String call) {
        super(call + ": " + code + " (0x" + Integer.toHexString(code.code) + ")");
        this.code = code;
    }

    public KernReturn code() {
        return code;
    }
}
