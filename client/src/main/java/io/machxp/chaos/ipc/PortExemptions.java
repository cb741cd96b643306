package io.machxp.chaos.ipc;

import io.machxp.chaos.ipc.IpcHistory.Entry;
import io.machxp.chaos.ipc.IpcHistory.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * When a port is exempt from the checks that a live port must pass (rules 2, 4 and 6 of
 * {@link IpcChecker}): what was sent to it may be lost with it, as a fault may have killed it.
 *
 * <p>For the whole run (the faults' losses may reach back before the record: what was queued in
 * the port, or on a link through the kernel): a port a crash touched (it died with its kernel or
 * with a port in whose queue it was, or a crash marked it possibly dead, PORT_MAY_BE_DEAD b = 1:
 * proxies through the crashed kernel die whatever becomes of the port), or one a server destroyed
 * just before its kernel crashed.
 *
 * <p>In intervals (review late1 A1): a renewal's PORT_MAY_BE_DEAD (b = 0), made while the port was
 * in transit, from the start of that move (a: messages sent from then on may go along a path
 * through the renewed kernel) until its receive right next arrives (MOVE_ARRIVED: the right and the
 * queue it carried lived, and what was queued before the move was in it). A port that never
 * arrives again may have died with all it held: exempt for the whole run, as before. Losses of
 * a renewal on links the port's arrival does not vouch for have marks of their own, per client
 * and name ({@code RIGHT_MAY_BE_DEAD}, {@code IN_FLIGHT_MAY_BE_LOST}).
 */
final class PortExemptions {
    /** Open: no arrival yet. */
    private static final long OPEN = Long.MAX_VALUE;

    private final Set<Integer> always = new HashSet<>();
    /** Per port, [from, until) of each renewal's mark. */
    private final Map<Integer, List<long[]>> intervals = new HashMap<>();

    void always(int port) {
        always.add(port);
    }

    /** A renewal's PORT_MAY_BE_DEAD entry; a MOVE_ARRIVED after it ends its interval ({@link #arrived}). */
    void marked(Entry e) {
        List<long[]> of = intervals.computeIfAbsent(e.port(), p -> new ArrayList<>());
        if (of.isEmpty() || of.get(of.size() - 1)[1] != OPEN) {
            of.add(new long[] {e.a(), OPEN});
        }
    }

    void arrived(Entry e) {
        List<long[]> of = intervals.get(e.port());
        if (of != null && of.get(of.size() - 1)[1] == OPEN) {
            of.get(of.size() - 1)[1] = e.time();
        }
    }

    /** Whether what was sent to the port at {@code at} may have been lost with it. */
    boolean covers(int port, long at) {
        if (always.contains(port)) {
            return true;
        }
        for (long[] i : intervals.getOrDefault(port, List.of())) {
            if (i[1] == OPEN || (i[0] <= at && at < i[1])) {
                return true;
            }
        }
        return false;
    }

    /** The exemptions of a history (its PORT_DEAD, PORT_MAY_BE_DEAD, MOVE_ARRIVED entries; the crash-touched ports given). */
    static PortExemptions of(List<Entry> all, Set<Integer> crashTouched) {
        PortExemptions x = new PortExemptions();
        crashTouched.forEach(x::always);
        for (Entry e : all) {
            if (e.kind() == Kind.PORT_MAY_BE_DEAD && e.b() == 0) {
                x.marked(e);
            } else if (e.kind() == Kind.MOVE_ARRIVED) {
                x.arrived(e);
            }
        }
        return x;
    }
}
