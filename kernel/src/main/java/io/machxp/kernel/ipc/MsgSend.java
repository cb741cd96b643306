package io.machxp.kernel.ipc;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The send half of mach_msg: the message's rights and data are copied in from the sender's space
 * (GNU Mach's ipc_kmsg_copyin, {@link MsgCopyin}) and the message is admitted to its destination's queue. Part of
 * the IPC core; core thread only.
 * <pre>
 *  header: remote disposition not 17-21, or local neither 17-21 nor (0 with MACH_PORT_NULL)
 *                                   -> MACH_SEND_INVALID_HEADER, nothing happened
 *          destination not a right of that disposition, or dead
 *                                   -> MACH_SEND_INVALID_DEST, nothing happened
 *          reply not a right of its disposition -> MACH_SEND_INVALID_REPLY, nothing happened
 *          destination and reply the same name: {@link SameNameHeader} (atomic, GNU's rules)
 *  body:   a right item the sender does not hold -> MACH_SEND_INVALID_RIGHT, a right item without
 *          COMPLEX or with no right disposition -> MACH_SEND_INVALID_TYPE, deallocated memory ->
 *          MACH_SEND_INVALID_MEMORY: the message is destroyed, header rights too
 *  budget: the kernel's queued messages would pass {@link IpcCore#queuedBytesLimit}, or the
 *          sender's would pass its share (a quarter of it); a blocked sender's message counts
 *          from copyin as a queued one until it is queued, given back or destroyed
 *                                   -> MACH_SEND_NO_BUFFER, nothing happened (checked first)
 *  queue:  full (qlimit), unless addressed by a send-once right
 *            MACH_SEND_TIMEOUT 0    -> MACH_SEND_TIMED_OUT at once
 *            MACH_SEND_TIMEOUT t    -> blocks, MACH_SEND_TIMED_OUT after t ms
 *            otherwise              -> blocks until there is room (or the port dies: success)
 *          a timed-out message is pseudo-received: its rights go back to the sender (names may
 *          change), the header is not reversed
 *  depth:  it moves receive rights, and the chain of receive rights in transit it would make (the
 *          longest ending at one of them, then its destination's) would hold more than
 *          {@link TransitChains#MAX_DEPTH} ports
 *                                   -> MACH_SEND_NO_BUFFER, nothing happened (before copyin)
 *  names:  its destination's receive right is in a task without an owner here, and a right it
 *          carries would need a new name there that counts to a payer (the sending client,
 *          {@link Carried#payer}) whose share of the kernel's names is used up ({@link UnpaidNames})
 *                                   -> MACH_SEND_NO_BUFFER, nothing happened (before copyin),
 *          unless copyin would fail: then its error (a dry run of the copyin, {@link DryCopyin})
 *  cycle:  a receive right it carries is its destination's, or one its destination is in transit
 *          towards (through queued messages or blocked senders' alike: set at copyin)
 *                                   -> destroyed, MACH_MSG_SUCCESS (GNU's circular message); one
 *          walk of the destination's chain for all the receive rights it carries
 * </pre>
 */
final class MsgSend {
    private final IpcCore ipc;

    MsgSend(IpcCore ipc) {
        this.ipc = ipc;
    }

    void send(IpcSpace space, int tid, MachMessage msg, long timeoutNanos, int donation, Consumer<KernReturn> done) {
        long cost = cost(msg);
        if (ipc.delivery.overBudget(space, cost)) {
            done.accept(KernReturn.MACH_SEND_NO_BUFFER); // before anything is copied in: nothing happened
            return;
        }
        MsgType destType = msg.remoteType();
        int localBits = (msg.bits() & Mach.MACH_MSGH_BITS_LOCAL_MASK) >>> 8;
        MsgType replyType = msg.localType();
        if (destType == null || !destType.anySend()
                || (localBits == 0 ? msg.localPort() != Mach.MACH_PORT_NULL : replyType == null || !replyType.anySend())) {
            done.accept(KernReturn.MACH_SEND_INVALID_HEADER);
            return;
        }
        int dest = msg.remotePort();
        int reply = msg.localPort();
        boolean hasReply = reply != Mach.MACH_PORT_NULL && reply != Mach.MACH_PORT_DEAD;
        boolean sameName = SameNameHeader.applies(msg);
        if (sameName) {
            KernReturn header = SameNameHeader.check(ipc.rights, space, msg);
            if (!header.ok()) {
                done.accept(header);
                return;
            }
        } else if (dest == Mach.MACH_PORT_NULL || dest == Mach.MACH_PORT_DEAD
                || !ipc.rights.check(space, dest, destType, false).ok()) {
            done.accept(KernReturn.MACH_SEND_INVALID_DEST);
            return;
        } else if (hasReply && !ipc.rights.check(space, reply, replyType, true).ok()) {
            done.accept(KernReturn.MACH_SEND_INVALID_REPLY);
            return;
        }
        if (ipc.transit.tooDeep(space.lookup(dest).port(), movedReceiveRights(space, msg))
                || UnpaidNames.refused(ipc.names(), space, space.lookup(dest).port(), msg)) {
            done.accept(KernReturn.MACH_SEND_NO_BUFFER); // before anything is copied in: nothing happened
            return;
        }
        MsgCopyin.Live copyin = new MsgCopyin.Live(ipc.rights, space);
        Carried[] header = MsgCopyin.header(copyin, msg);
        Carried destRight = header[0];
        Carried replyRight = header[1];
        List<KMsg.Item> items = new ArrayList<>(msg.body().size());
        KernReturn bad = MsgCopyin.body(copyin, msg, items);
        KMsg k = new KMsg(destRight, replyRight, msg.id(), msg.complex(), items, msg.size(), tid);
        k.donation = donation > 0 ? donation : -1;
        k.cost = cost;
        k.chargedTo = space;
        if (bad != null) {
            ipc.delivery.destroy(k);
            done.accept(bad);
            return;
        }
        Port destPort = destRight.port();
        if (destPort != null && ipc.transit.closesCycle(k, destPort)) {
            ipc.delivery.destroy(k); // GNU's MACH_MSGH_BITS_CIRCULAR: destroyed, the send succeeds
            done.accept(KernReturn.MACH_MSG_SUCCESS);
            return;
        }
        if (destPort != null) {
            ipc.transit.link(k, destPort); // at copyin, as GNU's ip_destination: a blocked sender's too
        }
        admit(space, tid, k, timeoutNanos, done);
    }

    /** The ports whose receive rights the body moves (MOVE_RECEIVE of a name of the sender's; nulls for others). */
    private static List<Port> movedReceiveRights(IpcSpace space, MachMessage msg) {
        List<Port> out = new ArrayList<>();
        for (MsgItem i : msg.body()) {
            if (i instanceof MsgItem.Port p && p.type() == MsgType.MOVE_RECEIVE
                    && p.name() != Mach.MACH_PORT_NULL && p.name() != Mach.MACH_PORT_DEAD) {
                IpcEntry e = space.lookup(p.name());
                out.add(e != null && e.has(PortRight.RECEIVE) ? e.port() : null);
            }
        }
        return out;
    }

    /**
     * What a message costs the kernel while queued: its size, the bytes of its out-of-line memory
     * (which msgh_size does not count), and a fixed overhead per item for the kernel's objects.
     */
    static long cost(MachMessage msg) {
        long cost = msg.size();
        for (MsgItem i : msg.body()) {
            cost += ITEM_OVERHEAD;
            if (i instanceof MsgItem.OutOfLine o) {
                try {
                    cost += o.region().size();
                } catch (IllegalStateException deallocated) {
                    // copyin answers MACH_SEND_INVALID_MEMORY
                }
            }
        }
        return cost;
    }

    /** Bytes charged per item beyond its size in the message (the kernel's objects for it). */
    static final int ITEM_OVERHEAD = 32;

    /** The queue limit: send-once destinations and room go in at once; else wait or time out. */
    private void admit(IpcSpace space, int tid, KMsg k, long timeoutNanos, Consumer<KernReturn> done) {
        Port port = k.dest.port();
        if (k.dest.type() == MsgType.PORT_SEND_ONCE || port.proxy() || !port.queue.mustWait(port.qlimit)) {
            ipc.delivery.enqueue(k);
            done.accept(KernReturn.MACH_MSG_SUCCESS);
            return;
        }
        if (timeoutNanos == 0) {
            done.accept(pseudoReceive(space, k, KernReturn.MACH_SEND_TIMED_OUT));
            return;
        }
        SendWait w = new SendWait(space, tid, k, done);
        ipc.delivery.block(port, w);
        ipc.startWait(tid, w);
        if (timeoutNanos > 0) {
            w.cancelTimer = ipc.env.schedule(timeoutNanos, () -> {
                if (ipc.delivery.unblock(port, w)) {
                    ipc.endWait(tid, null);
                    done.accept(pseudoReceive(space, k, KernReturn.MACH_SEND_TIMED_OUT));
                }
            });
        }
    }

    /**
     * A message that was not sent goes back to its sender: its rights get names in its space
     * again. Returns {@code code}, or its MACH_MSG_IPC_SPACE variant if the space was full and
     * rights that needed new names were destroyed (GNU's ipc_kmsg_copyout_pseudo).
     */
    KernReturn pseudoReceive(IpcSpace space, KMsg k, KernReturn code) {
        if (!space.active) {
            ipc.delivery.destroy(k);
            return code;
        }
        boolean lost = false;
        for (Carried c : k.rights()) {
            if (space.full(c) && Rights.needsName(space, c)) {
                ipc.rights.destroy(c);
                lost = true;
            } else {
                ipc.rights.copyout(space, c);
            }
        }
        for (KMsg.Item i : k.items) {
            if (i instanceof KMsg.Data d && d.item() instanceof MsgItem.OutOfLine o) {
                o.region().release();
            }
        }
        if (!lost) {
            return code;
        }
        return code == KernReturn.MACH_SEND_TIMED_OUT ? KernReturn.MACH_SEND_TIMED_OUT_IPC_SPACE
                : KernReturn.MACH_SEND_INTERRUPTED_IPC_SPACE;
    }
}
