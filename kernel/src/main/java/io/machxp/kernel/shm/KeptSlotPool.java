package io.machxp.kernel.shm;

import java.util.function.IntPredicate;

/**
 * One page file's slots of pages that left the kernel while their slot is still allocated: the
 * slots <em>kept</em> for pages handed away (they may well come back soon) and the slots
 * <em>due</em> to be punched once nothing is counted there. The records are per page (a kept or
 * due page's slot is {@link PageSlots}' {@code slotOf}, which does not change while the page is
 * away); which page is in which slot is PageSlots', whether a slot may be punched now is
 * {@link SharedPages}'; the slots' memory is {@link SlotMemory}'s. Core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *   HOME --released handed away (given away with a futex's release, flushed by a
 *          lock_request), its slot allocated-------------------------------------> KEPT
 *   HOME --released otherwise (evicted, returned at a terminate, forgotten), its
 *          slot allocated--------------------------------------------------------> DUE
 *   KEPT --the pool over its bound (the least recently released first), released
 *          again not handed away (forgotten), or given back (giveBackAll: the
 *          object terminated or its pages not to be cached, no room at a map)-----> DUE
 *   KEPT --its page resident here again (arrived; still KEPT until mapped)-----> KEPT, here
 *   KEPT --the session's kept slots over the room --max-pages leaves beside the
 *          resident pages (KeptSlotBudget.cap: the session's oldest not here)-----> DUE
 *   KEPT, DUE --its page mapped again (back: mapped there with no write of zeros)--> HOME
 *   DUE  --nothing counted in its slot: at a release, a give-back, a lease renewal
 *          (punchDue): punched--------------------------------------------------> HOME
 * </pre>
 * HOME: resident, or away with its slot a hole. A page released again while kept or due (no map
 * between) is recorded as just released. The pool holds at most {@link #KEPT_SLOTS} kept slots
 * per object (the bound its page file was made with), and with {@code --max-pages} the session's
 * kept slots of pages not here, together with the resident pages, stay within it
 * ({@link KeptSlotBudget}); due slots are bounded by the pages that left with an access counted
 * in their slot. Why a slot is kept, and the memory bound that
 * follows (also docs/shared-memory.md):
 *
 * <p>A page that leaves the kernel for good (evicted, returned, given away: {@link SharedPages#release})
 * gives the memory of the slot it is in (its own or a spare: {@link PageSlots#slotOf}, never its page
 * number) back, so that the file holds about the pages resident now, not every page ever mapped:
 * a hole is punched there ({@link Holes}, one madvise, on the core thread) once no access from
 * before its take is counted in that slot. When depends on why the page left:
 * <ul>
 * <li>Handed away (given away with a futex's release, flushed by a lock_request: another kernel
 * wants it, and it comes back as soon as it is handed back): its slot is <em>kept</em>, allocated,
 * in a pool of at most {@link #KEPT_SLOTS} slots per object (this pool), least recently
 * released first out.
 * A page that comes back to its kept slot (normally its own page number) is mapped there with no
 * write of zeros, and nothing was punched: no madvise that unmaps the page from every task process
 * (TLB shootdowns), no fresh tmpfs page, no page fault in each task process. Punching at each
 * handoff halved the demo's throughput (c8ca4037). A release that makes the pool exceed its bound
 * makes the oldest kept slot due (below). The page leaves the pool only once it is mapped again
 * (review F2: a page back whose map fails keeps its slot in the pool); a kept page forgotten (its
 * pager lost) is released again as not handed away, and a terminate of the object, or a drop of
 * its pages when they may not be cached, gives back all its kept slots ({@link #giveBackAll}).
 * <li>Evicted beyond {@code --max-pages} (the kernel chose it as cold), returned at a terminate,
 * or forgotten with a lost pager: due at once, so a kernel with {@code --max-pages} holds about
 * that many slots, whatever it streams through.
 * </ul>
 * A due slot is punched as soon as no access is counted there (from before the take: it may still
 * load or CAS in the slot): at once, mostly; else it stays due and is tried again at every later
 * release or give-back of the object and at every lease renewal of the session
 * ({@link #punchDue}, review S1, F1), so it is punched once its count drained, also in an object
 * gone quiet (without a lease, only at the object's next release). The next map of a page to a
 * hole allocates it again (a write of zeros, before the page is mapped there). All of it on the
 * core thread (punched on the file thread, the slot was not mappable for a while, and a futex
 * handed back with its page was not mapped to task processes at its grant). The kept and due
 * records, their states and transitions, are this pool's (above); a slot's memory (HOLE,
 * ALLOCATED, REFUSED, and when a refused slot is tried again) is {@link SlotMemory}'s. With no
 * room at a map, the object's kept slots give their memory back first (due, punched unless
 * counted) and the allocation is tried once more; a page whose own slot is refused is mapped in a
 * free spare slot that is allocated already, if there is one (it moves there, as for a count).
 *
 * <p>The memory bound: a page file holds at most the pages resident and mapped (or mapped since
 * they came back), plus {@link #KEPT_SLOTS} kept slots (resident pages whose map failed after
 * their return among them; with {@code --max-pages}, the session's kept slots and the kernel's
 * resident pages together at most that: SharedMemory#capKept), plus the slots due with an access still counted (a task process
 * killed inside an access; due ones whose count drained are punched at the next lease renewal),
 * plus the spare slots used so far (16, or one per 16 pages): free spare slots, and slots a moved
 * page left, once drained, are not punched. A terminated object keeps only its due slots with an
 * access counted, until the session ends and its files are deleted.
 */
