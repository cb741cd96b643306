package io.machxp.kernel.ipc;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Chains of receive rights in transit: a port whose receive right is inside a message queued on
 * (or blocked, or held, for) port Q points at Q ({@link Port#transitDestination}), Q may be in
 * transit towards R, and so on to a port whose receive right a task holds. Part of the IPC core;
 * core thread only.
 *
 * <h2>Overview</h2>
 * Two questions are asked of a message that moves receive rights to a destination D:
 * <ul>
 *   <li>Does it close a cycle ({@link #closesCycle})? It does if one of its receive rights is D's
 *       or one D is in transit towards (GNU Mach's ipc_port_check_circularity): such a message
 *       could never be received, and is destroyed. One walk of D's chain against the set of the
 *       carried rights: O(rights + chain), not a walk per right (F1 of the IPC review: one message
 *       of 100 rights to the end of a chain of 200,000 held the kernel's one core thread 2.2 s).
 *   <li>Would it make a chain longer than {@link #MAX_DEPTH} ports ({@link #tooDeep})? A chain
 *       grows at both ends - a receive right sent to the deepest port, or the root's receive
 *       right sent on - so each port keeps {@link Port#transitHeight}, an upper bound on the
 *       ports in the longest chain that ends at it (raised by {@link #link} along the
 *       destination's chain; 0 again once nothing is queued, held or blocked on the port). A
 *       local send that would pass the bound is refused before copyin (MACH_SEND_NO_BUFFER); a
 *       message from another kernel that would, or a blocked sender's let in after the chain
 *       grew, is destroyed as a circular one. So every chain
 *       holds at most MAX_DEPTH ports and every walk here visits at most MAX_DEPTH + 1.
 * </ul>
 * Walks stop at a port that is not in transit (held by a task, dead, or a proxy: chains across
 * kernels are not followed).
 */
final class TransitChains {
    /** The most ports a chain of receive rights in transit may hold, the destination's root included. */
    static final int MAX_DEPTH = 256;

    private final IpcWork work;

    TransitChains(IpcWork work) {
        this.work = work;
    }

    /** The next port of {@code p}'s chain, or null at its end. */
    private static Port next(Port p) {
        return p.inTransit() ? p.transitDestination : null;
    }

    /**
     * Whether a receive right the message carries is that of its destination, or of a port whose
     * receive right is in transit towards it: such a message could never be received. Also true if
     * the destination's chain is longer than {@link #MAX_DEPTH} (undecided there: refused as
     * circular; only a chain grown across kernels can be).
     */
    boolean closesCycle(KMsg m, Port dest) {
        Port only = null;
        Set<Port> moved = null;
        for (Carried c : m.rights()) {
            if (c.type() != MsgType.PORT_RECEIVE || c == m.dest || c.port() == null) {
                continue;
            }
            if (only == null) {
                only = c.port();
            } else {
                if (moved == null) {
                    moved = Collections.newSetFromMap(new IdentityHashMap<>());
                    moved.add(only);
                }
                moved.add(c.port());
            }
        }
        if (only == null) {
            return false; // no receive right moves: nothing to close
        }
        int depth = 0;
        for (Port p = dest; p != null; p = next(p)) {
            work.cycleSteps++;
            if (moved == null ? p == only : moved.contains(p)) {
                return true;
            }
            if (++depth > MAX_DEPTH) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether moving the receive rights of {@code moved} (ports not in transit, or null entries
     * to skip) to {@code dest} would make a chain of more than {@link #MAX_DEPTH} ports: the
     * longest chain ending at one of them, itself, and {@code dest}'s chain.
     */
    boolean tooDeep(Port dest, Iterable<Port> moved) {
        int above = -1;
        for (Port r : moved) {
            if (r != null) {
                above = Math.max(above, height(r));
            }
        }
        if (above < 0) {
            return false;
        }
        int depth = above + 1;
        for (Port p = dest; p != null; p = next(p)) {
            work.cycleSteps++;
            if (++depth > MAX_DEPTH) {
                return true;
            }
        }
        return false;
    }

    /** Whether a message carrying {@code m}'s receive rights would make a chain too deep at {@code dest}. */
    boolean tooDeep(KMsg m, Port dest) {
        java.util.List<Port> moved = new java.util.ArrayList<>();
        for (Carried c : m.rights()) {
            if (c.type() == MsgType.PORT_RECEIVE && c != m.dest) {
                moved.add(c.port());
            }
        }
        return tooDeep(dest, moved);
    }

    /**
     * The receive rights {@code m} carries are in transit towards {@code dest}: each points at it,
     * and the heights along {@code dest}'s chain are raised to cover them (stopping where they
     * already do).
     */
    void link(KMsg m, Port dest) {
        int height = -1;
        for (Carried c : m.rights()) {
            if (c.type() == MsgType.PORT_RECEIVE && c != m.dest && c.port() != null) {
                c.port().transitDestination = dest;
                height = Math.max(height, height(c.port()));
            }
        }
        if (height < 0) {
            return;
        }
        int h = height + 1;
        for (Port p = dest; p != null && p.transitHeight < h; p = next(p), h++) {
            work.cycleSteps++;
            p.transitHeight = h;
        }
    }

    /**
     * Ports in the longest chain ending at {@code r}, {@code r} excluded: its kept bound, or 0 (and
     * the bound reset) when nothing is queued, held or blocked on it, so nothing is in transit towards it.
     */
    private static int height(Port r) {
        if (r.transitHeight != 0 && r.queue.size() == 0 && r.queue.blockedSenders.isEmpty() && r.held.isEmpty()) {
            r.transitHeight = 0;
        }
        return r.transitHeight;
    }
}
