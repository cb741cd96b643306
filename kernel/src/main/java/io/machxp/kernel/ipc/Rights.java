package io.machxp.kernel.ipc;

/**
 * Rights moving between name spaces and the kernel: copyin (a name and a disposition in a
 * sender's space become a {@link Carried} right), copyout (a carried right gets a name in a
 * receiver's space), and the end of rights (destroyed, deallocated, a name freed). Part of the
 * IPC core; core thread only.
 *
 * <p>Counts follow the port's rules: an entry with send rights counts once in srights whatever
 * its user references; a carried send right counts once; a send right copied out to a name that
 * already has one merges into it (user references + 1, pegged at SEND_UREFS_MAX, 0xFFFE). When
 * srights falls to 0 a no-senders request fires; a send-once right destroyed unused sends a
 * send-once notification to its own port; freeing a name that has a dead-name request sends a
 * port-deleted notification.
 *
 * <p>A right copied in carries its payer ({@link Carried#payer}, {@link #payerOf}); copied out into
 * a task without an owner, its new name counts to that payer ({@link IpcSpace#payerFor}).
 */
final class Rights {
    private final IpcCore ipc;

    Rights(IpcCore ipc) {
        this.ipc = ipc;
    }

    /**
     * Whether {@code name} in {@code space} can be copied in with {@code d}: KERN_SUCCESS,
     * KERN_INVALID_NAME, KERN_INVALID_RIGHT, or KERN_INVALID_CAPABILITY for a dead name when
     * {@code allowDead} is false (a destination must be alive).
     */
    KernReturn check(IpcSpace space, int name, MsgType d, boolean allowDead) {
        if (d == MsgType.PORT_NAME) {
            return KernReturn.KERN_SUCCESS;
        }
        IpcEntry e = space.lookup(name);
        return e == null ? KernReturn.KERN_INVALID_NAME : NameRights.of(e).check(d, allowDead);
    }

    /**
     * Whose share a name made elsewhere for the right {@code d} of {@code name} would count in, if
     * made in a task without an owner: a right made from a receive right (MAKE_SEND,
     * MAKE_SEND_ONCE) or copied (COPY_SEND) is the task's own spending, paid by its owner (null
     * in-process: the kernel's alone) - an in-process task that chose to duplicate a client's right
     * pays for the copy, so a client at its share cannot make an in-process server's replies fail
     * (review late11 MED-N1); a right moved on from a name, by whom that name counted to - so a
     * client's right an in-process task passes on stays the client's charge (review late4 B2).
     */
    static Object payerOf(IpcSpace space, int name, MsgType d) {
        if (madeOrCopied(d)) {
            return space.owner;
        }
        IpcEntry e = space.lookup(name);
        return e == null ? space.owner : e.chargedTo;
    }

    /** MAKE_SEND, MAKE_SEND_ONCE, COPY_SEND: the task's own spending ({@link #payerOf}). */
    private static boolean madeOrCopied(MsgType d) {
        return d == MsgType.MAKE_SEND || d == MsgType.MAKE_SEND_ONCE || d == MsgType.COPY_SEND;
    }

    /**
     * The right copying in {@code d} from {@code e} (a name of {@code space}'s that {@link #check}
     * accepted) carries: dead if the name is, else its port with its payer ({@link #payerOf}).
     * Changes nothing: {@link #copyin} and {@link DryCopyin} both ask it before the name changes.
     */
    static Carried carried(IpcSpace space, IpcEntry e, MsgType d) {
        if (e.has(PortRight.DEAD_NAME)) {
            return Carried.dead(d.delivered());
        }
        return new Carried(e.port(), d.delivered(), madeOrCopied(d) ? space.owner : e.chargedTo);
    }

