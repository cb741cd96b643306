package io.machxp.kernel.ipc;

import io.machxp.proto.link.HalfTransfer;
import io.machxp.proto.link.KernelCount;
import io.machxp.proto.link.LinkRight;
import io.machxp.proto.link.PortMigration;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.PortDied;
import io.machxp.proto.link.RefTransfer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
 *            a port known dead here, unknown and said to be here, or an own uid unknown here:
 *                            MACH_PORT_DEAD
 * </pre>
 * Dead-name requests stay with the kernel of the name they watch. mscount and seqno start again
 * with a moving receive right, as on one kernel.
 *
 * <h2>How long a uid is known ({@link #ports}, {@link #forgotten})</h2>
 * <pre>
 *  a port whose receive right is here   while it lives (a right naming its uid may come back)
 *  a forwarder (the receive right was   while the port lives: other kernels' proxies may point here
 *    here and moved on)
 *  any other proxy                      while anything here refers to it: send rights (names or
 *                                       carried), send-once rights (Port.sorights counts them on a
 *                                       proxy), registrations owed, dead-name requests, messages
 *                                       held; then it is forgotten ({@link #forgetIfUnused}) and
 *                                       its kernel recorded
 *  a port that died (its receive right  forgotten at once ({@link #died}); recorded dead, unless
 *    here, its proxy, or PortDied)      this kernel is the uid's origin
 *  a record of a forgotten uid          until {@link #maxForgotten} later ones push it out (FIFO)
 * </pre>
 * The records of forgotten uids cover what is still in flight when a uid is forgotten. Dead: a
 * right to the port arriving after the death must arrive as MACH_PORT_DEAD, not make a live proxy
 * (a tombstone). A proxy's kernel: a new proxy for the port takes the same path as the old one, and
 * a receive right arriving sends its PortFlush along it, so that messages this kernel sent through
 * the old proxy are not overtaken (order per sender, {@link IpcRemote}).
 *
 * <p>Some kernels need no tombstone: the origin of a uid (this kernel, this IPC session) keeps the
 * port or its forwarder while the port lives, so an own uid it does not know is dead (but for
 * a forwarder that died because the kernel its way ran through died: recorded as any other
 * kernel's, {@link #PATH_DIED}, and a proxy made for it afterwards is forgotten with its path); a right
 * naming this kernel as the receive right's place, for a port not known here, is dead too (the
 * receive right was here once and is gone). At the bound, a right whose tombstone was pushed out
 * arrives as a live proxy and learns of the death later: its RefTransfer reaches the kernel it
 * points to, which answers PortDied if it knows the uid dead ({@link #transferUnknown}); a
 * send-once right, at its first use (the message comes back as PortDied). A pushed-out path can
 * let a message sent before the proxy was forgotten be overtaken by one sent after. A peer can
 * thus make this kernel keep a proxy only for a right something here holds, and a record only
 * within the bound.
 */
final class RemoteRights {
    /**
     * Forgotten uids recorded by default: about 100 bytes each, so a few MB at the bound. A kernel
     * hears of every port death in the cluster, so in a long-lived cluster it is full, and then a
     * record lasts as long as the cluster takes for that many more deaths and forgotten proxies.
     */
    static final int DEFAULT_MAX_FORGOTTEN = 1 << 16;
    /** In {@link #forgotten}: the port died (its own death: destroyed, or PortDied). */
    private static final int DIED = Integer.MIN_VALUE;
    /**
     * In {@link #forgotten}, {@code PATH_DIED + k} (review N2): this kernel's proxy of the port died
     * because the way through kernel {@code k} died (k was declared dead here, or k's own proxy
     * died and it said so, PortDied with {@code via} k), so the port may live on elsewhere. Dead
     * here as {@link #DIED} is for a right that names k (or this kernel) as the receive right's
     * place, but a right naming another live kernel makes a proxy towards it; dropped at a renewal
     * ({@link #renew}), whose own kernel deaths are not the ports' deaths.
     */
    private static final int PATH_DIED = Integer.MIN_VALUE + 1;
    /** No path dying now ({@link #pathDying}). */
    private static final int NO_PATH = -1;
    /** While a path's death is handled ({@link #pathDying}): the kernel it ran through; what dies is recorded so. */
    private int dyingPath = NO_PATH;

    private final IpcCore ipc;
    /** The ports this kernel knows by uid: live ones only. */
    private final Map<PortUid, Port> ports = new HashMap<>();
    /**
     * Uids recently forgotten, oldest first, at most {@link #maxForgotten}: {@link #DIED},
     * {@link #PATH_DIED} + a kernel, or the kernel a forgotten proxy pointed to.
     */
    private final LinkedHashMap<PortUid, Integer> forgotten = new LinkedHashMap<>();
    private int maxForgotten = DEFAULT_MAX_FORGOTTEN;

    RemoteRights(IpcCore ipc) {
        this.ipc = ipc;
    }

    /** Ports known by uid now (tests). */
    int size() {
        return ports.size();
    }

    /** Records of forgotten uids now (tests). */
    int forgottenCount() {
        return forgotten.size();
    }

    /** Sets the bound on records of forgotten uids ({@link #DEFAULT_MAX_FORGOTTEN} unless set; tests use less). */
    void limitForgotten(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("a bound on forgotten uids is 0 or more, not " + max);
        }
        maxForgotten = max;
        trim();
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

    /**
     * The kernel this kernel's messages to {@code u} went to: its live proxy's, or a forgotten
     * proxy's as recorded; {@link Port#LOCAL} if none.
     */
    int path(io.machxp.proto.link.PortUid u) {
        Port p = port(u);
        if (p != null) {
            return p.active && p.proxy() ? p.remote : Port.LOCAL;
        }
        Integer was = forgotten.get(uid(u));
        return was == null || died(was) ? Port.LOCAL : was;
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
        LinkPayer.write(c.payer(), b);
        Port port = c.port();
        b.setPort(uid(uidOf(port))).setReceiverKernel(port.proxy() ? port.remote : ipc.net.self());
        if (c.type() == MsgType.PORT_SEND) {
            if (port.proxy() && to == port.remote) {
                b.setRegisteredByReceiver(true); // one frame fewer: the receiver registers it
            } else {
                ipc.refs.transfer(port, to);
                b.setTransferSent(port.proxy()); // the receiver sends its half of the registration too
            }
            after.add(() -> ipc.rights.releaseSend(port));
        } else if (c.type() == MsgType.PORT_SEND_ONCE && !port.proxy()) {
            ipc.soRefs.leaving(port, to);
        } else if (c.type() == MsgType.PORT_SEND_ONCE && port.proxy()) {
            after.add(() -> { // left this kernel (its home counts every send-once right: not there)
                port.sorights--;
                forgetIfUnused(port);
            });
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
        if (port.halves != null) {
            port.halves.forEach((key, n) -> m.addHalfTransfers(HalfTransfer.newBuilder()
                    .setTo(RemoteRefs.halfTo(key)).setSender(RemoteRefs.halfSender(key)).setBalance(n)));
        }
        if (port.nsRequest != null) {
            m.setNsRequest(export(port.nsRequest, to, after));
        }
        if (port.pdRequest != null) {
            m.setPdRequest(export(port.pdRequest, to, after));
        }
        ipc.soRefs.migrating(port, m);
        port.counts = null;
        port.halves = null;
        port.nsRequest = null;
        port.pdRequest = null;
        port.sorights = 0;
        port.remote = to;
        port.forwards = true;
        port.transitDestination = null;
        after.add(() -> ipc.remote.flush(port));
        return m.build();
    }

    /** A right arrived from kernel {@code from}. */
    Carried importRight(LinkRight r, int from) {
        MsgType type = MsgType.of(r.getType());
        if (r.getDead() || !r.hasPort()) {
            return Carried.dead(type);
        }
        PortUid u = uid(r.getPort());
        Port port = ports.get(u);
        if (type == MsgType.PORT_RECEIVE) {
            return new Carried(arriveReceive(port, u, r.getMigration(), from), type, LinkPayer.read(r, from));
        }
        if (port == null) {
            int named = r.getReceiverKernel();
            if (named == ipc.net.self() || deadHere(u) && !elsewhere(u, named)) {
                return Carried.dead(type); // its receive right was here once and is gone, or it died
            }
            Integer was = forgotten.remove(u); // the path of a proxy forgotten here: the same again
            int kernel = was != null && !died(was) && !ipc.net.dead(was) ? was : named;
            if (ipc.net.dead(kernel)) {
                return Carried.dead(type); // its receive right died with that kernel
            }
            port = proxy(u, kernel);
        }
        if (!port.active) {
            return Carried.dead(type);
        }
        if (type == MsgType.PORT_SEND) {
            if (r.getRegisteredByReceiver()) {
                ipc.refs.arrivedUnregistered(port);
            } else if (r.getTransferSent()) {
                ipc.refs.arrivedPassedOn(port, from);
            } else {
                ipc.refs.arrived(port);
            }
        } else {
            if (port.proxy()) {
                port.sorights++; // a send-once right here (the home counted it when it was made)
            }
            ipc.soRefs.arrived(port, from, r.getReceiverKernel());
        }
        return new Carried(port, type, LinkPayer.read(r, from)); // names it makes in in-process tasks: its client's, or that kernel's
    }

    private Port arriveReceive(Port port, PortUid u, PortMigration m, int from) {
        if (port == null) {
            port = new Port(ipc.nextObjectId());
            port.uid = u;
            ports.put(u, port);
            forgotten.remove(u); // a path no longer (and a death heard for it was a peer's mistake)
        }
        port.remote = Port.LOCAL;
        port.active = true;
        port.qlimit = m.getQlimit();
        port.sorights = m.getSorights();
        port.counts = new HashMap<>();
        for (KernelCount k : m.getCountsList()) {
            port.counts.put(k.getKernel(), k.getCount());
        }
        port.halves = null;
        for (HalfTransfer h : m.getHalfTransfersList()) {
            RemoteRefs.setHalf(port, h.getTo(), h.getSender(), h.getBalance());
        }
        ipc.refs.arriving(port);
        ipc.soRefs.arriving(port, m);
        port.nsSync = m.getNsSync();
        port.nsRequest = m.hasNsRequest() ? importRight(m.getNsRequest(), from) : null;
        port.pdRequest = m.hasPdRequest() ? importRight(m.getPdRequest(), from) : null;
        return port;
    }

    /** A proxy for {@code u} towards {@code kernel} (a live kernel). */
    private Port proxy(PortUid u, int kernel) {
        Port port = new Port(ipc.nextObjectId());
        port.uid = u;
        port.remote = kernel;
        ports.put(u, port);
        return port;
    }

    /** PortDied for a port not known here (now): a tombstone. */
    void tombstone(io.machxp.proto.link.PortUid u) {
        bury(uid(u), NO_PATH);
    }

    /** PortDied from forwarder {@code via} for a port not known here: dead here too if its forgotten proxy pointed there. */
    void diedVia(io.machxp.proto.link.PortUid u, int via) {
        Integer was = forgotten.get(uid(u));
        if (was != null && was == via) {
            bury(uid(u), via);
        }
    }

    /**
     * {@code port}, known by uid, died here (its receive right, or its proxy): forgotten, with a
     * tombstone; {@link #PATH_DIED} only for a proxy whose way ran through the kernel whose path is
     * dying now (review K2: a port that truly dies meanwhile, e.g. a receive right carried in a
     * message the dying proxy destroys, is recorded {@link #DIED}).
     */
    void died(Port port) {
        if (port.uid == null) {
            return;
        }
        ports.remove(port.uid, port);
        bury(port.uid, port.proxy() && port.remote == dyingPath ? dyingPath : NO_PATH);
    }

    /** A proxy nothing here refers to any more is forgotten; a later right to its port makes a new one. */
    void forgetIfUnused(Port port) {
        if (port.proxy() && port.active && !port.forwards && port.srights == 0 && port.sorights == 0
                && port.owed == 0 && port.deadNameRequests.isEmpty() && port.held.isEmpty() && !port.flushPending
                && port.followers == 0 && port.queue.size() == 0 && port.queue.blockedSenders.isEmpty()
                && ports.remove(port.uid, port)) {
            record(port.uid, port.remote);
        }
    }

    /**
     * A RefTransfer for a uid not known here: if its port is known dead here, the kernel the send
     * right went to is told (it may have made a proxy for it after forgetting the death).
     */
    void transferUnknown(RefTransfer t) {
        PortUid u = uid(t.getPort());
        if (!ports.containsKey(u) && deadHere(u) && t.getTo() != ipc.net.self() && !ipc.net.dead(t.getTo())) {
            ipc.net.send(t.getTo(), LinkFrame.newBuilder().setPortDied(portDied(t.getPort())).build());
        }
    }

    /**
     * The PortDied this kernel answers for {@code u}, which it knows dead: with {@code via} this
     * kernel where only its path died ({@link #PATH_DIED}, review K1), so that the receiver takes it
     * as a path's death (its proxy towards this kernel dies as such, a record it has stays a path's)
     * and not as the port's own death, which would outlive renewals and make every later right to
     * a port that lives on arrive dead.
     */
    PortDied portDied(io.machxp.proto.link.PortUid u) {
        PortDied.Builder d = PortDied.newBuilder().setPort(u);
        Integer was = forgotten.get(uid(u));
        if (was != null && was != DIED && died(was)) {
            d.setVia(ipc.net.self());
        }
        return d.build();
    }

    /**
     * Whether a right to {@code u} naming kernel {@code named} as its receive right's place may
     * reach a live port although {@code u} is recorded dead here: only the path through another
     * kernel died ({@link #PATH_DIED}) and {@code named} is a live kernel other than that one (review
     * N2: a port whose receive right moved on from a kernel that renewed its session lives on).
     */
    private boolean elsewhere(PortUid u, int named) {
        Integer was = forgotten.get(u);
        return was != null && was != DIED && died(was) && named != was - PATH_DIED && !ipc.net.dead(named);
    }

    /**
     * Whether {@code u}, not known here, is dead for sure: a tombstone, or this kernel's own uid of
     * this session with no record. An own uid's record says more than its origin: a path (a proxy
     * made for it after its forwarder died, then forgotten) or {@link #PATH_DIED} (its forwarder
     * died with the kernel its way ran through, review N2 at the origin: the port may live on).
     */
    private boolean deadHere(PortUid u) {
        Integer was = forgotten.get(u);
        return was != null ? died(was) : own(u);
    }

    /**
     * The origin keeps its ports (or their forwarders) while they live: an own uid of this IPC
     * session it does not know is dead. Not one of an earlier session: a port made here then may
     * have moved its receive right to another kernel before this kernel renewed its session
     * ({@link #renew}) or rejoined with a new core, and lives on there under its old uid (a right
     * to it names that kernel as {@code receiver_kernel}; one naming this kernel is dead, see
     * {@link #importRight}).
     */
    private boolean own(PortUid u) {
        return u.origin() == ipc.net.self()
                && ipc.plants.ownUid(u.session() == ipc.net.session(), u.session() < ipc.net.session());
    }

    /**
     * This kernel renewed its IPC session while alive, after every other kernel was declared dead
     * here (so every proxy and forwarder died, with its dead-name notifications): the uids of the
     * earlier session go. A port whose receive right is here (or in transit here) keeps living for
     * the tasks of this kernel and is exported under a new uid of the new session if a right to it
     * leaves again: to the other kernels, which declared its old uid dead, it is a new port. What
     * this kernel recorded of the others' ports goes too, but for the ports that died: the ports of
     * the others that live on arrive again as new proxies (new names), never as the dead ones, and
     * a right to a port that died arrives as a dead name (review F6).
     */
    void renew() {
        for (Port p : List.copyOf(ports.values())) {
            ports.remove(p.uid, p);
            if (p.active && p.proxy()) {
                ipc.death.receiveRightDied(p); // towards a kernel no longer in the directory
            }
            p.uid = null;
        }
        // the records of ports that died stay (a right to one arriving later from a third kernel
        // is a dead name, not a live-looking proxy); the paths go, and so do the deaths recorded
        // only because a path died (every kernel was declared dead here at this renewal): those
        // ports may live on, and a right to one arrives as a new proxy
        forgotten.values().removeIf(was -> !died(was) || !ipc.plants.deathKeptAtRenewal(was == DIED));
    }

    /** Whether a record of {@link #forgotten} is a death ({@link #DIED} or {@link #PATH_DIED} + a kernel; paths are 0 or more). */
    private static boolean died(int was) {
        return was < Port.LOCAL;
    }

    /**
     * Around the handling of a path's death through {@code kernel} ({@code IpcRemote.kernelDied},
     * a PortDied with {@code via}): see {@link #PATH_DIED}; {@code -1} when it is over.
     */
    void pathDying(int kernel) {
        dyingPath = kernel;
    }

    /** {@code u} died here: its own death ({@code path} {@link #NO_PATH}), or its path through kernel {@code path}. */
    private void bury(PortUid u, int path) {
        if (own(u) && path == NO_PATH) {
            forgotten.remove(u); // dead for sure: the origin keeps its live ports' forwarders
        } else {
            record(u, path == NO_PATH ? DIED : PATH_DIED + path);
        }
    }

    /** Records {@code u} as the newest forgotten uid; the oldest go beyond the bound. */
    private void record(PortUid u, int what) {
        forgotten.remove(u);
        forgotten.put(u, what);
        trim();
    }

    private void trim() {
        for (Iterator<PortUid> it = forgotten.keySet().iterator(); forgotten.size() > maxForgotten; ) {
            it.next();
            it.remove();
        }
    }
}
