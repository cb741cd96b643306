package io.machxp.kernel.ipc;

/**
 * A message header whose destination and reply name the same right, copied in atomically as
 * GNU Mach's ipc_kmsg_copyin_header does for {@code dest_name == reply_name} (the manual,
 * "Atomicity"). Part of the IPC core; core thread only.
 * <pre>
 *  the name denotes nothing                           -> MACH_SEND_INVALID_DEST
 *  the reply's disposition cannot be had from it      -> MACH_SEND_INVALID_REPLY (checked first)
 *  either half MOVE_SEND_ONCE (it would use up the other half's right)
 *                                                     -> MACH_SEND_INVALID_DEST
 *  the destination's disposition cannot be had, or it is a dead name
 *                                                     -> MACH_SEND_INVALID_DEST
 *  MOVE_SEND twice with fewer than 2 user references  -> MACH_SEND_INVALID_DEST
 *  MOVE_SEND and COPY_SEND (either way round)         -> one move, and a copy of what was moved:
 *                                                        one user reference is enough
 * </pre>
 */
final class SameNameHeader {
    private SameNameHeader() {}

    /** Whether the header names one right twice (a reply that is a name, not NULL or DEAD). */
    static boolean applies(MachMessage msg) {
        int name = msg.remotePort();
        return name == msg.localPort() && name != Mach.MACH_PORT_NULL && name != Mach.MACH_PORT_DEAD;
    }

    /** KERN_SUCCESS if both halves can be copied in together, else the send error; changes nothing. */
    static KernReturn check(Rights rights, IpcSpace space, MachMessage msg) {
        int name = msg.remotePort();
        MsgType dest = msg.remoteType();
        MsgType reply = msg.localType();
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return KernReturn.MACH_SEND_INVALID_DEST;
        }
        if (!rights.check(space, name, reply, true).ok()) {
            return KernReturn.MACH_SEND_INVALID_REPLY;
        }
        if (dest == MsgType.MOVE_SEND_ONCE || reply == MsgType.MOVE_SEND_ONCE
                || !rights.check(space, name, dest, false).ok()
                || dest == MsgType.MOVE_SEND && reply == MsgType.MOVE_SEND && e.urefs < 2) {
            return KernReturn.MACH_SEND_INVALID_DEST;
        }
        return KernReturn.KERN_SUCCESS;
    }

    /**
     * Copies in both halves {@link #check} accepted, through {@code fx} (the send's copyin, or a dry
     * run of it, {@link MsgCopyin}): {destination, reply}.
     */
    static Carried[] copyin(MsgCopyin.Effects fx, MachMessage msg) {
        int name = msg.remotePort();
        if (msg.remoteType() == MsgType.MOVE_SEND && msg.localType() == MsgType.COPY_SEND) {
            // the copy first: the move may take the last user reference (GNU moves, then copies what it moved)
            Carried reply = fx.copyin(name, msg.localType());
            return new Carried[] {fx.copyin(name, msg.remoteType()), reply};
        }
        Carried dest = fx.copyin(name, msg.remoteType());
        return new Carried[] {dest, fx.copyin(name, msg.localType())};
    }
}
