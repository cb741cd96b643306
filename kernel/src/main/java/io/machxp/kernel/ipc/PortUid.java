package io.machxp.kernel.ipc;

/**
 * A port's name between kernels: the kernel that first let a right to it leave, that kernel's IPC
 * session then (a kernel that rejoined after losing its session numbers its ports afresh), and
 * the port's number there.
 */
record PortUid(int origin, int session, long id) {
    @Override
    public String toString() {
        return "port" + origin + (session == 0 ? "" : "s" + session) + "." + id;
    }
}
