package io.machxp.kernel.ipc;

import com.google.protobuf.ByteString;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkInsertRight;
import io.machxp.proto.link.LinkItem;
import io.machxp.proto.link.LinkMessage;
import io.machxp.proto.link.PortDied;
import io.machxp.proto.link.PortFlush;
import java.util.ArrayList;
import java.util.List;

/**
 * Mach IPC across kernels: messages to proxies carried out, frames from other kernels taken in,
 * port and kernel deaths. Part of the IPC core; core thread only; the frames go through
 * {@link IpcNet}, which the link layer implements.
 *
 * <h2>Overview</h2>
 * <pre>
 *  enqueue on a proxy   -> LinkMessage to the proxy's kernel (no queue limit across kernels, as
 *                          in NORMA); its rights exported (RemoteRights), then released here;
 *                          its bytes stay charged here until that kernel is done with it (InFlight)
 *  LinkMessage in       -> rights imported, enqueued on the port here: queued for a receiver if
 *                          the receive right is here (or in transit here), or carried on if this
 *                          kernel is a forwarder (the receive right moved on from here); a dead
 *                          or unknown destination: destroyed, and PortDied goes back to the sender
 *  receive right dies   -> PortDied to every kernel: their proxies die (dead names, dead-name
 *                          notifications); remembered (RemoteRights, bounded), so later
 *                          rights to it arrive dead
 *  kernel K dies        -> every proxy towards K dies; K's registrations are dropped
 *  passing on           -> a LinkMessage, RefTransfer, RefRelease or PortFlush another kernel
 *                          made goes on with one hop more; past the hop bound ({@link Hops}: a
 *                          loop of proxies) it is dropped - a message destroyed as undeliverable
 * </pre>
 * Order: all traffic from one kernel for one port takes the same path (a proxy never changes its
 * kernel, nor does one made again after it was forgotten, {@link RemoteRights}; a kernel the
 * receive right left forwards), and each link is FIFO, so messages from one
 * thread arrive in the order sent. A forwarder's death kills the proxies that point through it
 * (a known limit: NORMA re-targeted proxies with acknowledgements instead).
 */
final class IpcRemote {
    private final IpcCore ipc;

    IpcRemote(IpcCore ipc) {
        this.ipc = ipc;
    }

    // ---- out ----------------------------------------------------------------------------------

    /**
     * A message admitted to a proxy: carried to the proxy's kernel - unless it came from another
     * kernel and has been passed on as many times as the hop bound allows ({@link Hops}): then it
     * is destroyed as undeliverable ({@link Delivery#destroyUnreachable}).
     */
    void ship(KMsg m) {
        int to = m.dest.port().remote;
        if (!mayPassOn("LinkMessage", m.dest.port(), m.fromKernel, m.hops)) {
            ipc.delivery.destroyUnreachable(m);
            return;
        }
        List<Runnable> after = new ArrayList<>();
        LinkMessage.Builder b = LinkMessage.newBuilder().setDest(ipc.remoteRights.export(m.dest, to, after))
                .setId(m.id).setComplex(m.complex).setSize(m.size).setSenderTid(m.senderTid)
                .setDonorPriority(Math.max(m.donation, 0)).setHops((int) m.hops)
                .setTicket(ipc.inFlight.carried(m, to)).setChargeWhereQueued(chargeWhereQueued(m));
        if (m.reply != null) {
            b.setReply(ipc.remoteRights.export(m.reply, to, after));
        }
        for (KMsg.Item i : m.items) {
            b.addItems(item(i, to, after));
        }
        ipc.net.send(to, LinkFrame.newBuilder().setMessage(b).build());
        after.forEach(Runnable::run);
    }

    /**
     * Whether the next kernel must charge {@code m} where it queues it: a notification no kernel
     * charged yet, or one that came from another kernel (charged here only while queued here, and
     * {@link InFlight#carried} charges only messages made here) - else a notification would lose its
     * charge each time its port's receive right moves on.
     */
    private static boolean chargeWhereQueued(KMsg m) {
        return m.chargeWhereQueued || m.notification && m.fromKernel != Port.LOCAL;
    }

    /**
     * Whether a frame of {@code kind} for {@code port} (a proxy) that came from kernel {@code from}
     * may be passed on to the proxy's kernel with {@code hops}; if not, the links hear of it (the
     * caller drops the frame).
     */
    boolean mayPassOn(String kind, Port port, int from, long hops) {
        int kernels = ipc.net.kernels();
        if (Hops.within(hops, kernels)) {
            return true;
        }
        ipc.net.hopBoundReached(kind, String.valueOf(port.uid), from, port.remote, Hops.bound(kernels));
        return false;
    }

