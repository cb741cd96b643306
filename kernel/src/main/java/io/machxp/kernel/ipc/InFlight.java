package io.machxp.kernel.ipc;

import io.machxp.proto.link.LinkConsumed;
import io.machxp.proto.link.LinkFrame;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Messages this kernel carried to other kernels that those have not finished with yet, so that a
 * message a task sends counts against its kernel's budget of queued bytes (and the task's share,
 * {@link Delivery#overBudget}) until a task on the kernel that holds the receive right has
 * received it or it was destroyed there - however many kernels it crossed. Without this a task
 * could queue without bound on another kernel's port (messages across kernels ignore qlimit, as
 * in NORMA, and messages to send-once rights do everywhere). Part of the IPC core; core thread only.
 *
 * <h2>Overview</h2>
 * Every LinkMessage carries a ticket of its sender (unique per kernel and IPC session); the kernel
 * it reaches gives the ticket back in a LinkConsumed once it is done with the message:
 * <pre>
 *  a message made here is carried out   -> record {to, its charged space, cost}; cost charged
 *  a message from kernel U passed on    -> record {to, U, U's ticket}; nothing charged here
 *  LinkConsumed(t) from the record's to -> record gone: cost uncharged, or LinkConsumed(U's ticket) to U
 *  kernel `to` died                     -> each record towards it settled as above
 *  a message from kernel U received by a task here, or destroyed here
 *                                       -> LinkConsumed(its ticket) to U ({@link #consumed})
 * </pre>
 * Answers are gathered per kernel, as primitives in the frame's own repeated field, and sent at
 * the end of the core's turn, one frame for all (this is paid on every message between kernels).
 * So the charge stays with the kernel whose task sent the message, and the answers travel back
 * along the path the message took, each kernel on it settling its own record. A kernel that
 * rejoins starts a new core, with tickets of its new session: answers for the old one are ignored.
 */
final class InFlight {
    private record Entry(int to, IpcSpace space, long cost, int upstream, long upstreamTicket) {}

    private final IpcCore ipc;
    /**
     * By ticket. Not a primitive-keyed map of linear probing: tickets come one after another, and
     * such maps cluster them (a one-way benchmark spent seven tenths of its time in removals).
     */
    private final Map<Long, Entry> entries = new HashMap<>();
    private long issued;
    /** Tickets to give back, by kernel, at the end of this turn ({@link #answer}). */
    private final Map<Integer, LinkConsumed.Builder> unsent = new LinkedHashMap<>();
    private boolean flushScheduled;
    /** Bytes of messages made here that other kernels have not finished with (part of {@link Delivery#queuedBytes}). */
    long bytes;

    InFlight(IpcCore ipc) {
        this.ipc = ipc;
    }

    /**
     * Message {@code m} leaves for kernel {@code to}: the ticket it carries. A message made here
     * is charged to its kernel (and its sender's share) until the ticket comes back; one that came
     * from another kernel is remembered so that the answer goes back to it.
     */
    long carried(KMsg m, int to) {
        long ticket = ((long) ipc.net.session() << 40) | ++issued;
        if (m.fromKernel == Port.LOCAL) {
            entries.put(ticket, new Entry(to, m.chargedTo, m.cost, Port.LOCAL, 0));
            ipc.delivery.charge(m.chargedTo, m.cost);
            bytes += m.cost;
        } else {
            entries.put(ticket, new Entry(to, null, 0, m.fromKernel, m.ticket));
            m.ticket = 0; // answered when the next kernel answers
        }
        return ticket;
    }

    /** Message {@code m}, which came from another kernel, was received here or destroyed: its sender hears of it. */
    void consumed(KMsg m) {
        if (m.ticket != 0 && m.fromKernel != Port.LOCAL && ipc.plants.consumedAnswered(true)) {
            answer(m.fromKernel, m.ticket);
            m.ticket = 0;
        }
    }

    /** A LinkConsumed from kernel {@code from}: its records settled (tickets it was not given are ignored). */
    void onConsumed(int from, LinkConsumed c) {
        for (int i = 0, n = c.getTicketsCount(); i < n; i++) {
            long t = c.getTickets(i);
            Entry e = entries.get(t);
            if (e != null && e.to == from) {
                entries.remove(t);
                settle(e);
            }
        }
    }

    /** Kernel {@code kernel} died: what was carried to it will never be answered, so it is settled now. */
    void kernelDied(int kernel) {
        for (Iterator<Entry> i = entries.values().iterator(); i.hasNext(); ) {
            Entry e = i.next();
            if (e.to == kernel) {
                i.remove();
                settle(e);
            }
        }
    }

    /** Messages carried out and not answered yet. */
    int size() {
        return entries.size();
    }

    private void settle(Entry e) {
        if (e.upstream == Port.LOCAL) {
            ipc.delivery.charge(e.space, -e.cost);
            bytes -= e.cost;
        } else if (e.upstreamTicket != 0) {
            answer(e.upstream, e.upstreamTicket);
        }
    }

    /**
     * Gives {@code ticket} back to {@code kernel}: gathered with the others of this turn of the
     * core's loop and sent as one LinkConsumed per kernel at its end (a timer of no delay), so a
     * burst of messages received costs one frame back, not one each.
     */
    private void answer(int kernel, long ticket) {
        LinkConsumed.Builder b = unsent.get(kernel);
        if (b == null) {
            b = LinkConsumed.newBuilder();
            unsent.put(kernel, b);
        }
        b.addTickets(ticket);
        if (b.getTicketsCount() == TICKETS_PER_FRAME) { // a full frame goes now; the rest at the turn's end
            unsent.remove(kernel);
            send(kernel, b);
        }
        if (!flushScheduled) {
            flushScheduled = true;
            ipc.env.schedule(0, this::flush);
        }
    }

    private void flush() {
        flushScheduled = false;
        unsent.forEach(this::send);
        unsent.clear();
    }

    private void send(int kernel, LinkConsumed.Builder tickets) {
        if (!ipc.net.dead(kernel)) {
            ipc.net.send(kernel, LinkFrame.newBuilder().setConsumed(tickets).build());
        }
    }

    /**
     * At most this many tickets per LinkConsumed: 10 bytes each at most, so a frame stays far below
     * the links' frame limit (64 MiB) even when a port's death destroys millions of messages at once.
     */
    static final int TICKETS_PER_FRAME = 100_000;
}