    /**
     * Copies in a right {@link #check} accepted: the name becomes what {@link NameRights#after}
     * says (a name left with nothing is freed), the port counts the carried right.
     */
    Carried copyin(IpcSpace space, int name, MsgType d) {
        IpcEntry e = space.lookup(name);
        Carried c = carried(space, e, d);
        NameRights after = NameRights.of(e).after(d);
        if (e.has(PortRight.DEAD_NAME)) {
            settle(space, e, after); // moved: one user reference goes (GNU's move_dead); a copy takes none
            return c;
        }
        Port port = e.port();
        switch (d) {
            case MAKE_SEND -> {
                port.mscount++;
                port.srights++;
            }
            case MAKE_SEND_ONCE -> port.sorights++;
            case COPY_SEND -> port.srights++;
            case MOVE_SEND -> {
                if (after.has(PortRight.SEND)) {
                    port.srights++; // else the entry's count passes to the carried right
                }
            }
            case MOVE_RECEIVE, MOVE_SEND_ONCE -> {} // the right itself moves
            default -> throw new IllegalArgumentException(d.toString());
        }
        settle(space, e, after);
        if (d == MsgType.MOVE_RECEIVE) {
            // the task lost the right: its waiting receivers get MACH_RCV_PORT_DIED (GNU's ipc_port_clear_receiver)
            ipc.delivery.receiveRightLeaves(port, KernReturn.MACH_RCV_PORT_DIED);
        }
        return c;
    }

    /** The entry holds what copyin left of it; a name left with nothing is freed. */
    private void settle(IpcSpace space, IpcEntry e, NameRights after) {
        e.type = after.type();
        e.urefs = after.urefs();
        if (after.freed()) {
            freeName(space, e);
        }
    }

    /** Whether receiving a right of {@code type} (PORT_*) for {@code port} makes a new name in {@code space}. */
    static boolean needsName(IpcSpace space, Port port, MsgType type) {
        return type == MsgType.PORT_SEND_ONCE || space.nameOf(port) == null;
    }

    /** Whether copying out {@code c} into {@code space} makes a new name there (a dead right arrives as MACH_PORT_DEAD). */
    static boolean needsName(IpcSpace space, Carried c) {
        return c != null && c.port() != null && (c.type() == MsgType.PORT_RECEIVE || !c.dead())
                && needsName(space, c.port(), c.type());
    }

    /** Gives a carried right a name in {@code space}: a new one, or the port's send/receive name there. */
    int copyout(IpcSpace space, Carried c) {
        return copyout(space, c, Mach.MACH_PORT_NULL);
    }

    /**
     * As {@link #copyout(IpcSpace, Carried)}, under {@code name} if not MACH_PORT_NULL (the
     * caller checked it is free or already names the port's send/receive rights).
     */
    int copyout(IpcSpace space, Carried c, int name) {
        if (c == null) {
            return Mach.MACH_PORT_NULL;
        }
        Port port = c.port();
        if (c.type() == MsgType.PORT_RECEIVE) {
            IpcEntry e = entryFor(space, port, name, c.payer());
            e.add(PortRight.RECEIVE);
            port.receiver = space;
            port.transitDestination = null;
            ipc.notifications.receiveRightArrived(port, space);
            return e.name;
        }
        if (c.dead()) {
            return Mach.MACH_PORT_DEAD;
        }
        if (c.type() == MsgType.PORT_SEND_ONCE) {
            IpcEntry e = space.allocate(name, c.payer());
            e.object = port;
            e.add(PortRight.SEND_ONCE);
            e.urefs = 1;
            return e.name;
        }
        IpcEntry e = entryFor(space, port, name, c.payer());
        if (e.has(PortRight.SEND)) {
            e.urefs = ipc.plants.urefsAfterMerge(Math.min(e.urefs + 1, Mach.SEND_UREFS_MAX));
            port.srights--; // merged: the entry already counts
        } else {
            e.add(PortRight.SEND);
            e.urefs = 1;
        }
        return e.name;
    }

    private static IpcEntry entryFor(IpcSpace space, Port port, int name, Object payer) {
        IpcEntry e = space.nameOf(port);
        if (e == null) {
            e = space.allocate(name, payer);
            space.bind(e, port);
        }
        return e;
    }

