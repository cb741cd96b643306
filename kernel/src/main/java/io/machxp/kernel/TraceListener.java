package io.machxp.kernel;

/** Hears a kernel's trace events (see {@link io.machxp.kernel.core.KernelEnv#trace}); called on its core thread. */
@FunctionalInterface
public interface TraceListener {
    void trace(String event, int tid, String detail);
}
