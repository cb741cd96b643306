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
 * <p>A notification queued here is charged to the task holding its port's receive right, against
 * the budget of queued bytes ({@link Delivery#overBudget}): a task can make them without end
 * (a no-senders request on a port without senders fires at once; a send-once right made and
 * deallocated sends SEND_ONCE), so beyond the budget one is dropped, its send-once right ended
 * quietly, as GNU Mach drops a notification it has no kernel memory for ({@code ipc/ipc_notify.c});
 * a dropped PORT_DESTROYED destroys the receive right it carried. A notification made where no
 * task holds its port's receive right (a proxy's, or one in transit) is charged where it is
 * queued for a receiver, on whatever kernel that is ({@link #chargeArrived}) - if a task holds the
 * receive right there; a notification queued on a port in transit is charged to no task, here or
 * on another kernel, until it is received (as in GNU Mach, such a port has no space to charge).
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
        IpcSpace owner = port != null && port.active && !port.proxy() ? port.receiver : null;
        if (owner != null) {
            if (!charge(k, owner)) {
                ipc.rights.consume(notify); // dropped: the send-once right ends without a word
                if (item instanceof KMsg.Right r) {
                    ipc.rights.destroy(r.right());
                }
                return;
            }
        } else {
            k.chargeWhereQueued = true; // the receive right is elsewhere (or in transit): charged where it is queued
        }
        ipc.delivery.enqueue(k);
    }

    /**
     * A notification another kernel made ({@link KMsg#chargeWhereQueued}) is about to be queued on
     * {@code port}, whose receive right is here: charged to the task that holds it, as one made
     * here; false if that would pass the budget (then it is dropped, as one made here would be).
     */
    boolean chargeArrived(KMsg k, Port port) {
        IpcSpace owner = port.receiver;
        return owner == null || charge(k, owner); // in transit: charged nowhere, as one made here
    }

    /** Charges notification {@code k} to {@code owner}'s share; false (nothing charged) if it would pass the budget. */
    private boolean charge(KMsg k, IpcSpace owner) {
        long cost = k.size + (k.items.isEmpty() ? 0 : MsgSend.ITEM_OVERHEAD);
        if (ipc.delivery.overBudget(owner, cost)) {
            return false;
        }
        k.cost = cost;
        k.chargedTo = owner;
        return true;
    }
}
