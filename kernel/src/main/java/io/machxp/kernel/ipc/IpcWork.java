package io.machxp.kernel.ipc;

/**
 * Work the IPC core did, counted in steps rather than time, so that tests can assert how much of
 * the kernel's one core thread a call costs (a cycle check walking a chain of receive rights in
 * transit, a receive on a port set looking at its members) without timing anything. Plain counters,
 * never reset by the core; core thread only.
 */
final class IpcWork {
    /** Ports looked at by the cycle check of sent or arriving messages ({@link Delivery#closesCycle}). */
    long cycleSteps;
    /** Members of port sets looked at to find the one a set receive takes from ({@link PortSet}). */
    long setMembersVisited;
}
