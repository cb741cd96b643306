package io.machxp.kernel.ipc;

/**
 * The mach_port_* routines (GNU Mach's {@code mach_port.defs}) on one name space. Part of the
 * IPC core; core thread only. Every routine checks everything before it changes anything, so a
 * failed call leaves the space as it was. The rules, each with its source and test, are in
 * docs/mach-ipc.md.
 */
final class PortCalls {
    /** Names one task may hold at once ({@link IpcSpace#MAX_NAMES}). */
    static final int MAX_NAMES = IpcSpace.MAX_NAMES;

    private final IpcCore ipc;

    PortCalls(IpcCore ipc) {
        this.ipc = ipc;
    }

    IpcResult<Integer> allocate(IpcSpace space, int right) {
        PortRight r = PortRight.of(right);
        if (r != PortRight.RECEIVE && r != PortRight.PORT_SET && r != PortRight.DEAD_NAME) {
            return IpcResult.fail(KernReturn.KERN_INVALID_VALUE);
        }
        if (space.full()) {
            return IpcResult.fail(space.fullReturn());
        }
        return IpcResult.ok(make(space, space.allocate(), r));
    }

    IpcResult<Integer> allocateName(IpcSpace space, int right, int name) {
        PortRight r = PortRight.of(right);
        if ((r != PortRight.RECEIVE && r != PortRight.PORT_SET && r != PortRight.DEAD_NAME)
                || name == Mach.MACH_PORT_NULL || name == Mach.MACH_PORT_DEAD) {
            return IpcResult.fail(KernReturn.KERN_INVALID_VALUE);
        }
        if (space.inUse(name)) {
            return IpcResult.fail(KernReturn.KERN_NAME_EXISTS);
        }
        if (space.full()) {
            return IpcResult.fail(space.fullReturn());
        }
        return IpcResult.ok(make(space, space.allocate(name), r));
    }

    private int make(IpcSpace space, IpcEntry e, PortRight r) {
        switch (r) {
            case RECEIVE -> {
                Port port = new Port(ipc.nextObjectId());
                port.receiver = space;
                space.bind(e, port);
            }
            case PORT_SET -> e.object = new PortSet(ipc.nextObjectId(), space, e.name);
            default -> e.urefs = 1;
        }
        e.add(r);
        return e.name;
    }

