package io.machxp.kernel.ipc;

/** A mach_port_* routine's return code and, on KERN_SUCCESS, its out value. */
public record IpcResult<T>(KernReturn code, T value) {
    public static <T> IpcResult<T> ok(T value) {
        return new IpcResult<>(KernReturn.KERN_SUCCESS, value);
    }

    public static <T> IpcResult<T> fail(KernReturn code) {
        return new IpcResult<>(code, null);
    }

    /** The value; KernReturnException if the call failed. */
    public T orThrow(String call) {
        if (!code.ok()) {
            throw new KernReturnException(code, call);
        }
        return value;
    }
}
