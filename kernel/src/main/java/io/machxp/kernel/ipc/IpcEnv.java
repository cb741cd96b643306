package io.machxp.kernel.ipc;

/**
 * What the IPC core needs of the world: timers for mach_msg timeouts. The kernel gives it its
 * event loop's timers (real time) or the simulator's (virtual time). Called on the core thread.
 */
@FunctionalInterface
public interface IpcEnv {
    /** Runs {@code action} on the core thread after {@code delayNanos}; the result cancels it. */
    Runnable schedule(long delayNanos, Runnable action);
}
