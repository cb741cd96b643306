package io.machxp.kernel.ipc;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A port set: receive rights gathered so that one receive takes a message from any of them.
 * Cannot be sent; a port is in at most one set and then cannot be received from directly
 * (MACH_RCV_IN_SET). A receive from the set takes the oldest message of all its members, so
 * none starves. Core thread only.
 */
final class PortSet {
    final long id;
    final IpcSpace space;
    /** Its name in its space (mach_port_rename changes it). */
    int name;
    boolean active = true;
    final Set<Port> members = new LinkedHashSet<>();
    final Deque<ReceiveWait> receivers = new ArrayDeque<>();
    /** Streamed receives on this set between two messages ({@link ReceiveWait#held}). */
    final Deque<ReceiveWait> heldReceives = new ArrayDeque<>();

    PortSet(long id, IpcSpace space, int name) {
        this.id = id;
        this.space = space;
        this.name = name;
    }

    /** The member whose first queued message arrived first, or null if none has one. */
    Port oldestMember(IpcWork work) {
        Port best = null;
        for (Port p : members) {
            work.setMembersVisited++;
            KMsg head = p.queue.peek();
            if (head != null && (best == null || head.arrival < best.queue.peek().arrival)) {
                best = p;
            }
        }
        return best;
    }
}