    KernReturn deallocate(IpcSpace space, int name) {
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return KernReturn.KERN_INVALID_NAME;
        }
        if (e.has(PortRight.SEND) || e.has(PortRight.DEAD_NAME)) {
            ipc.rights.dropUref(space, e);
        } else if (e.has(PortRight.SEND_ONCE)) {
            ipc.rights.destroyEntry(space, e);
        } else {
            return KernReturn.KERN_INVALID_RIGHT;
        }
        return KernReturn.KERN_SUCCESS;
    }

    KernReturn destroy(IpcSpace space, int name) {
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return KernReturn.KERN_INVALID_NAME;
        }
        ipc.rights.destroyEntry(space, e);
        return KernReturn.KERN_SUCCESS;
    }

    KernReturn modRefs(IpcSpace space, int name, int right, int delta) {
        PortRight r = PortRight.of(right);
        if (r == null) {
            return KernReturn.KERN_INVALID_VALUE;
        }
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return KernReturn.KERN_INVALID_NAME;
        }
        if (!e.has(r)) {
            return KernReturn.KERN_INVALID_RIGHT;
        }
        if (r == PortRight.SEND || r == PortRight.DEAD_NAME) {
            long n = (long) e.urefs + delta;
            if (n < 0) {
                return KernReturn.KERN_INVALID_VALUE;
            }
            if (n > (r == PortRight.SEND ? Mach.SEND_UREFS_MAX : Mach.MACH_PORT_UREFS_MAX)) {
                return KernReturn.KERN_UREFS_OVERFLOW;
            }
            if (n == 0) {
                e.urefs = 1;
                ipc.rights.dropUref(space, e);
            } else {
                e.urefs = (int) n;
            }
            return KernReturn.KERN_SUCCESS;
        }
        if (delta != 0 && delta != -1) {
            return KernReturn.KERN_INVALID_VALUE;
        }
        if (delta == -1) {
            if (r == PortRight.RECEIVE && e.has(PortRight.SEND)) {
                Port port = e.port();
                e.remove(PortRight.RECEIVE); // the send right stays: a dead name once the port is gone
                ipc.death.receiveRightDied(port);
            } else {
                ipc.rights.destroyEntry(space, e);
            }
        }
        return KernReturn.KERN_SUCCESS;
    }

    IpcResult<Integer> getRefs(IpcSpace space, int name, int right) {
        PortRight r = PortRight.of(right);
        if (r == null) {
            return IpcResult.fail(KernReturn.KERN_INVALID_VALUE);
        }
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return IpcResult.fail(KernReturn.KERN_INVALID_NAME);
        }
        if (!e.has(r)) {
            return IpcResult.ok(0);
        }
        return IpcResult.ok(r == PortRight.SEND || r == PortRight.DEAD_NAME ? e.urefs : 1);
    }

    /** The name's MACH_PORT_TYPE_* bits, with MACH_PORT_TYPE_DNREQUEST if it has a dead-name request (GNU's ipc_right_info). */
    IpcResult<Integer> type(IpcSpace space, int name) {
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return IpcResult.fail(KernReturn.KERN_INVALID_NAME);
        }
        Port port = e.port();
        boolean request = port != null && port.deadNameRequests.containsKey(new Port.DeadNameKey(space, name));
        return IpcResult.ok(e.type | (request ? Mach.MACH_PORT_TYPE_DNREQUEST : 0));
    }

    /**
     * mach_port_rename: the rights under {@code oname} move to {@code nname}, with what hangs on
     * the name (a dead-name request, a set's name). GNU's order of checks (ipc_object_rename):
     * the new name's validity, then whether it is in use, then the old name.
     */
    KernReturn rename(IpcSpace space, int oname, int nname) {
        if (nname == Mach.MACH_PORT_NULL || nname == Mach.MACH_PORT_DEAD) {
            return KernReturn.KERN_INVALID_VALUE;
        }
        if (space.inUse(nname)) {
            return KernReturn.KERN_NAME_EXISTS;
        }
        IpcEntry e = space.lookup(oname);
        if (e == null) {
            return KernReturn.KERN_INVALID_NAME;
        }
        IpcEntry n = space.rename(e, nname);
        Port port = n.port();
        if (port != null) {
            Carried request = port.deadNameRequests.remove(new Port.DeadNameKey(space, oname));
            if (request != null) {
                port.deadNameRequests.put(new Port.DeadNameKey(space, nname), request);
            }
        }
        if (n.set() != null) {
            n.set().name = nname;
        }
        return KernReturn.KERN_SUCCESS;
    }

    /** mach_port_names: every name of the space, in increasing order, with its type (dead ports' rights as dead names). */
    IpcResult<PortNames> names(IpcSpace space) {
        java.util.List<IpcEntry> all = space.all();
        int[] names = new int[all.size()];
        int[] types = new int[all.size()];
        for (int i = 0; i < names.length; i++) {
            names[i] = all.get(i).name;
            types[i] = type(space, names[i]).value();
        }
        return IpcResult.ok(new PortNames(names, types));
    }

    /** mach_port_get_set_status: the names of the set's members, in increasing order. */
    IpcResult<int[]> getSetStatus(IpcSpace space, int name) {
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return IpcResult.fail(KernReturn.KERN_INVALID_NAME);
        }
        if (!e.has(PortRight.PORT_SET)) {
            return IpcResult.fail(KernReturn.KERN_INVALID_RIGHT);
        }
        return IpcResult.ok(e.set().members().stream().mapToInt(p -> space.nameOf(p).name)
                .boxed().sorted(Integer::compareUnsigned).mapToInt(Integer::intValue).toArray());
    }

    /** mach_port_insert_right: the right {@code from} holds under {@code fromName}, into {@code space} as {@code name}. */
    KernReturn insertRight(IpcSpace space, int name, IpcSpace from, int fromName, MsgType d) {
        if (d == null || d == MsgType.PORT_NAME || name == Mach.MACH_PORT_NULL || name == Mach.MACH_PORT_DEAD) {
            return KernReturn.KERN_INVALID_VALUE;
        }
        if (fromName == Mach.MACH_PORT_NULL || fromName == Mach.MACH_PORT_DEAD) {
            return KernReturn.KERN_INVALID_CAPABILITY;
        }
        KernReturn ok = ipc.rights.check(from, fromName, d, false);
        if (!ok.ok()) {
            return ok;
        }
        if (d == MsgType.MAKE_SEND_ONCE && !ipc.notifications.roomForSendOnce(from)) {
            return KernReturn.KERN_RESOURCE_SHORTAGE; // no room for the notification it would end as
        }
        Port port = from.lookup(fromName).port();
        MsgType t = d.delivered();
        IpcEntry existing = space.lookup(name);
        if (t == MsgType.PORT_SEND_ONCE) {
            if (existing != null) {
                return KernReturn.KERN_NAME_EXISTS;
            }
        } else {
            IpcEntry other = space.nameOf(port);
            if (other != null && other.name != name) {
                return KernReturn.KERN_RIGHT_EXISTS;
            }
            if (existing != null && existing.port() != port) {
                return KernReturn.KERN_NAME_EXISTS;
            }
            if (existing != null && t == MsgType.PORT_RECEIVE && existing.has(PortRight.RECEIVE)) {
                return KernReturn.KERN_RIGHT_EXISTS;
            }
            if (existing != null && t == MsgType.PORT_SEND && existing.has(PortRight.SEND)
                    && existing.urefs + 1 > Mach.SEND_UREFS_MAX) {
                return KernReturn.KERN_UREFS_OVERFLOW;
            }
        }
        if (space.fullFor(Rights.payerOf(from, fromName, d)) && existing == null) {
            return space.fullReturn();
        }
        Carried c = ipc.rights.copyin(from, fromName, d);
        ipc.rights.copyout(space, c, name);
        return KernReturn.KERN_SUCCESS;
    }

    /** mach_port_extract_right: the right of {@code space} under {@code name}, into {@code to}; its new name and type. */
    IpcResult<MsgItem.Port> extractRight(IpcSpace space, int name, MsgType d, IpcSpace to) {
        if (d == null || d == MsgType.PORT_NAME) {
            return IpcResult.fail(KernReturn.KERN_INVALID_VALUE);
        }
        KernReturn ok = ipc.rights.check(space, name, d, true);
        if (!ok.ok()) {
            return IpcResult.fail(ok);
        }
        if (d == MsgType.MAKE_SEND_ONCE && !ipc.notifications.roomForSendOnce(space)) {
            return IpcResult.fail(KernReturn.KERN_RESOURCE_SHORTAGE); // no room for the notification it would end as
        }
        IpcEntry e = space.lookup(name);
        if (to.fullFor(Rights.payerOf(space, name, d)) && !e.has(PortRight.DEAD_NAME) && Rights.needsName(to, e.port(), d.delivered())) {
            return IpcResult.fail(to.fullReturn());
        }
        Carried c = ipc.rights.copyin(space, name, d);
        return IpcResult.ok(new MsgItem.Port(ipc.rights.copyout(to, c), c.type()));
    }

    /** mach_port_move_member: {@code member}'s receive right into set {@code after}, or out of its set (MACH_PORT_NULL). */
    KernReturn moveMember(IpcSpace space, int member, int after) {
        IpcEntry e = space.lookup(member);
        if (e == null) {
            return KernReturn.KERN_INVALID_NAME;
        }
        if (!e.has(PortRight.RECEIVE)) {
            return KernReturn.KERN_INVALID_RIGHT;
        }
        Port port = e.port();
        if (after == Mach.MACH_PORT_NULL) {
            if (port.set == null) {
                return KernReturn.KERN_NOT_IN_SET;
            }
            ipc.delivery.leaveSet(port);
            return KernReturn.KERN_SUCCESS;
        }
        IpcEntry s = space.lookup(after);
        if (s == null) {
            return KernReturn.KERN_INVALID_NAME;
        }
        if (!s.has(PortRight.PORT_SET)) {
            return KernReturn.KERN_INVALID_RIGHT;
        }
        ipc.delivery.joinSet(port, s.set());
        return KernReturn.KERN_SUCCESS;
    }

    /** The port of a receive right, or the failure as a code. */
    private IpcResult<Port> receivePort(IpcSpace space, int name) {
        IpcEntry e = space.lookup(name);
        if (e == null) {
            return IpcResult.fail(KernReturn.KERN_INVALID_NAME);
        }
        return e.has(PortRight.RECEIVE) ? IpcResult.ok(e.port()) : IpcResult.fail(KernReturn.KERN_INVALID_RIGHT);
    }

    KernReturn setQlimit(IpcSpace space, int name, int qlimit) {
        IpcResult<Port> p = receivePort(space, name);
        if (!p.code().ok()) {
            return p.code();
        }
        if (qlimit < 0 || qlimit > Mach.MACH_PORT_QLIMIT_MAX) {
            return KernReturn.KERN_INVALID_VALUE;
        }
        p.value().qlimit = qlimit;
        ipc.delivery.admitSenders(p.value());
        return KernReturn.KERN_SUCCESS;
    }

    /** mach_port_set_seqno: the next message received through the port is stamped {@code seqno} (any value). */
    KernReturn setSeqno(IpcSpace space, int name, int seqno) {
        IpcResult<Port> p = receivePort(space, name);
        if (p.code().ok()) {
            p.value().seqno = seqno;
        }
        return p.code();
    }

    /** mach_port_set_mscount: the port's make-send count (any value; no-senders carries it, MAKE_SEND counts on from it). */
    KernReturn setMscount(IpcSpace space, int name, int mscount) {
        IpcResult<Port> p = receivePort(space, name);
        if (p.code().ok()) {
            p.value().mscount = mscount;
        }
        return p.code();
    }

    IpcResult<ReceiveStatus> getReceiveStatus(IpcSpace space, int name) {
        IpcResult<Port> r = receivePort(space, name);
        if (!r.code().ok()) {
            return IpcResult.fail(r.code());
        }
        Port p = r.value();
        return IpcResult.ok(new ReceiveStatus(p.set == null ? Mach.MACH_PORT_NULL : p.set.name, p.seqno, p.mscount,
                p.qlimit, p.queue.size(), p.sorights, p.srights > 0 || !RemoteRefs.noRemoteSenders(p), p.pdRequest != null, p.nsRequest != null));
    }

    /** mach_port_get_attributes: LIMITS_INFO {qlimit}; RECEIVE_STATUS as get_receive_status, as integers. */
    IpcResult<int[]> getAttributes(IpcSpace space, int name, int flavor) {
        if (flavor != Mach.MACH_PORT_LIMITS_INFO && flavor != Mach.MACH_PORT_RECEIVE_STATUS) {
            return IpcResult.fail(KernReturn.KERN_INVALID_ARGUMENT);
        }
        IpcResult<ReceiveStatus> r = getReceiveStatus(space, name);
        if (!r.code().ok()) {
            return IpcResult.fail(r.code());
        }
        ReceiveStatus s = r.value();
        return IpcResult.ok(flavor == Mach.MACH_PORT_LIMITS_INFO ? new int[] {s.qlimit()}
                : new int[] {s.pset(), s.seqno(), s.mscount(), s.qlimit(), s.msgcount(), s.sorights(),
                        s.srights() ? 1 : 0, s.pdrequest() ? 1 : 0, s.nsrequest() ? 1 : 0});
    }

    /** mach_port_set_attributes: LIMITS_INFO {qlimit} only. */
    KernReturn setAttributes(IpcSpace space, int name, int flavor, int[] info) {
        if (flavor != Mach.MACH_PORT_LIMITS_INFO) {
            return KernReturn.KERN_INVALID_ARGUMENT;
        }
        return info.length < 1 ? KernReturn.KERN_INVALID_VALUE : setQlimit(space, name, info[0]);
    }
}