final class KeptSlotPool {
    /**
     * How many slots of pages handed away an object keeps allocated for their return: two full
     * releases' worth of pages (a futex's release carries up to 8), 64 KiB of 4 KiB pages.
     */
    static final int KEPT_SLOTS = 16;
    private static final byte HOME = 0;
    private static final byte KEPT = 1;
    private static final byte DUE = 2;

    private final int keptBound;
    /** Pages handed away whose slot is kept allocated for their return, least recently released first. */
    private final java.util.LinkedHashSet<Integer> kept = new java.util.LinkedHashSet<>();
    /** Pages away whose slot is to be punched as soon as nothing is counted there (review S1). */
    private final java.util.LinkedHashSet<Integer> due = new java.util.LinkedHashSet<>();
    /** Per page: HOME, or in {@link #kept} (KEPT) or {@link #due} (DUE). */
    private final byte[] away;
    /** Punches page {@code page}'s slot unless an access is counted there; false: try later. */
    private final IntPredicate punched;
    private final SlotMemory memory;
    /** Per page kept: its page is resident here again (not yet mapped), so not counted in {@link #budget}. */
    private final boolean[] here;
    /** The session's kept slots, against --max-pages: records the kept slots of pages not here, oldest first. */
    private final KeptSlotBudget budget;

    KeptSlotPool(int pages, int keptBound, SlotMemory memory, IntPredicate punched, KeptSlotBudget budget) {
        this.away = new byte[pages];
        this.here = new boolean[pages];
        this.budget = budget;
        this.keptBound = Math.max(0, keptBound);
        this.memory = memory;
        this.punched = punched;
    }

    /** Whether page {@code page} is away with its slot still allocated (kept or due). */
    boolean away(int page) {
        return away[page] != HOME;
    }

    /**
     * Page {@code page} left with its slot allocated: kept if {@code handedAway} (the oldest
     * kept ones due beyond the bound), else due. A page still kept or due is recorded anew.
     */
    void released(int page, boolean handedAway) {
        if (away[page] != HOME) {
            back(page); // released again without a map between: as if just released
        }
        if (handedAway) {
            away[page] = KEPT;
            kept.add(page);
            budget.kept(this, page);
        } else {
            away[page] = DUE;
            due.add(page);
        }
    }

    /** The oldest kept slots due while the pool is over its bound, then every due slot punched that can be. */
    void settle() {
        while (kept.size() > keptBound) {
            due(kept.iterator().next());
        }
        punchDue();
    }

    /** Kept page {@code page} becomes due (not punched yet). */
    private void due(int page) {
        unkept(page);
        away[page] = DUE;
        due.add(page);
    }

    /** Kept page {@code page} leaves {@link #kept}: counted no more in the budget unless it was here. */
    private void unkept(int page) {
        kept.remove(page);
        if (here[page]) {
            here[page] = false;
        } else {
            budget.unkept(this, page);
        }
    }

    /** Page {@code page} is resident here again: a slot kept for it is counted as resident, not kept. */
    void arrived(int page) {
        if (away[page] == KEPT && !here[page]) {
            here[page] = true;
            budget.unkept(this, page);
        }
    }

    /**
     * Kept page {@code page}, not here, becomes due: the session's oldest kept slot while the
     * session keeps more than --max-pages leaves room for ({@link KeptSlotBudget#cap}).
     */
    void capped(int page) {
        if (away[page] == KEPT && !here[page]) {
            due(page);
        }
    }

    /** Page {@code page} is back: its slot, kept or due, is no longer given back. */
    void back(int page) {
        if (away[page] == HOME) {
            return;
        }
        if (away[page] == KEPT) {
            unkept(page);
        } else {
            due.remove(page);
        }
        away[page] = HOME;
    }

    /** Punches the slot of each page due whose slot counts no access now; the others stay due. */
    void punchDue() {
        for (java.util.Iterator<Integer> it = due.iterator(); it.hasNext(); ) {
            int page = it.next();
            if (punched.test(page)) {
                it.remove();
                away[page] = HOME;
            }
        }
    }

    /** Every kept slot due now, and punched if nothing is counted there. Whether one was punched. */
    boolean giveBackAll() {
        int before = memory.punches();
        for (int page : new java.util.ArrayList<>(kept)) {
            due(page);
        }
        punchDue();
        return memory.punches() != before;
    }

    int kept() {
        return kept.size();
    }

    int due() {
        return due.size();
    }
}
