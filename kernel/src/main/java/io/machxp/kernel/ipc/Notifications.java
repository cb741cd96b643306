package io.machxp.kernel.ipc;

import java.util.List;

/**
 * The kernel's notification messages ({@code mach/notify.h}), each sent through a send-once right
 * the task gave with mach_port_request_notification (or, for SEND_ONCE, the unused send-once
 * right itself, to its own port). Kernel messages ignore queue limits. Contents, as GNU Mach
 * lays them out: PORT_DELETED and DEAD_NAME carry the name (MACH_MSG_TYPE_PORT_NAME),
 * NO_SENDERS the make-send count (an integer), PORT_DESTROYED the receive right, SEND_ONCE
 * nothing.
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
        ipc.delivery.enqueue(new KMsg(notify, null, id, item instanceof KMsg.Right, items, size, 0));
    }
}
