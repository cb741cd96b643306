package io.machxp.kernel.shm;

import java.util.function.IntPredicate;

/**
 * One page file's slots of pages that left the kernel while their slot is still allocated: the
 * slots <em>kept</em> for pages handed away (they may well come back soon) and the slots
 * <em>due</em> to be punched once nothing is counted there. The records are per page (a kept or
 * due page's slot is {@link SharedPages}'s {@code slotOf}, which does not change while the page is
 * away); which page is in which slot, and whether a slot may be punched now, is SharedPages';
 * the slots' memory is {@link SlotMemory}'s. Core thread only.
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
 *          resident pages (KeptSlotBudget.cap; the oldest of those not here)------> DUE
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
 * follows: SharedPages' overview and docs/shared-memory.md.
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
    /** The session's kept slots, against --max-pages: counts the kept slots of pages not here. */
    private final KeptSlotBudget budget;

    KeptSlotPool(int pages, int keptBound, SlotMemory memory, IntPredicate punched, KeptSlotBudget budget) {
        this.away = new byte[pages];
        this.here = new boolean[pages];
        this.budget = budget;
        budget.add(this);
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
            budget.kept(1);
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
            budget.kept(-1);
        }
    }

    /** Page {@code page} is resident here again: a slot kept for it is counted as resident, not kept. */
    void arrived(int page) {
        if (away[page] == KEPT && !here[page]) {
            here[page] = true;
            budget.kept(-1);
        }
    }

    /** The oldest kept slot of a page not here becomes due (the budget's cap); false if there is none. */
    boolean oldestDue() {
        for (int page : kept) {
            if (!here[page]) {
                due(page);
                return true;
            }
        }
        return false;
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
