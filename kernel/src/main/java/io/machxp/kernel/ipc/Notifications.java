package io.machxp.kernel.ipc;

import java.util.List;

/**
 * The kernel's notification messages ({@code mach/notify.h}), each sent through a send-once right
 * the task gave with mach_port_request_notification (or, for SEND_ONCE, the unused send-once
 * right itself, to its own port). Kernel messages ignore queue limits. Contents, as GNU Mach
 * lays them out: PORT_DELETED and DEAD_NAME carry the name (MACH_MSG_TYPE_PORT_NAME),
 * NO_SENDERS the make-send count (an integer), PORT_DESTROYED the receive right, SEND_ONCE
 * nothing.
 *
 * <h2>The budget of queued bytes</h2>
 * Every notification is sent through a send-once right, and a send-once right yields exactly one
 * message: a notification is never dropped (GNU Mach drops one it has no kernel memory for, with
 * a console line; here the client waiting for a reply would wait for ever). So the bound is where
 * send-once rights are made instead: a task makes one (MAKE_SEND_ONCE, in mach_msg, insert_right,
 * extract_right or request_notification) only while its share of the budget and the kernel's
 * budget have room for one notification ({@link #MAX_COST}; beyond it MACH_SEND_NO_BUFFER in
 * mach_msg, KERN_RESOURCE_SHORTAGE in the others, nothing made). What notifications take beyond
 * the budget is then at most one per send-once right that existed when it filled, and send-once
 * rights are names or travel in charged messages, which have bounds of their own.
 *
 * <p>A notification queued here is charged where it is queued, to the task holding its port's
 * receive right; on a port whose receive right is in transit, to the task that moved it (so that
 * task's room for send-once rights fills, not only the kernel's budget), or to the kernel's budget
 * alone if no task here held it; and moved, in one step per port ({@link Port#notificationBytes}),
 * to the share of the task that receives the right ({@link #receiveRightArrived}). A notification made where no task holds its port's receive right
 * because that is on another kernel (a proxy's port) is charged by the kernel that queues it
 * ({@link #chargeArrived}).
 */
final class Notifications {
    private final IpcCore ipc;

    Notifications(IpcCore ipc) {
        this.ipc = ipc;
    }

    void portDeleted(Carried notify, int name) {
        send(notify, Mach.MACH_NOTIFY_PORT_DELETED, new KMsg.Data(new MsgItem.Port(name, MsgType.PORT_NAME)));
    }

    void deadName(Carried notify, int name) {
        send(notify, Mach.MACH_NOTIFY_DEAD_NAME, new KMsg.Data(new MsgItem.Port(name, MsgType.PORT_NAME)));
    }

    void noSenders(Carried notify, int mscount) {
        send(notify, Mach.MACH_NOTIFY_NO_SENDERS, new KMsg.Data(MachMessage.int32(mscount)));
    }

    void portDestroyed(Carried notify, Carried receiveRight) {
        send(notify, Mach.MACH_NOTIFY_PORT_DESTROYED, new KMsg.Right(receiveRight));
    }

    void sendOnce(Carried right) {
        send(right, Mach.MACH_NOTIFY_SEND_ONCE, null);
    }

    private void send(Carried notify, int id, KMsg.Item item) {
        List<KMsg.Item> items = item == null ? List.of() : List.of(item);
        int size = MachMessage.HEADER_SIZE + (item == null ? 0 : item instanceof KMsg.Data d ? d.item().size() : 8);
        KMsg k = new KMsg(notify, null, id, item instanceof KMsg.Right, items, size, 0);
        Port port = notify.port();
        if (port != null && port.active && !port.proxy()) {
            charge(k, port.receiver); // queued, it counts in the port's sum (Port#notificationsChargedTo)
        } else if (port != null && port.active) {
            k.chargeWhereQueued = true; // the receive right is on another kernel: charged where it is queued
        }
        ipc.delivery.enqueue(k);
    }

    /**
     * A notification another kernel made ({@link KMsg#chargeWhereQueued}) is about to be queued on
     * {@code port}, whose receive right is here: charged as one made here (never dropped).
     */
    void chargeArrived(KMsg k, Port port) {
        k.chargeWhereQueued = false;
        charge(k, port.receiver);
    }

    /**
     * {@code port}'s receive right was copied out to {@code space}: the notifications queued or held
     * on it, charged to the task that held (and moved) it before or to the kernel alone, now count
     * in {@code space}'s share, in one step ({@link Port#notificationBytes}; the kernel's total does
     * not change).
     */
    void receiveRightArrived(Port port, IpcSpace space) {
        if (port.notificationsChargedTo != space) {
            ipc.delivery.charge(port.notificationsChargedTo, -port.notificationBytes);
            ipc.delivery.charge(space, port.notificationBytes);
            port.notificationsChargedTo = space;
        }
    }

    /**
     * Whether {@code space} may make a send-once right (MAKE_SEND_ONCE) now: its share and the
     * kernel's budget have room for the one notification it may end as.
     */
    boolean roomForSendOnce(IpcSpace space) {
        return !ipc.delivery.overBudget(space, MAX_COST);
    }

    /** Charges notification {@code k} (at queueing) to the kernel and to {@code owner}'s share if not null. */
    private static void charge(KMsg k, IpcSpace owner) {
        k.cost = k.size + (k.items.isEmpty() ? 0 : MsgSend.ITEM_OVERHEAD);
        k.chargedTo = owner;
        k.notification = true;
    }

    /** The most a notification costs: a header and one item (a name, an integer or a right). */
    static final long MAX_COST = MachMessage.HEADER_SIZE + 8 + MsgSend.ITEM_OVERHEAD;
}
