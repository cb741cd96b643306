package io.machxp.kernel.shm;

import java.util.List;

/**
 * The kept slots of one session's page files together, against the kernel's bound on resident
 * pages ({@code --max-pages}): a kept slot holds a page's memory in {@code /dev/shm} as a resident
 * page does, so the kernel keeps kept slots + resident pages within that bound. Each page file's
 * pool ({@link KeptSlotPool}) counts here the slots it keeps for pages away (a page back here is
 * counted as resident, not here, even before it is mapped again); the page cache says after each
 * page that leaves or comes how many may be kept ({@link #cap}), and the oldest kept slots of the
 * session's pools become due until they fit. Without {@code --max-pages} nothing is capped here
 * (each pool keeps its own {@link KeptSlotPool#KEPT_SLOTS}). Core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *   a pool keeps a slot for a page handed away ----------------------------> kept + 1
 *   its page comes back, or the slot becomes due (bound, give-back) -------> kept - 1
 *   cap(room), kept &gt; room: the oldest kept slot of a pool becomes due
 *     (punched unless an access is counted there), pool after pool --------> kept - 1, until kept &lt;= room
 * </pre>
 */
final class KeptSlotBudget {
    /** Added on the file thread as page files are made, read on the core. */
    private final List<KeptSlotPool> pools = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Slots kept for pages away, in every pool of the session. */
    private int kept;

    void add(KeptSlotPool pool) {
        pools.add(pool);
    }

    void kept(int delta) {
        kept += delta;
    }

    int kept() {
        return kept;
    }

    /**
     * At most {@code room} slots stay kept for pages away: beyond it, the oldest kept slot of each
     * pool in turn becomes due, and each pool that gave one punches its due slots.
     */
    void cap(int room) {
        int limit = Math.max(0, room);
        while (kept > limit) {
            boolean gave = false;
            for (KeptSlotPool pool : pools) {
                if (kept > limit && pool.oldestDue()) {
                    gave = true;
                    pool.punchDue();
                }
            }
            if (!gave) {
                return;
            }
        }
    }
}
