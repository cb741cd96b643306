package io.machxp.kernel.ipc;

/**
 * mach_port_request_notification: registers (or with MACH_PORT_NULL cancels) a one-shot request
 * and returns the send-once right of the request it replaces (named in the caller's space, or
 * MACH_PORT_NULL). The notify right is MAKE_SEND_ONCE from a receive right or MOVE_SEND_ONCE.
 * <pre>
 *  PORT_DESTROYED  on a receive right, sync 0: when the receive right would die, it goes to the
 *                  notify port instead
 *  NO_SENDERS      on a receive right: when the last send right goes (fires at once if there is
 *                  none and mscount >= sync), carrying mscount
 *  DEAD_NAME       on a send, send-once or receive right's name: when the port dies (the dead name
 *                  gets one more user reference); on a dead name with sync != 0, at once. The
 *                  request belongs to the name: freed first (a receive-only name whose right is
 *                  destroyed or moved away, too), it ends in PORT_DELETED (GNU's ipc_right_dnrequest)
 * </pre>
 * A notify right moved (MOVE_SEND_ONCE) out of the very name the request is for leaves nothing
 * under that name: GNU Mach copies the notify right in with the request message, before the call
 * looks the name up, so the call answers KERN_INVALID_NAME. Here, as for the call's other errors,
 * nothing is copied in: the right stays under its name (review linkpool INFO: the DEAD_NAME
 * request was registered under the freed name, where nobody could cancel it).
 */
final class NotifyRequests {
    private final IpcCore ipc;

    NotifyRequests(IpcCore ipc) {
        this.ipc = ipc;
    }

    IpcResult<Integer> request(IpcSpace space, int name, int variant, int sync, int notify, MsgType d) {
        if (variant != Mach.MACH_NOTIFY_PORT_DESTROYED && variant != Mach.MACH_NOTIFY_NO_SENDERS
                && variant != Mach.MACH_NOTIFY_DEAD_NAME) {
            return IpcResult.fail(KernReturn.KERN_INVALID_VALUE);
        }
        if (variant == Mach.MACH_NOTIFY_PORT_DESTROYED && sync != 0) {
            return IpcResult.fail(KernReturn.KERN_INVALID_VALUE);
        }
        boolean cancel = notify == Mach.MACH_PORT_NULL;
        if (!cancel && d != MsgType.MAKE_SEND_ONCE && d != MsgType.MOVE_SEND_ONCE) {
            return IpcResult.fail(KernReturn.KERN_INVALID_VALUE);
        }
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return IpcResult.fail(KernReturn.KERN_INVALID_NAME);
        }
        if (!cancel && (notify == Mach.MACH_PORT_DEAD || !ipc.rights.check(space, notify, d, false).ok())) {
            return IpcResult.fail(KernReturn.KERN_INVALID_CAPABILITY);
        }
        if (!cancel && d == MsgType.MOVE_SEND_ONCE && notify == name) {
            return IpcResult.fail(KernReturn.KERN_INVALID_NAME); // the notify right's copyin freed the name
        }
        if (!cancel && d == MsgType.MAKE_SEND_ONCE && !ipc.notifications.roomForSendOnce(space)) {
            return IpcResult.fail(KernReturn.KERN_RESOURCE_SHORTAGE); // no room for the notification it would end as
        }
        if (variant == Mach.MACH_NOTIFY_DEAD_NAME) {
            return deadName(space, e, sync, cancel, notify, d);
        }
        if (!e.has(PortRight.RECEIVE)) {
            return IpcResult.fail(KernReturn.KERN_INVALID_RIGHT);
        }
        Port port = e.port();
        KernReturn noRoom = noRoomForPrevious(space,
                variant == Mach.MACH_NOTIFY_PORT_DESTROYED ? port.pdRequest : port.nsRequest, cancel, notify, d);
        if (noRoom != null) {
            return IpcResult.fail(noRoom);
        }
        Carried right = cancel ? null : ipc.rights.copyin(space, notify, d);
        Carried previous;
        if (variant == Mach.MACH_NOTIFY_PORT_DESTROYED) {
            previous = port.pdRequest;
            port.pdRequest = right;
        } else {
            previous = port.nsRequest;
            port.nsRequest = right;
            port.nsSync = sync;
        }
        int previousName = ipc.rights.copyout(space, previous);
        if (variant == Mach.MACH_NOTIFY_NO_SENDERS && right != null && port.srights == 0 && RemoteRefs.noRemoteSenders(port)
                && Integer.compareUnsigned(port.mscount, sync) >= 0) { // mach_port_mscount_t is unsigned
            port.nsRequest = null;
            ipc.notifications.noSenders(right, port.mscount);
        }
        return IpcResult.ok(previousName);
    }

    /**
     * The previous request's send-once right comes back under a new name: refused in a full name
     * space (for the previous right's payer), unless the new right is moved in from a name of its
     * own (MOVE_SEND_ONCE frees that name first) and that makes room: always in the space's bound
     * and the kernel's, but in the previous payer's share only if the freed name counted there too
     * (review late11 LOW-N3; late13 LOW-2: refusing every move by another payer refused correct
     * calls at a full task or kernel). Returns the answer (null: room): KERN_NO_SPACE if the
     * task's bound refuses, counting the freed name (review linkpool LOW-2: a move that made room
     * in a full task and was refused by the budget answered KERN_NO_SPACE), else
     * KERN_RESOURCE_SHORTAGE.
     */
    private static KernReturn noRoomForPrevious(IpcSpace space, Carried previous, boolean cancel, int notify,
            MsgType d) {
        if (previous == null || previous.dead() || !space.full(previous)) {
            return null;
        }
        if (cancel || d != MsgType.MOVE_SEND_ONCE) {
            return space.fullReturn();
        }
        IpcEntry freed = space.lookup(notify);
        return space.fullOnceFreed(previous.payer(), freed) ? space.fullOnceFreedReturn() : null;
    }

    private IpcResult<Integer> deadName(IpcSpace space, IpcEntry e, int sync, boolean cancel, int notify, MsgType d) {
        if (e.has(PortRight.DEAD_NAME)) {
            if (cancel || sync == 0) {
                return IpcResult.fail(KernReturn.KERN_INVALID_ARGUMENT);
            }
            if (e.urefs + 1 > Mach.MACH_PORT_UREFS_MAX) {
                return IpcResult.fail(KernReturn.KERN_UREFS_OVERFLOW);
            }
            e.urefs++;
            ipc.notifications.deadName(ipc.rights.copyin(space, notify, d), e.name);
            return IpcResult.ok(Mach.MACH_PORT_NULL);
        }
        if (!(e.has(PortRight.SEND) || e.has(PortRight.SEND_ONCE) || e.has(PortRight.RECEIVE))) {
            return IpcResult.fail(KernReturn.KERN_INVALID_RIGHT);
        }
        Port.DeadNameKey key = new Port.DeadNameKey(space, e.name);
        Port port = e.port();
        KernReturn noRoom = noRoomForPrevious(space, port.deadNameRequests.get(key), cancel, notify, d);
        if (noRoom != null) {
            return IpcResult.fail(noRoom);
        }
        Carried right = cancel ? null : ipc.rights.copyin(space, notify, d);
        Carried previous = port.deadNameRequests.remove(key);
        if (right != null) {
            port.deadNameRequests.put(key, right);
        }
        return IpcResult.ok(ipc.rights.copyout(space, previous));
    }
}
