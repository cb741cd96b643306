package io.machxp.kernel.ipc;

import java.util.List;

/**
 * A message inside the kernel (GNU Mach's kmsg): its rights copied in from the sender's space
 * ({@link Carried}), its data copied, queued on its destination port until a receiver copies it
 * out. {@code bits} holds the rights' delivered types (PORT_SEND ...) and COMPLEX.
 */
final class KMsg {
    /** One body item in the kernel: data (inline bytes, memory, a bare name or NULL right) or a carried right. */
    sealed interface Item {}

    record Data(MsgItem item) implements Item {}

    record Right(Carried right) implements Item {}

    final Carried dest;
    /** The reply right, or null. */
    final Carried reply;
    final int id;
    final boolean complex;
    final List<Item> items;
    final int size;
    /** The sending thread (0 for the kernel's notifications); for per-sender order and the history checker. */
    final int senderTid;
    /** Arrival order on this kernel: a port set serves its members' messages oldest first. */
    long arrival;
    /** Priority donated by a client blocked for the reply (send+receive), or -1. */
    int donation = -1;
    /**
     * Bytes charged to the kernel's budget of queued messages while it is queued here
     * or carried to another kernel ({@link Delivery#queuedBytes}, {@link InFlight}): what a task
     * sent, or a notification's size charged to its port's receiver; 0 for messages from links,
     * except notifications charged where they are queued ({@link #chargeWhereQueued}).
     */
    long cost;
    /** The sending task's space, whose share of the budget {@link #cost} counts in (null: not charged). */
    IpcSpace chargedTo;
    /** The kernel whose link brought it, or {@link Port#LOCAL} (sent here). */
    int fromKernel = Port.LOCAL;
    /**
     * The ticket {@link #fromKernel} gave it (LinkMessage.ticket), to give back when this kernel is
     * done with it ({@link InFlight#consumed}); 0 once given back, passed on, or if there is none.
     */
    long ticket;
    /**
     * A notification no kernel charges yet (made where no task held its port's receive right, here or
     * on the kernel that carried it here): charged to the task holding the receive right on the
     * kernel that queues it ({@link Notifications#chargeArrived}), as notifications made there are.
     */
    boolean chargeWhereQueued;
    /**
     * A notification charged on this kernel ({@link Notifications}): its charge follows its port's
     * receive right to whichever task holds it next ({@link Notifications#receiveRightArrived}).
     */
    boolean notification;
    /**
     * The hops it is sent with if carried to another kernel now ({@link Hops}): 0 if made here or
     * queued on its receive right here; one more than it arrived with if this kernel passes it on.
     */
    long hops;

    KMsg(Carried dest, Carried reply, int id, boolean complex, List<Item> items, int size, int senderTid) {
        this.dest = dest;
        this.reply = reply;
        this.id = id;
        this.complex = complex;
        this.items = items;
        this.size = size;
        this.senderTid = senderTid;
    }

    /** Every right the message carries, header first. */
    List<Carried> rights() {
        java.util.ArrayList<Carried> out = new java.util.ArrayList<>();
        out.add(dest);
        if (reply != null) {
            out.add(reply);
        }
        for (Item i : items) {
            if (i instanceof Right r && r.right() != null) {
                out.add(r.right());
            }
        }
        return out;
    }
}
