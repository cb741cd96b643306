package io.machxp.kernel.ipc;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A port set: receive rights gathered so that one receive takes a message from any of them.
 * Cannot be sent; a port is in at most one set and then cannot be received from directly
 * (MACH_RCV_IN_SET). A receive from the set takes the oldest message of all its members, so
 * none starves. Core thread only.
 *
 * <p>The set keeps its members that have messages ordered by the arrival of their first queued
 * message ({@link #ready}), so a receive finds the oldest in O(log members) rather than looking
 * at every member (F2 of the IPC review: 4.4 ms of the core thread per message at 65,000
 * members). {@link Delivery} tells the set when a member's first message changes
 * ({@link #headChanged}); members join and leave through {@link #add} and {@link #remove}.
 */
final class PortSet {
    final long id;
    final IpcSpace space;
    /** Its name in its space (mach_port_rename changes it). */
    int name;
    boolean active = true;
    private final Set<Port> members = new LinkedHashSet<>();
    /** Members with a queued message, by the arrival of their first ({@link KMsg#arrival}, unique per kernel). */
    private final TreeMap<Long, Port> ready = new TreeMap<>();
    final Deque<ReceiveWait> receivers = new ArrayDeque<>();
    /** Streamed receives on this set between two messages ({@link ReceiveWait#held}). */
    final Deque<ReceiveWait> heldReceives = new ArrayDeque<>();

    PortSet(long id, IpcSpace space, int name) {
        this.id = id;
        this.space = space;
        this.name = name;
    }

    /** The members, in the order they joined (read only). */
    Set<Port> members() {
        return Collections.unmodifiableSet(members);
    }

    void add(Port p) {
        members.add(p);
        KMsg head = p.queue.peek();
        if (head != null) {
            ready.put(head.arrival, p);
        }
    }

    void remove(Port p) {
        members.remove(p);
        KMsg head = p.queue.peek();
        if (head != null) {
            ready.remove(head.arrival, p);
        }
    }

    /** Every member leaves. */
    void clear() {
        members.clear();
        ready.clear();
    }

    /** Member {@code p}'s first queued message was {@code oldHead} (null: none) and may have changed. */
    void headChanged(Port p, KMsg oldHead) {
        KMsg head = p.queue.peek();
        if (head == oldHead) {
            return;
        }
        if (oldHead != null) {
            ready.remove(oldHead.arrival, p);
        }
        if (head != null) {
            ready.put(head.arrival, p);
        }
    }

    /** The member whose first queued message arrived first, or null if none has one. */
    Port oldestMember(IpcWork work) {
        Map.Entry<Long, Port> first = ready.firstEntry();
        if (first == null) {
            return null;
        }
        work.setMembersVisited++;
        return first.getValue();
    }
}
