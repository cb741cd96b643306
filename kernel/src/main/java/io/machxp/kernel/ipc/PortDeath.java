package io.machxp.kernel.ipc;

import java.util.ArrayList;
import java.util.Map;

/**
 * What happens when a receive right dies (mach_port_destroy, mod_refs -1, its task's death, or a
 * message carrying it destroyed). Part of the IPC core; core thread only.
 * <pre>
 *  port-destroyed requested  -> the port lives on: its receive right goes to the backup port in a
 *                               PORT_DESTROYED notification (one-shot), with its queue
 *  otherwise                 -> the port dies:
 *     send / send-once rights      dead names (lazily, at their next lookup; dead-name requests
 *                                  at once, + 1 user reference and a DEAD_NAME notification)
 *     rights in transit            arrive as MACH_PORT_DEAD
 *     queued messages              destroyed (their send-once rights send SEND_ONCE)
 *     no-senders request           its send-once right destroyed (SEND_ONCE to its port)
 *     blocked receivers / senders  MACH_RCV_PORT_DIED / message destroyed, send returns success
 * </pre>
 */
final class PortDeath {
    private final IpcCore ipc;

    PortDeath(IpcCore ipc) {
        this.ipc = ipc;
    }

    void receiveRightDied(Port port) {
        ipc.delivery.receiveRightLeaves(port, KernReturn.MACH_RCV_PORT_DIED);
        if (port.pdRequest != null) {
            Carried backup = port.pdRequest;
            port.pdRequest = null;
            // its name at the backup's receiver counts to whoever made the request (review late4 B2)
            ipc.notifications.portDestroyed(backup, new Carried(port, MsgType.PORT_RECEIVE, backup.payer()));
            return;
        }
        port.active = false;
        ipc.remote.receiveRightDied(port);
        ipc.remoteRights.died(port);
        for (SendWait w : new ArrayList<>(port.queue.blockedSenders)) {
            ipc.delivery.unblock(port, w);
            ipc.endWait(w.tid, w.cancelTimer);
            ipc.delivery.destroy(w.msg);
            w.done.accept(KernReturn.MACH_MSG_SUCCESS);
        }
        for (KMsg m = ipc.delivery.dequeue(port); m != null; m = ipc.delivery.dequeue(port)) {
            ipc.delivery.destroy(m);
        }
        port.followers = 0;
        port.flushPending = false;
        for (KMsg m = ipc.delivery.unhold(port); m != null; m = ipc.delivery.unhold(port)) {
            ipc.delivery.destroy(m);
        }
        if (port.nsRequest != null) {
            Carried ns = port.nsRequest;
            port.nsRequest = null;
            ipc.rights.destroy(ns);
        }
        var requests = new ArrayList<>(port.deadNameRequests.entrySet());
        port.deadNameRequests.clear();
        for (Map.Entry<Port.DeadNameKey, Carried> r : requests) {
            IpcSpace space = r.getKey().space();
            IpcEntry e = space.active ? space.lookup(r.getKey().name()) : null;
            if (e != null && e.has(PortRight.DEAD_NAME) && ipc.plants.deadNameSent(true)) {
                e.urefs = Math.min(e.urefs + 1, Mach.MACH_PORT_UREFS_MAX);
                ipc.notifications.deadName(r.getValue(), e.name);
            } else {
                ipc.rights.destroy(r.getValue());
            }
        }
    }
}
