package io.machxp.kernel.ipc;

/**
 * One name in a task's name space and the rights it denotes. Legal combinations: RECEIVE,
 * SEND, RECEIVE+SEND (send and receive rights for a port share one name), SEND_ONCE, PORT_SET,
 * DEAD_NAME. {@link #urefs} counts user references of the send right or dead name (1 for a
 * send-once right; 0 for receive-only and sets).
 */
final class IpcEntry {
    final int name;
    /**
     * Whose share of the kernel's port names this name counts in ({@link NameBudget}): its task's
     * owner, or in a task without one the payer of the right it was made for ({@link Carried#payer}).
     */
    final Object chargedTo;
    /** The Port (receive, send, send-once) or PortSet; null for a dead name. */
    Object object;
    /** MACH_PORT_TYPE_* bits. */
    int type;
    int urefs;
    /** A send-once reply right whose request brought a priority donation: ends it when the right goes. */
    Runnable donation;

    IpcEntry(int name, Object chargedTo) {
        this.name = name;
        this.chargedTo = chargedTo;
    }

    boolean has(PortRight right) {
        return (type & right.typeBit()) != 0;
    }

    void add(PortRight right) {
        type |= right.typeBit();
    }

    void remove(PortRight right) {
        type &= ~right.typeBit();
    }

    /** The right leaves this name: a donation it carried ends. */
    void endDonation() {
        if (donation != null) {
            Runnable end = donation;
            donation = null;
            end.run();
        }
    }

    Port port() {
        return object instanceof Port p ? p : null;
    }

    PortSet set() {
        return object instanceof PortSet s ? s : null;
    }

    /** The port died: this send or send-once right is now a dead name, with the same user references. */
    void becomeDead() {
        endDonation();
        if (has(PortRight.SEND_ONCE)) {
            urefs = 1;
        }
        type = PortRight.DEAD_NAME.typeBit();
        object = null;
    }
}
