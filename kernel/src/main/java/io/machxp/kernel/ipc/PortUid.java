package io.machxp.kernel.ipc;

/** A port's name between kernels: the kernel that first let a right to it leave, and its number there. */
record PortUid(int origin, long id) {
    @Override
    public String toString() {
        return "port" + origin + "." + id;
    }
}