    private LinkItem item(KMsg.Item i, int to, List<Runnable> after) {
        if (i instanceof KMsg.Right r) {
            return LinkItem.newBuilder().setRight(ipc.remoteRights.export(r.right(), to, after)).build();
        }
        MsgItem d = ((KMsg.Data) i).item();
        if (d instanceof MsgItem.Inline in) {
            return LinkItem.newBuilder().setInlineData(ByteString.copyFrom(in.data())).build();
        }
        if (d instanceof MsgItem.OutOfLine o) {
            byte[] bytes = o.region().read();
            o.region().release();
            return LinkItem.newBuilder().setOutOfLine(ByteString.copyFrom(bytes)).build();
        }
        MsgItem.Port p = (MsgItem.Port) d;
        return p.type() == MsgType.PORT_NAME ? LinkItem.newBuilder().setPortName(p.name()).build()
                : LinkItem.newBuilder().setNullRight(p.type().value).build();
    }

    /**
     * A port became a proxy: what waited in its queue, then its blocked senders' messages, follow
     * the receive right, every one of them, as the migration counted. Messages held back while a
     * PortFlush is out stay held until it comes back (then they are carried on).
     */
    void flush(Port port) {
        for (KMsg m = ipc.delivery.dequeue(port); m != null; m = ipc.delivery.dequeue(port)) {
            ship(m);
        }
        port.followers = 0;
        if (port.notificationBytes == 0) {
            port.notificationsChargedTo = null; // no task here holds or moved it now
        }
        for (SendWait w = ipc.delivery.pollBlocked(port); w != null; w = ipc.delivery.pollBlocked(port)) {
            ipc.endWait(w.tid, w.cancelTimer);
            ship(w.msg);
            w.done.accept(KernReturn.MACH_MSG_SUCCESS);
        }
    }

    /** The receive right of a port other kernels may know died here. */
    void receiveRightDied(Port port) {
        if (port.uid != null && !port.proxy()) {
            port.counts = null;
            port.halves = null;
            ipc.net.broadcast(LinkFrame.newBuilder().setPortDied(PortDied.newBuilder()
                    .setPort(RemoteRights.uid(port.uid))).build());
        }
    }

    /** mach_port_insert_right into task {@code task} of kernel {@code kernel} under {@code name}. */
    KernReturn insertRight(IpcSpace space, int fromName, MsgType d, int kernel, long task, boolean handle, int name) {
        if (d == null || d == MsgType.PORT_NAME || d == MsgType.MOVE_RECEIVE || name == Mach.MACH_PORT_NULL
                || name == Mach.MACH_PORT_DEAD) {
            return KernReturn.KERN_INVALID_VALUE;
        }
        if (fromName == Mach.MACH_PORT_NULL || fromName == Mach.MACH_PORT_DEAD || ipc.net.dead(kernel)
                || kernel == ipc.net.self()) {
            return KernReturn.KERN_INVALID_CAPABILITY;
        }
        KernReturn ok = ipc.rights.check(space, fromName, d, false);
        if (!ok.ok()) {
            return ok;
        }
        if (d == MsgType.MAKE_SEND_ONCE && !ipc.notifications.roomForSendOnce(space)) {
            return KernReturn.KERN_RESOURCE_SHORTAGE; // no room for the notification it would end as
        }
        Carried c = ipc.rights.copyin(space, fromName, d);
        List<Runnable> after = new ArrayList<>();
        LinkInsertRight insert = LinkInsertRight.newBuilder().setTask(task).setTaskIsHandle(handle).setName(name)
                .setRight(ipc.remoteRights.export(c, kernel, after)).build();
        ipc.net.send(kernel, LinkFrame.newBuilder().setInsert(insert).build());
        after.forEach(Runnable::run);
        return KernReturn.KERN_SUCCESS;
    }

    // ---- in -----------------------------------------------------------------------------------

    /** A frame from kernel {@code from}. */
    void receive(int from, LinkFrame f) {
        switch (f.getBodyCase()) {
            case MESSAGE -> message(from, f.getMessage());
            case INSERT -> insert(from, f.getInsert());
            case TRANSFER -> {
                Port p = ipc.remoteRights.port(f.getTransfer().getPort());
                if (p != null) {
                    ipc.refs.onTransfer(from, p, f.getTransfer());
                } else {
                    ipc.remoteRights.transferUnknown(f.getTransfer()); // a port known dead here: PortDied to its new holder
                }
            }
            case RELEASE -> {
                Port p = ipc.remoteRights.port(f.getRelease().getPort());
                if (p != null) {
                    ipc.refs.onRelease(from, p, f.getRelease());
                }
            }
            case PORT_DIED -> portDied(f.getPortDied());
            case FLUSH -> flushMarker(from, f.getFlush());
            case CONSUMED -> ipc.inFlight.onConsumed(from, f.getConsumed());
            default -> {} // hello and keepalive belong to the link
        }
    }