    /** The end of a carried right that is not delivered. */
    void destroy(Carried c) {
        if (c == null || c.port() == null) {
            return;
        }
        Port port = c.port();
        switch (c.type()) {
            case MOVE_SEND -> releaseSend(port);
            case MOVE_SEND_ONCE -> {
                if (port.active && ipc.plants.sendOnceSent(true)) {
                    ipc.notifications.sendOnce(c);
                } else {
                    port.sorights--;
                }
            }
            case MOVE_RECEIVE -> ipc.death.receiveRightDied(port);
            default -> {}
        }
    }

    /** A carried right used up by delivery: the right a message was addressed through. */
    void consume(Carried c) {
        if (c.port() == null) {
            return;
        }
        if (c.type() == MsgType.PORT_SEND) {
            releaseSend(c.port());
        } else if (c.type() == MsgType.PORT_SEND_ONCE) {
            c.port().sorights--;
            ipc.remoteRights.forgetIfUnused(c.port());
        }
    }

    /**
     * One send right fewer; the last one fires the no-senders request (on a proxy: this kernel
     * releases its registrations, {@link RemoteRefs}).
     */
    void releaseSend(Port port) {
        port.srights--;
        if (port.srights == 0 && port.proxy()) {
            ipc.refs.lastLocalRightGone(port);
            ipc.remoteRights.forgetIfUnused(port);
        } else {
            checkNoSenders(port);
        }
    }

    /** Fires the no-senders request if no send right is left here or on any other kernel. */
    void checkNoSenders(Port port) {
        if (port.srights == 0 && port.active && port.nsRequest != null && !port.proxy()
                && RemoteRefs.noRemoteSenders(port)) {
            Carried notify = port.nsRequest;
            port.nsRequest = null;
            ipc.notifications.noSenders(notify, port.mscount);
        }
    }

    /** mach_port_deallocate's step: one user reference fewer of a send right or dead name. */
    void dropUref(IpcSpace space, IpcEntry e) {
        if (--e.urefs > 0) {
            return;
        }
        if (e.has(PortRight.DEAD_NAME)) {
            space.free(e);
        } else {
            Port port = e.port();
            removeSend(space, e);
            releaseSend(port);
        }
    }

    /** The entry's send right goes (its count is the caller's to settle); a name left with nothing is freed. */
    private void removeSend(IpcSpace space, IpcEntry e) {
        e.remove(PortRight.SEND);
        e.urefs = 0;
        if (!e.has(PortRight.RECEIVE)) {
            freeName(space, e);
        }
    }

    /** Frees a name; a dead-name request on it becomes a port-deleted notification. */
    void freeName(IpcSpace space, IpcEntry e) {
        Port port = e.port();
        space.free(e);
        if (port != null) {
            Carried notify = port.deadNameRequests.remove(new Port.DeadNameKey(space, e.name));
            if (notify != null) {
                ipc.notifications.portDeleted(notify, e.name);
            }
        }
    }

    /** mach_port_destroy's step: every right under the name ends. */
    void destroyEntry(IpcSpace space, IpcEntry e) {
        if (e.has(PortRight.PORT_SET)) {
            space.free(e);
            ipc.delivery.setDestroyed(e.set());
        } else if (e.has(PortRight.DEAD_NAME)) {
            space.free(e);
        } else if (e.has(PortRight.SEND_ONCE)) {
            Port port = e.port();
            freeName(space, e);
            destroy(new Carried(port, MsgType.PORT_SEND_ONCE));
        } else if (e.has(PortRight.RECEIVE)) {
            Port port = e.port();
            boolean send = e.has(PortRight.SEND);
            freeName(space, e);
            Carried noSenders = null;
            int mscount = 0;
            if (send && --port.srights == 0 && port.nsRequest != null && RemoteRefs.noRemoteSenders(port)) {
                // GNU's ipc_right_destroy: the last send right went with the name; taken before the
                // receive right dies or moves to its backup (which resets mscount), sent after
                noSenders = port.nsRequest;
                port.nsRequest = null;
                mscount = port.mscount;
            }
            ipc.death.receiveRightDied(port);
            if (noSenders != null) {
                ipc.notifications.noSenders(noSenders, mscount);
            }
        } else {
            Port port = e.port();
            freeName(space, e);
            releaseSend(port);
        }
    }
}
