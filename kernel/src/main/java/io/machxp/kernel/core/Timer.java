package io.machxp.kernel.core;

/** A timer set through {@link KernelEnv#schedule}; cancelling a fired timer does nothing. */
@FunctionalInterface
public interface Timer {
    void cancel();
}
