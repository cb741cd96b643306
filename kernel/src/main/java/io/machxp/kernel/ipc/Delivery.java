package io.machxp.kernel.ipc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Messages on ports: queueing, handing to receivers, the receive half of mach_msg, and
 * destroying messages nobody will receive. Part of the IPC core; core thread only.
 *
 * <h2>Overview</h2>
 * A message admitted to its destination ({@link MsgSend} checks the queue limit) goes to the
 * first thread waiting on the port - or on the port's set - or else to the end of the port's
 * queue. A receive takes the first message of the port, or for a set the oldest first message
 * of its members; a thread finding none waits (FIFO) until one comes, its timeout expires
 * (MACH_RCV_TIMED_OUT), the task loses the receive right - the port dies, or the right is moved
 * away - (MACH_RCV_PORT_DIED) or the port joins a set (MACH_RCV_PORT_CHANGED). A streamed receive
 * between two messages ({@link #hold}) takes no message but ends on those events alike. Each dequeue admits the first blocked sender if there is room:
 * messages from one thread arrive in the order sent, none overtakes a blocked sender.
 * <pre>
 *  receive:  message size <= rcv_size  -> copied out: seqno, header reversed, rights named
 *            larger, MACH_RCV_LARGE    -> MACH_RCV_TOO_LARGE with the size; stays queued
 *            larger, otherwise         -> MACH_RCV_TOO_LARGE, header only; message destroyed
 *            (larger also: its reply larger than the caller's transport takes, ReceiveGate)
 *            caller gone (ReceiveGate) -> MACH_RCV_INTERRUPTED; stays queued
 *            name space full, the reply right needs a name
 *                                      -> MACH_RCV_HEADER_ERROR|IPC_SPACE, header only; destroyed
 *            name space full, body rights need names
 *                                      -> MACH_RCV_BODY_ERROR|IPC_SPACE, received; those rights
 *                                         destroyed, arriving as MACH_PORT_NULL
 *            (full: 65,536 names, or no room in the kernel's budget of names for the share a new
 *            name counts in: the task's owner's, or in an in-process task the right's payer's,
 *            {@link Carried#payer}, {@link NameBudget})
 * </pre>
 * Queued messages a task sent, and blocked senders' messages ({@link #block}), count against the
 * kernel's budget ({@link #queuedBytes}), the sending task's share of it ({@link IpcSpace#queuedBytes})
 * and, for a task created for a client, its client peer's share ({@link QueuedShares}), checked by
 * {@link MsgSend}: MACH_SEND_NO_BUFFER beyond any, as GNU Mach's kernel memory bounds its kmsgs. A message
 * carried to another kernel counts until that kernel is done with it ({@link InFlight}); one that
 * came from another kernel counts there, not here, and is given back ({@link InFlight#consumed})
 * when a task here receives it or it is destroyed - but a notification no kernel charged yet counts
 * here, for the task holding its port's receive right ({@link Notifications#chargeArrived}).
 */
final class Delivery {
    private final IpcCore ipc;
    private long arrivals;
    /**
     * Bytes of the messages tasks here sent (their {@link KMsg#cost}) that are queued on this
     * kernel's ports now, or were carried to other kernels that have not finished with them yet
     * ({@link InFlight}).
     */
    long queuedBytes;
    /** Of {@link #queuedBytes}, what counts to each client peer ({@link QueuedShares}). */
    final QueuedShares peers = new QueuedShares();

    Delivery(IpcCore ipc) {
        this.ipc = ipc;
    }

    // ---- arrival ------------------------------------------------------------------------------

    /** A message admitted to its destination (queue limit already applied). */
    void enqueue(KMsg m) {
        Port port = m.dest.port();
        if (m.dest.dead() || ipc.transit.closesCycle(m, port) || !port.proxy() && ipc.transit.tooDeep(m, port)) {
            destroy(m);
            return;
        }
        if (m.chargeWhereQueued && !port.proxy()) {
            ipc.notifications.chargeArrived(m, port); // a notification no kernel charged yet: charged here, held or queued
        }
        if (port.flushPending || !port.proxy() && port.followers > 0) {
            // the receive right came from another kernel: its queue, and what this kernel sent on the old path, follow
            if (m.fromKernel != port.followersFrom) {
                port.held.add(m);
                charge(m, m.cost); // waiting here all the same: it counts as a queued message
                return;
            }
            port.followers = port.proxy() ? 0 : Math.max(0, port.followers - 1);
        }
        if (port.proxy()) {
            ipc.remote.ship(m);
            return;
        }
        m.arrival = arrivals++;
        m.hops = 0; // arrived: if its queue follows the receive right elsewhere, that is a task's act, not a forward
        ipc.transit.link(m, port);
        KMsg head = port.queue.peek();
        port.queue.add(m, ipc.plants.queuedAtTheEnd(true));
        if (port.set != null) {
            port.set.headChanged(port, head);
        }
        charge(m, m.cost);
        if (port.followers == 0 && !port.flushPending && !port.held.isEmpty()) {
            releaseHeld(port);
        }
        serve(port);
    }

    /**
     * The followers of a moved receive right are in (or will not come): what waited goes in, in
     * order (queued here, or carried on if the receive right has moved on meanwhile).
     */
    void releaseHeld(Port port) {
        port.followers = 0;
        port.flushPending = false;
        for (KMsg h = unhold(port); h != null; h = unhold(port)) {
            enqueue(h);
        }
    }

    /** Takes the first held message of {@code port} (null if none); its bytes leave the kernel's budget. */
    KMsg unhold(Port port) {
        KMsg m = port.held.poll();
        if (m != null) {
            charge(m, -m.cost);
        }
        return m;
    }

    /** Hands queued messages of {@code port} to the threads waiting on it or its set. */
    void serve(Port port) {
        Deque<ReceiveWait> waiting = port.set != null ? port.set.receivers : port.receivers;
        while (!waiting.isEmpty()) {
            Port from = port.set != null ? port.set.oldestMember(ipc.work) : port.queue.peek() != null ? port : null;
            if (from == null) {
                return;
            }
            ReceiveWait w = waiting.poll();
            ipc.endWait(w.tid, w.cancelTimer);
            w.done.accept(take(w.space, w.tid, from, w.rcvSize, w.large, w.gate));
        }
    }

    // ---- receive ------------------------------------------------------------------------------

    /** The receive half of mach_msg on {@code rcvName}; {@code timeoutNanos} < 0: no limit. */
    void receive(IpcSpace space, int tid, int rcvName, int rcvSize, boolean large, long timeoutNanos,
            ReceiveGate gate, java.util.function.Consumer<MsgReturn> done) {
        Object on = receivedOn(space, rcvName, done);
        if (on == null) {
            return;
        }
        Port from = on instanceof Port port ? (port.queue.peek() != null ? port : null) : ((PortSet) on).oldestMember(ipc.work);
        if (from != null) {
            done.accept(take(space, tid, from, rcvSize, large, gate));
            return;
        }
        if (timeoutNanos == 0) {
            done.accept(MsgReturn.of(KernReturn.MACH_RCV_TIMED_OUT));
            return;
        }
        ReceiveWait w = new ReceiveWait(space, tid, rcvSize, large, on, done);
        w.gate = gate;
        Deque<ReceiveWait> queue = queueOf(w);
        queue.add(w);
        ipc.startWait(tid, w);
        if (timeoutNanos > 0) {
            w.cancelTimer = ipc.env.schedule(timeoutNanos, () -> {
                if (queue.remove(w)) {
                    ipc.endWait(tid, null);
                    done.accept(MsgReturn.of(KernReturn.MACH_RCV_TIMED_OUT));
                }
            });
        }
    }

    /**
     * A streamed receive on {@code rcvName} between two messages: the thread takes no message but
     * stays a receiver of the name, so that what ends a waiting receive ends it with the same code
     * (the right leaving, the port joining a set, the set's death). A name that is no receive
     * right or set now answers as a receive would, at once.
     */
    void hold(IpcSpace space, int tid, int rcvName, java.util.function.Consumer<MsgReturn> done) {
        Object on = receivedOn(space, rcvName, done);
        if (on == null) {
            return;
        }
        ReceiveWait w = new ReceiveWait(space, tid, 0, false, on, done, true);
        queueOf(w).add(w);
        ipc.startWait(tid, w);
    }

    /**
     * The Port or PortSet a receive on {@code rcvName} waits on; null, with {@code done} answered,
     * for a port in a set (MACH_RCV_IN_SET) or a name that is neither (MACH_RCV_INVALID_NAME).
     */
    private static Object receivedOn(IpcSpace space, int rcvName, java.util.function.Consumer<MsgReturn> done) {
        IpcEntry e = space.lookup(rcvName);
        if (e != null && e.has(PortRight.RECEIVE)) {
            if (e.port().set != null) {
                done.accept(MsgReturn.of(KernReturn.MACH_RCV_IN_SET));
                return null;
            }
            return e.port();
        }
        if (e != null && e.has(PortRight.PORT_SET)) {
            return e.set();
        }
        done.accept(MsgReturn.of(KernReturn.MACH_RCV_INVALID_NAME));
        return null;
    }

    /** The queue {@code w} waits in. */
    static Deque<ReceiveWait> queueOf(ReceiveWait w) {
        if (w.on instanceof Port p) {
            return w.held ? p.heldReceives : p.receivers;
        }
        PortSet set = (PortSet) w.on;
        return w.held ? set.heldReceives : set.receivers;
    }

    /** Takes the first message of {@code port} for a receiver in {@code space}. */
    private MsgReturn take(IpcSpace space, int tid, Port port, int rcvSize, boolean large, ReceiveGate gate) {
        KMsg m = port.queue.peek();
        if (gate.callerGone()) {
            return MsgReturn.of(KernReturn.MACH_RCV_INTERRUPTED); // nobody to hand it to: it stays queued
        }
        boolean overTransport = ReceiveGate.replyBytesBound(m) > gate.maxReplyBytes();
        if ((m.size > rcvSize || overTransport) && large) {
            return new MsgReturn(KernReturn.MACH_RCV_TOO_LARGE, null, m.size);
        }
        dequeue(port);
        ipc.inFlight.consumed(m); // received (or destroyed, below): its sending kernel's budget gets it back
        int seqno = port.seqno++;
        ipc.rights.consume(m.dest);
        int local = space.nameOf(port).name;
        int localBits = m.dest.type().value << 8;
        MsgReturn result;
        boolean tooLarge = m.size > rcvSize || overTransport;
        if (tooLarge || space.full(m.reply) && Rights.needsName(space, m.reply)) {
            // GNU's ipc_kmsg_copyout_dest: the bits keep the reply's type and COMPLEX; the reply
            // right is destroyed (NULL), a reply sent as MACH_PORT_DEAD stays DEAD; the body goes
            ipc.rights.destroy(m.reply);
            destroyItems(m);
            int bits = localBits | (m.reply == null ? 0 : m.reply.type().value)
                    | (m.complex ? Mach.MACH_MSGH_BITS_COMPLEX : 0);
            int reply = m.reply != null && m.reply.port() == null ? Mach.MACH_PORT_DEAD : Mach.MACH_PORT_NULL;
            result = new MsgReturn(tooLarge ? KernReturn.MACH_RCV_TOO_LARGE : KernReturn.MACH_RCV_HEADER_ERROR_IPC_SPACE,
                    new MachMessage(bits, reply, local, seqno, m.id, List.of()), m.size);
        } else {
            int reply = ipc.rights.copyout(space, m.reply);
            if (m.donation > 0 && m.reply != null && m.reply.type() == MsgType.PORT_SEND_ONCE && !m.reply.dead()) {
                donate(space.lookup(reply), tid, m.donation);
            }
            int bits = localBits | (m.reply == null ? 0 : m.reply.type().value)
                    | (m.complex ? Mach.MACH_MSGH_BITS_COMPLEX : 0);
            List<MsgItem> body = new ArrayList<>(m.items.size());
            boolean lost = false;
            for (KMsg.Item i : m.items) {
                if (i instanceof KMsg.Right r && space.full(r.right()) && Rights.needsName(space, r.right())) {
                    ipc.rights.destroy(r.right()); // no room for its name: as GNU Mach, the right ends
                    body.add(new MsgItem.Port(Mach.MACH_PORT_NULL, r.right().type()));
                    lost = true;
                } else {
                    body.add(i instanceof KMsg.Right q
                            ? new MsgItem.Port(ipc.rights.copyout(space, q.right()), q.right().type())
                            : ((KMsg.Data) i).item());
                }
            }
            result = new MsgReturn(lost ? KernReturn.MACH_RCV_BODY_ERROR_IPC_SPACE : KernReturn.MACH_MSG_SUCCESS,
                    new MachMessage(bits, reply, local, seqno, m.id, body), m.size);
        }
        admitSenders(port);
        return result;
    }

    /** Takes the first message off the port's queue (null if none); its bytes leave the kernel's budget. */
    KMsg dequeue(Port port) {
        KMsg m = port.queue.poll();
        if (m != null) {
            charge(m, -m.cost);
            if (port.set != null) {
                port.set.headChanged(port, m);
            }
        }
        return m;
    }

    /**
     * Whether queueing {@code cost} more bytes charged to {@code space} would pass the kernel's
     * budget, the task's share (a TASK_SHARES-th), or its client peer's share ({@link QueuedShares}).
     */
    boolean overBudget(IpcSpace space, long cost) {
        long max = ipc.queuedBytesLimit;
        return queuedBytes + cost > max || space.queuedBytes + cost > max / IpcCore.TASK_SHARES
                || peers.refused(space.peer, cost, max, queuedBytes);
    }

    /**
     * Why a send of {@code cost} bytes from {@code space} is refused by {@link #overBudget}: a
     * sentence naming the bound it would pass (the peer's share first), or null if none.
     */
    String overBudgetDetail(IpcSpace space, long cost) {
        long max = ipc.queuedBytesLimit;
        if (peers.refused(space.peer, cost, max, queuedBytes)) {
            return String.format(java.util.Locale.ROOT, "a message of %d bytes would pass the share of queued messages of "
                    + "client peer %s (all its connections' tasks together): it has %d bytes queued or in flight; a "
                    + "peer may have at most an eighth of the %d bytes clients may have together (%d), and no more "
                    + "than are still free to them (%d); receive or destroy what its tasks sent (a task's messages "
                    + "stay queued until received, also after its client disconnected, unless the task ends); other "
                    + "peers and in-process tasks still send", cost, space.peer, peers.usedBy(space.peer),
                    QueuedShares.pool(max), QueuedShares.peerMax(max), peers.remoteFree(max, queuedBytes));
        }
        if (space.queuedBytes + cost > max / IpcCore.TASK_SHARES) {
            return String.format(java.util.Locale.ROOT, "a message of %d bytes would pass the task's share of queued "
                    + "messages: it has %d bytes queued or in flight, at most %d (a quarter of the kernel's %d); "
                    + "receive or destroy what it sent", cost, space.queuedBytes, max / IpcCore.TASK_SHARES, max);
        }
        if (queuedBytes + cost > max) {
            return String.format(java.util.Locale.ROOT, "a message of %d bytes would pass the kernel's budget of queued "
                    + "messages: %d of %d bytes in use", cost, queuedBytes, max);
        }
        return null;
    }

    /**
     * Charges (or gives back) message {@code m}'s bytes as it is queued or held (or leaves). A
     * notification counts in its port's sum ({@link Port#notificationBytes}), charged to
     * {@link Port#notificationsChargedTo}, so that a receive right's copyout moves them in one step;
     * one leaving keeps that share in {@link KMsg#chargedTo} (carried on, {@link InFlight}).
     */
    private void charge(KMsg m, long bytes) {
        if (!m.notification) {
            charge(m.chargedTo, bytes);
            return;
        }
        Port port = m.dest.port();
        if (port.notificationBytes == 0 && port.receiver != null) {
            port.notificationsChargedTo = port.receiver;
        }
        port.notificationBytes += bytes;
        m.chargedTo = port.notificationsChargedTo;
        charge(port.notificationsChargedTo, bytes);
    }

    /**
     * Adds {@code bytes} (or takes them off, if negative) to the kernel's budget in use and
     * {@code space}'s share (if any), and to its client peer's ({@link QueuedShares}): every charge
     * and every give-back of queued bytes passes here.
     */
    void charge(IpcSpace space, long bytes) {
        queuedBytes += bytes;
        if (space != null) {
            space.queuedBytes += bytes;
            peers.charge(space.peer, bytes);
        }
    }

    /** The receiver of a request runs at least at the client's priority until the reply right goes. */
    private void donate(IpcEntry replyRight, int tid, int priority) {
        Object key = replyRight;
        ipc.sched.donate(tid, key, priority);
        replyRight.donation = () -> ipc.sched.endDonation(tid, key);
    }

    /**
     * A sender waits for room in {@code port}'s queue: its message, copied in, counts in the budget
     * of queued bytes while it waits, as a queued one (so the send's budget check covers it, and
     * letting it in passes no bound).
     */
    void block(Port port, SendWait w) {
        port.queue.blockedSenders.add(w);
        charge(w.msg, w.msg.cost);
    }

    /** Takes {@code w} out of {@code port}'s blocked senders (false if it is not there); its bytes leave the budget. */
    boolean unblock(Port port, SendWait w) {
        if (!port.queue.blockedSenders.remove(w)) {
            return false;
        }
        charge(w.msg, -w.msg.cost);
        return true;
    }

    /** Takes the first blocked sender of {@code port} (null if none); its bytes leave the budget. */
    SendWait pollBlocked(Port port) {
        SendWait w = port.queue.blockedSenders.poll();
        if (w != null) {
            charge(w.msg, -w.msg.cost);
        }
        return w;
    }

    /** Lets blocked senders in while there is room, first come first. */
    void admitSenders(Port port) {
        Deque<SendWait> blocked = port.queue.blockedSenders;
        while (!blocked.isEmpty() && (port.proxy() || port.queue.size() < port.qlimit)) {
            SendWait w = pollBlocked(port);
            ipc.endWait(w.tid, w.cancelTimer);
            enqueue(w.msg);
            w.done.accept(KernReturn.MACH_MSG_SUCCESS);
        }
    }

    // ---- a receive right leaving, a set going -------------------------------------------------

    /**
     * The receive right leaves its name space (moved, sent to its backup, or dying): it leaves
     * its set, its make-send count and sequence number start again, and threads waiting on it
     * get {@code why}.
     */
    void receiveRightLeaves(Port port, KernReturn why) {
        if (port.receiver != null) {
            port.notificationsChargedTo = port.receiver; // in transit: its notifications count in the mover's share
        }
        port.receiver = null;
        port.mscount = 0;
        port.seqno = 0;
        if (port.set != null) {
            port.set.remove(port);
            port.set = null;
        }
        wake(port.receivers, why);
        wake(port.heldReceives, why);
    }

    /** A port joins a set: threads waiting on it directly get MACH_RCV_PORT_CHANGED; its messages now serve the set. */
    void joinSet(Port port, PortSet set) {
        if (port.set != null) {
            port.set.remove(port);
        }
        port.set = set;
        set.add(port);
        wake(port.receivers, KernReturn.MACH_RCV_PORT_CHANGED);
        wake(port.heldReceives, KernReturn.MACH_RCV_PORT_CHANGED);
        serve(port);
    }

    void leaveSet(Port port) {
        port.set.remove(port);
        port.set = null;
    }

    /** A port set is destroyed: its members leave it and its waiting threads get MACH_RCV_PORT_DIED. */
    void setDestroyed(PortSet set) {
        set.active = false;
        for (Port p : set.members()) {
            p.set = null;
        }
        set.clear();
        wake(set.receivers, KernReturn.MACH_RCV_PORT_DIED);
        wake(set.heldReceives, KernReturn.MACH_RCV_PORT_DIED);
    }

    private void wake(Deque<ReceiveWait> waiting, KernReturn why) {
        for (ReceiveWait w : new ArrayDeque<>(waiting)) {
            if (!waiting.remove(w)) {
                continue; // taken out by an earlier answer's consequences
            }
            ipc.endWait(w.tid, w.cancelTimer);
            w.done.accept(MsgReturn.of(why));
        }
    }

    // ---- destruction --------------------------------------------------------------------------

    /** A message nobody will receive: every right it carries ends, its memory is released. */
    void destroy(KMsg m) {
        ipc.inFlight.consumed(m);
        ipc.rights.destroy(m.dest);
        ipc.rights.destroy(m.reply);
        destroyItems(m);
    }

    /**
     * A message that cannot reach its receive right (passed on as often as the hop bound allows,
     * {@link Hops}): destroyed as one to a dead port - its destination right ends without a word
     * (a SEND_ONCE notification would go round the same proxies), its reply right and body rights
     * end as in {@link #destroy} (an unused send-once reply right sends SEND_ONCE to its port).
     */
    void destroyUnreachable(KMsg m) {
        ipc.inFlight.consumed(m);
        ipc.rights.consume(m.dest);
        ipc.rights.destroy(m.reply);
        destroyItems(m);
    }

    private void destroyItems(KMsg m) {
        for (KMsg.Item i : m.items) {
            if (i instanceof KMsg.Right r) {
                ipc.rights.destroy(r.right());
            } else if (((KMsg.Data) i).item() instanceof MsgItem.OutOfLine o) {
                o.region().release();
            }
        }
    }
}
