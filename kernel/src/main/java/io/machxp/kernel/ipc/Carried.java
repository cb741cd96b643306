package io.machxp.kernel.ipc;

/**
 * A right held by the kernel rather than a name space: in a message in transit, or a
 * notification request's send-once right. {@code type} is PORT_RECEIVE, PORT_SEND or
 * PORT_SEND_ONCE; {@code port} null is a dead right (it arrives as MACH_PORT_DEAD). A carried send
 * right counts in its port's srights, a send-once right in its sorights.
 *
 * <p>{@code payer} is whose share of the kernel's port names ({@link NameBudget}) a name made for
 * this right in a task without an owner counts in (a task with an owner pays for its own names):
 * the owner the name it was copied in from counted to - the sending client's, or for a right
 * an in-process task passes on, whoever that task's name counted to - or for a right another
 * kernel's link brought, the client's peer it carried ({@link LinkedPeer}) or else that kernel
 * ({@link LinkedKernel}); null (the kernel's alone) for rights in-process tasks make.
 * Review late4 B2: names made in in-process tasks for clients' rights counted to nobody.
 */
record Carried(Port port, MsgType type, Object payer) {
    Carried(Port port, MsgType type) {
        this(port, type, null);
    }

    static Carried dead(MsgType type) {
        return new Carried(null, type);
    }

    boolean dead() {
        return port == null || !port.active;
    }
}