    private void message(int from, LinkMessage lm) {
        for (LinkItem i : lm.getItemsList()) { // a receive right's proxy here, if any, before the import
            if (i.hasRight() && i.getRight().hasMigration()) {
                int oldPath = ipc.remoteRights.path(i.getRight().getPort());
                afterImport.add(() -> arrived(from, i.getRight(), oldPath));
            }
        }
        Carried dest = ipc.remoteRights.importRight(lm.getDest(), from);
        Carried reply = lm.hasReply() ? ipc.remoteRights.importRight(lm.getReply(), from) : null;
        List<KMsg.Item> items = new ArrayList<>(lm.getItemsCount());
        for (LinkItem i : lm.getItemsList()) {
            items.add(switch (i.getItemCase()) {
                case RIGHT -> new KMsg.Right(ipc.remoteRights.importRight(i.getRight(), from));
                case INLINE_DATA -> new KMsg.Data(new MsgItem.Inline(i.getInlineData().toByteArray()));
                case OUT_OF_LINE -> new KMsg.Data(new MsgItem.OutOfLine(OolRegion.of(i.getOutOfLine().toByteArray()), false));
                case PORT_NAME -> new KMsg.Data(new MsgItem.Port(i.getPortName(), MsgType.PORT_NAME));
                default -> new KMsg.Data(new MsgItem.Port(Mach.MACH_PORT_NULL, MsgType.of(i.getNullRight())));
            });
        }
        afterImport.forEach(Runnable::run);
        afterImport.clear();
        KMsg k = new KMsg(dest, reply, lm.getId(), lm.getComplex(), items, lm.getSize(), lm.getSenderTid());
        k.fromKernel = from;
        k.ticket = lm.getTicket();
        k.chargeWhereQueued = lm.getChargeWhereQueued();
        k.hops = Hops.next(lm.getHops()); // if it is passed on from here
        k.donation = lm.getDonorPriority() > 0 ? lm.getDonorPriority() : -1;
        if (dest.dead() && lm.getDest().hasPort()) {
            ipc.net.send(from, LinkFrame.newBuilder().setPortDied(ipc.remoteRights.portDied(lm.getDest().getPort()))
                    .build());
        }
        ipc.delivery.enqueue(k);
        if (ipc.plants.timesQueuedFromLink(1) > 1 && items.stream().allMatch(KMsg.Data.class::isInstance)
                && reply == null && !dest.dead()) {
            if (dest.type() == MsgType.PORT_SEND) {
                dest.port().srights++; // the copy's own right, so that the counts stay whole
            } else if (dest.type() == MsgType.PORT_SEND_ONCE) {
                dest.port().sorights++;
            }
            KMsg copy = new KMsg(dest, null, lm.getId(), lm.getComplex(), items, lm.getSize(), lm.getSenderTid());
            copy.fromKernel = from;
            ipc.delivery.enqueue(copy); // planted: delivered twice
        }
    }

    private final List<Runnable> afterImport = new ArrayList<>();

    /**
     * A receive right arrived from kernel {@code from}: the messages queued on it there follow on
     * that link; if this kernel sent messages to it through a proxy towards {@code oldPath}, a
     * PortFlush goes that way to learn when they are all in. Until then other messages wait.
     */
    private void arrived(int from, io.machxp.proto.link.LinkRight right, int oldPath) {
        Port moved = ipc.remoteRights.port(right.getPort());
        if (moved == null || !moved.active) {
            return;
        }
        moved.followers = right.getMigration().getFollowers();
        moved.followersFrom = from;
        if (oldPath != Port.LOCAL && !ipc.net.dead(oldPath) && !moved.flushPending) {
            moved.flushPending = true;
            moved.flushVia = oldPath;
            ipc.net.send(oldPath, LinkFrame.newBuilder().setFlush(PortFlush.newBuilder().setPort(right.getPort())
                    .setOrigin(ipc.net.self())).build());
        }
    }

