package io.machxp.kernel.core;

import io.machxp.proto.xp.KernelToPager;

/**
 * Everything the kernel core does to the world, and its only source of time. The real runtime
 * implements it over a gRPC stream and a Netty event loop; the simulator over virtual time.
 * Every method is called on the core thread.
 */
public interface KernelEnv {
    /** Sends one XP message to the pager. Messages arrive in the order they are sent. */
    void send(KernelToPager message);

    /** Runs {@code action} on the core thread after {@code delayNanos}. */
    Timer schedule(long delayNanos, Runnable action);
}
