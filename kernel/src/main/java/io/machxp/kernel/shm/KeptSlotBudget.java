package io.machxp.kernel.shm;

/**
 * The kept slots of one session's page files together, against the kernel's bound on resident
 * pages ({@code --max-pages}): a kept slot holds a page's memory in {@code /dev/shm} as a resident
 * page does, so the kernel keeps kept slots + resident pages within that bound. Each page file's
 * pool ({@link KeptSlotPool}) records here the slots it keeps for pages away, in the order they
 * were kept across the whole session (a page back here is counted as resident, not here, even
 * before it is mapped again); the page cache says after each page that leaves or comes how many
 * may be kept ({@link #cap}), and the oldest kept slots of the session's pools become due until
 * they fit, whichever pools they are in. Without {@code --max-pages} nothing is capped here (each
 * pool keeps its own {@link KeptSlotPool#KEPT_SLOTS}). Core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *   a pool keeps a slot for a page handed away -----------------------------> kept + 1, newest
 *   its page comes back, or the slot becomes due (bound, give-back) --------> kept - 1
 *   cap(room), kept &gt; room: the session's oldest kept slot becomes due (punched
 *     unless an access is counted there), and the next oldest, ------------> kept - 1, until kept &lt;= room
 * </pre>
 * Only the slots kept now are recorded, not the pools: a pool whose object ended, with its
 * kept slots given back, leaves nothing here (review S7 of shm-pool).
 */
final class KeptSlotBudget {
    /** One kept slot: page {@code page} of {@code pool}'s object (the pool's identity counts). */
    private record Kept(KeptSlotPool pool, int page) {}

    /** Slots kept for pages away, in every pool of the session, oldest kept first. */
    private final java.util.LinkedHashSet<Kept> kept = new java.util.LinkedHashSet<>();

    /** {@code pool} keeps page {@code page}'s slot from now: the session's newest kept slot. */
    void kept(KeptSlotPool pool, int page) {
        kept.add(new Kept(pool, page));
    }

    /** {@code pool}'s slot of page {@code page} is kept no more (or counted as resident). */
    void unkept(KeptSlotPool pool, int page) {
        kept.remove(new Kept(pool, page));
    }

    int kept() {
        return kept.size();
    }

    /**
     * At most {@code room} slots stay kept for pages away: beyond it, the session's oldest kept
     * slots become due, whichever pools keep them, and each pool that gave one punches its due
     * slots.
     */
    void cap(int room) {
        int limit = Math.max(0, room);
        if (kept.size() <= limit) {
            return;
        }
        java.util.Set<KeptSlotPool> gave = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (java.util.Iterator<Kept> it = kept.iterator(); kept.size() > limit; it = kept.iterator()) {
            Kept oldest = it.next();
            it.remove();
            oldest.pool().capped(oldest.page()); // its unkept finds it gone already
            gave.add(oldest.pool());
        }
        gave.forEach(KeptSlotPool::punchDue);
    }
}
