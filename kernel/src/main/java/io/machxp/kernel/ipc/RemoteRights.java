package io.machxp.kernel.ipc;

import io.machxp.proto.link.KernelCount;
import io.machxp.proto.link.LinkRight;
import io.machxp.proto.link.PortMigration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rights crossing kernels: a carried right leaving for another kernel becomes a {@link LinkRight}
 * ({@link #export}), and one arriving becomes a carried right here ({@link #importRight}). Ports
 * are found by their {@link PortUid}; a right to a port this kernel does not know makes a proxy
 * towards the kernel the sender named. Part of the IPC core; core thread only.
 * <pre>
 *  leaving:  PORT_SEND       counted (RemoteRefs.transfer), then released here after the frame
 *            PORT_SEND_ONCE  nothing to count: it comes home as a message or a SEND_ONCE notification
 *            PORT_RECEIVE    migrates: qlimit, send-once count, distributed counts and the
 *                            no-senders / port-destroyed requests go with it; the port here
 *                            becomes a proxy towards the destination and its queued messages and
 *                            blocked senders follow the carrying message on the same link
 *  arriving: PORT_SEND       registered (RemoteRefs.arrived); PORT_RECEIVE: the port here (new,
 *                            or a proxy until now) holds the receive right in transit
 *            a port known dead here, or unknown and said to be here: MACH_PORT_DEAD
 * </pre>
 * Dead-name requests stay with the kernel of the name they watch. mscount and seqno start again
 * with a moving receive right, as on one kernel.
 */
final class RemoteRights {
    private final IpcCore ipc;
    private final Map<PortUid, Port> ports = new HashMap<>();

    RemoteRights(IpcCore ipc) {
        this.ipc = ipc;
    }

    static io.machxp.proto.link.PortUid uid(PortUid u) {
        return io.machxp.proto.link.PortUid.newBuilder().setOrigin(u.origin()).setSession(u.session()).setId(u.id()).build();
    }

    private static PortUid uid(io.machxp.proto.link.PortUid u) {
        return new PortUid(u.getOrigin(), u.getSession(), u.getId());
    }

    /** The port of {@code u} here, or null. */
    Port port(io.machxp.proto.link.PortUid u) {
        return ports.get(uid(u));
    }

    /** Every port this kernel knows by uid (a copy). */
    List<Port> known() {
        return List.copyOf(ports.values());
    }

    private PortUid uidOf(Port port) {
        if (port.uid == null) {
            port.uid = new PortUid(ipc.net.self(), ipc.net.session(), port.id);
            ports.put(port.uid, port);
        }
        return port.uid;
    }

    /**
     * {@code c} leaves for kernel {@code to}. Work that must follow the frame that carries it
     * (releases, a migrated queue) is added to {@code after}.
     */
    LinkRight export(Carried c, int to, List<Runnable> after) {
        LinkRight.Builder b = LinkRight.newBuilder().setType(c.type().value);
        if (c.dead()) {
            return b.setDead(true).build();
        }
        Port port = c.port();
        b.setPort(uid(uidOf(port))).setReceiverKernel(port.proxy() ? port.remote : ipc.net.self());
        if (c.type() == MsgType.PORT_SEND) {
            if (port.proxy() && to == port.remote) {
                b.setRegisteredByReceiver(true); // one frame fewer: the receiver registers it
            } else {
                ipc.refs.transfer(port, to);
            }
            after.add(() -> ipc.rights.releaseSend(port));
        } else if (c.type() == MsgType.PORT_RECEIVE) {
            b.setReceiverKernel(to).setMigration(migrate(port, to, after));
        }
        return b.build();
    }

    private PortMigration migrate(Port port, int to, List<Runnable> after) {
        ipc.refs.leaving(port);
        PortMigration.Builder m = PortMigration.newBuilder().setQlimit(port.qlimit).setSorights(port.sorights)
                .setNsSync(port.nsSync)
                .setFollowers(port.queue.size() + port.queue.blockedSenders.size());
        if (port.counts != null) {
            port.counts.forEach((k, n) -> m.addCounts(KernelCount.newBuilder().setKernel(k).setCount(n)));
        }
        if (port.nsRequest != null) {
            m.setNsRequest(export(port.nsRequest, to, after));
        }
        if (port.pdRequest != null) {
            m.setPdRequest(export(port.pdRequest, to, after));
        }
        port.counts = null;
        port.nsRequest = null;
        port.pdRequest = null;
        port.sorights = 0;
        port.remote = to;
        port.transitDestination = null;
        after.add(() -> ipc.remote.flush(port));
        return m.build();
    }

    /** A right arrived from another kernel. */
    Carried importRight(LinkRight r) {
        MsgType type = MsgType.of(r.getType());
        if (r.getDead() || !r.hasPort()) {
            return Carried.dead(type);
        }
        PortUid u = uid(r.getPort());
        Port port = ports.get(u);
        if (type == MsgType.PORT_RECEIVE) {
            return new Carried(arriveReceive(port, u, r.getMigration()), type);
        }
        if (port == null) {
            if (r.getReceiverKernel() == ipc.net.self()) {
                return Carried.dead(type); // its receive right was here once and is gone
            }
            port = proxy(u, r.getReceiverKernel());
        }
        if (!port.active) {
            return Carried.dead(type);
        }
        if (type == MsgType.PORT_SEND) {
            if (r.getRegisteredByReceiver()) {
                ipc.refs.arrivedUnregistered(port);
            } else {
                ipc.refs.arrived(port);
            }
        }
        return new Carried(port, type);
    }

    private Port arriveReceive(Port port, PortUid u, PortMigration m) {
        if (port == null) {
            port = new Port(ipc.nextObjectId());
            port.uid = u;
            ports.put(u, port);
        }
        port.remote = Port.LOCAL;
        port.active = true;
        port.qlimit = m.getQlimit();
        port.sorights = m.getSorights();
        port.counts = new HashMap<>();
        for (KernelCount k : m.getCountsList()) {
            port.counts.put(k.getKernel(), k.getCount());
        }
        ipc.refs.arriving(port);
        port.nsSync = m.getNsSync();
        port.nsRequest = m.hasNsRequest() ? importRight(m.getNsRequest()) : null;
        port.pdRequest = m.hasPdRequest() ? importRight(m.getPdRequest()) : null;
        return port;
    }

    /** A proxy for {@code u} towards {@code kernel}; dead at once if that kernel is known dead. */
    private Port proxy(PortUid u, int kernel) {
        Port port = new Port(ipc.nextObjectId());
        port.uid = u;
        port.remote = kernel;
        port.active = !ipc.net.dead(kernel);
        ports.put(u, port);
        return port;
    }

    /** A port known only by uid that died before anything here referred to it: a tombstone. */
    Port tombstone(io.machxp.proto.link.PortUid u) {
        Port port = proxy(uid(u), ipc.net.self());
        port.active = false;
        return port;
    }
}