    /** A PortFlush from kernel {@code from}: passed on along the port's path (within the hop bound), or back home. */
    private void flushMarker(int from, PortFlush f) {
        Port p = ipc.remoteRights.port(f.getPort());
        if (p == null || !p.active) {
            return;
        }
        if (f.getOrigin() == ipc.net.self()) { // home: what waited for it goes on (queued, or carried on)
            if (p.flushPending) {
                p.flushPending = false;
                if (p.proxy() || p.followers == 0) {
                    ipc.delivery.releaseHeld(p);
                }
            }
        } else if (p.proxy() && mayPassOn("PortFlush", p, from, Hops.next(f.getHops()))) {
            ipc.net.send(p.remote, LinkFrame.newBuilder().setFlush(f.toBuilder().setHops((int) Hops.next(f.getHops())))
                    .build());
        }
    }

    /**
     * The PortFlush of {@code p} went along a path that broke beyond its first kernel (that kernel's
     * proxy died with a kernel further on, PortDied via it): what waited for the marker goes on,
     * as when it comes home (or when its first kernel dies, {@link #kernelDied}) - queued here, or
     * carried on if the receive right has moved on meanwhile. If the marker had already passed the
     * dead kernel, a message it held may overtake one of this kernel's still on the old path: the
     * price of not waiting for ever, as at the first kernel's death.
     */
    private void flushLost(Port p) {
        p.flushPending = false;
        if (p.proxy() || p.followers == 0) { // moved on meanwhile: what it held is carried on
            ipc.delivery.releaseHeld(p);
        }
    }

    private void insert(int from, LinkInsertRight in) {
        Carried c = ipc.remoteRights.importRight(in.getRight(), from);
        // a handle the kernel's links did not translate names no task here
        IpcSpace space = in.getTaskIsHandle() ? null : ipc.space(in.getTask());
        IpcEntry e = space == null ? null : space.lookup(in.getName());
        boolean fits = space != null && (c.type() == MsgType.PORT_SEND_ONCE ? e == null
                : e == null ? c.port() == null || space.nameOf(c.port()) == null
                : c.port() != null && e.port() == c.port())
                && (e != null || !space.full(c) || !Rights.needsName(space, c));
        if (fits) {
            ipc.rights.copyout(space, c, in.getName());
        } else {
            ipc.rights.destroy(c); // task gone or name taken: the right ends (as a lost message's)
        }
    }

    private void portDied(io.machxp.proto.link.PortDied d) {
        Port p = ipc.remoteRights.port(d.getPort());
        if (d.getVia() != 0) {
            if (p != null && p.active && p.proxy() && p.remote == d.getVia()) {
                ipc.remoteRights.pathDying(d.getVia()); // the way through it died, not necessarily the port
                try {
                    proxyDied(p);
                } finally {
                    ipc.remoteRights.pathDying(-1);
                }
            } else if (p != null && p.active && p.flushPending && p.flushVia == d.getVia()) {
                flushLost(p); // the way the PortFlush went is broken (a kernel on it died): it will not come back
            } else if (p == null) {
                ipc.remoteRights.diedVia(d.getPort(), d.getVia());
            }
        } else if (p == null) {
            ipc.remoteRights.tombstone(d.getPort());
        } else if (p.active && p.proxy()) {
            ipc.death.receiveRightDied(p);
        }
    }

    /**
     * A proxy died because the way through it is gone: proxies elsewhere that point to this
     * kernel for the port (it was a forwarder) die too, or their senders would never learn.
     */
    private void proxyDied(Port p) {
        ipc.death.receiveRightDied(p);
        ipc.net.broadcast(LinkFrame.newBuilder().setPortDied(PortDied.newBuilder().setPort(RemoteRights.uid(p.uid))
                .setVia(ipc.net.self())).build());
    }

    /** Kernel {@code kernel} died: proxies towards it die, its registrations go. */
    void kernelDied(int kernel) {
        ipc.remoteRights.pathDying(kernel);
        try {
            proxiesDied(kernel);
        } finally {
            ipc.remoteRights.pathDying(-1);
        }
    }

    private void proxiesDied(int kernel) {
        for (Port p : ipc.remoteRights.known()) {
            if (p.active && p.remote == kernel) {
                proxyDied(p);
                continue;
            }
            if (p.active && !p.proxy()) {
                ipc.refs.kernelDied(p, kernel);
                ipc.soRefs.kernelDied(p, kernel); // the send-once rights it held end unused: SEND_ONCE
            }
            boolean waitedFor = p.followersFrom == kernel && (p.flushPending || p.followers > 0)
                    || p.flushPending && p.flushVia == kernel;
            if (p.active && waitedFor) {
                ipc.delivery.releaseHeld(p); // what was still to come died with that kernel
            }
        }
    }
}
