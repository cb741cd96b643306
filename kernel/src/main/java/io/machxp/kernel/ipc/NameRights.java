package io.machxp.kernel.ipc;

/**
 * What one name holds as copyin sees it - its rights ({@code MACH_PORT_TYPE_*} bits of
 * {@link IpcEntry#type}) and user references - and copyin's two rules on it, written once: what
 * a disposition needs of the name ({@link #check}, which {@link Rights#check} asks) and what
 * copying it in leaves of the name ({@link #after}, which {@link Rights#copyin} writes into the
 * entry and {@link DryCopyin} only tallies). A value: nothing here changes an entry.
 * <pre>
 *  disposition            needs                       leaves
 *  MOVE_RECEIVE           receive                     the send right, if any (else freed)
 *  MOVE_SEND              send (or a dead name)       urefs - 1; at 0 the receive right, if any (else freed)
 *  MOVE_SEND_ONCE         send-once (or a dead name)  nothing: freed
 *  COPY_SEND              send (or a dead name)       the name as it was
 *  MAKE_SEND, MAKE_SEND_ONCE  receive                 the name as it was
 *  a dead name: COPY_SEND leaves it as it was, any other disposition takes one user reference
 *  (GNU's move_dead): at 0 it is freed
 * </pre>
 */
record NameRights(int type, int urefs) {
    /** What {@code e} holds now. */
    static NameRights of(IpcEntry e) {
        return new NameRights(e.type, e.urefs);
    }

    boolean has(PortRight right) {
        return (type & right.typeBit()) != 0;
    }

    /** Whether nothing is left: copyin frees the name. */
    boolean freed() {
        return type == 0;
    }

    /**
     * Whether the name can be copied in with {@code d} (not PORT_NAME): KERN_SUCCESS,
     * KERN_INVALID_RIGHT, or KERN_INVALID_CAPABILITY for a dead name when {@code allowDead} is
     * false (a destination must be alive).
     */
    KernReturn check(MsgType d, boolean allowDead) {
        PortRight needed = needed(d);
        if (has(needed)) {
            return KernReturn.KERN_SUCCESS;
        }
        if (has(PortRight.DEAD_NAME) && needed != PortRight.RECEIVE) {
            return allowDead ? KernReturn.KERN_SUCCESS : KernReturn.KERN_INVALID_CAPABILITY;
        }
        return KernReturn.KERN_INVALID_RIGHT;
    }

    /** What copying in {@code d}, which {@link #check} allowed, leaves of the name. */
    NameRights after(MsgType d) {
        if (has(PortRight.DEAD_NAME)) {
            if (d == MsgType.COPY_SEND) {
                return this;
            }
            return urefs > 1 ? new NameRights(type, urefs - 1) : new NameRights(0, 0);
        }
        return switch (d) {
            case MOVE_RECEIVE -> new NameRights(type & ~PortRight.RECEIVE.typeBit(), urefs);
            case MOVE_SEND -> urefs > 1 ? new NameRights(type, urefs - 1)
                    : new NameRights(type & ~PortRight.SEND.typeBit(), 0);
            case MOVE_SEND_ONCE -> new NameRights(0, 0);
            default -> this; // MAKE_SEND, MAKE_SEND_ONCE, COPY_SEND leave the name as it was
        };
    }

    private static PortRight needed(MsgType d) {
        return switch (d) {
            case MOVE_RECEIVE, MAKE_SEND, MAKE_SEND_ONCE -> PortRight.RECEIVE;
            case MOVE_SEND, COPY_SEND -> PortRight.SEND;
            default -> PortRight.SEND_ONCE;
        };
    }
}
