package io.machxp.kernel.ipc;

/**
 * A right held by the kernel rather than a name space: in a message in transit, or a
 * notification request's send-once right. {@code type} is PORT_RECEIVE, PORT_SEND or
 * PORT_SEND_ONCE; {@code port} null is a dead right (it arrives as MACH_PORT_DEAD). A carried send
 * right counts in its port's srights, a send-once right in its sorights.
 */
record Carried(Port port, MsgType type) {
    static Carried dead(MsgType type) {
        return new Carried(null, type);
    }

    boolean dead() {
        return port == null || !port.active;
    }
}
