package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;

/**
 * Which slot of one page file holds each page, and the moves that keep a page mappable when a
 * count of accesses stays up in its slot (a task process killed inside an access). Each page
 * starts in the slot of its page number; the spare slots after those are free. Whether and how a
 * page is mapped is {@link SharedPages}'; the memory behind the slots is {@link SlotMemory}'s.
 * Core thread only, except {@link #uncount}.
 *
 * <h2>Overview</h2>
 * <pre>
 *   a slot:
 *   FREE     --a page moves in (freeSlot, then move: the new slot published in the page's
 *              entry before the page is mapped there)-------------------------------------> IN USE
 *   IN USE   --its page moves out (accesses counted there at two maps in a row, or no room
 *              for the slot's memory)-----------------------------------------------------> DRAINING
 *   DRAINING --seen with nothing counted (at a later freeSlot)-----------------------------> FREE
 *   FREE     --seen with an access counted (a task process followed a forged slot number)--> DRAINING
 *   a page (countedAtLastMap):
 *   UNSEEN   --a map finds an access counted in its slot: not mapped now-------------------> SEEN
 *   SEEN     --a map finds one counted again, and a free slot: the page moves--------------> UNSEEN
 *   SEEN     --a map finds its slot's count at 0, its release, or a lease renewal that
 *              finds its slot's count drained (renewed)-----------------------------------> UNSEEN
 * </pre>
 * No message: the slot numbers are words in the file (the page's entry holds 0 for its own slot,
 * else the slot + 1), and each slot's ctl word carries the mapped bits and the count of accesses
 * under way ({@link #unmapped} clears the bits in one CAS, {@link #uncount} takes back a count a
 * dead task process left). Why a page moves rather than waits, and why no write lands after the
 * take: SharedPages' overview and docs/shared-memory.md. A free slot that is a hole and cannot be
 * allocated for want of room stays free ({@link #holeRefused}).
 */
final class PageSlots {
    private final ByteBuffer buffer;
    private final SlotMemory memory;
    /** Whose kept slots give their memory back when a hole cannot be allocated. */
    private final SharedPages shared;
    /** The slot of each page: its own record; the file's copy is for task processes. */
    final int[] slotOf;
    /** Free slots: never used, or left by a page and since seen with nothing counted. */
    private final java.util.ArrayDeque<Integer> free = new java.util.ArrayDeque<>();
    /** Slots a page left while accesses were still counted there: free once nothing is. */
    private final java.util.ArrayDeque<Integer> draining = new java.util.ArrayDeque<>();
    private int moves;
    /**
     * Per page: its slot counted an access at its last map, which therefore did not map it. A
     * page moves only if its slot counts one again at the next map (with an access served by the
     * kernel between them) and no look between them found nothing counted there: a count that
     * stayed up, such as one a killed process left, and not the accesses of live processes that
     * found the page unmapped a moment ago (review P3). Tied to time by the lease renewals
     * (review S3): each one clears the mark of a page whose slot counts nothing now
     * ({@link #renewed}), so two live accesses seen minutes apart do not move the page. Without
     * a lease nothing clears it but a map that maps the page or its release.
     */
    final boolean[] countedAtLastMap;
    /** The pages marked in {@link #countedAtLastMap}, for {@link #renewed}. */
    final java.util.Set<Integer> seenCounted = new java.util.HashSet<>();
    /** The last {@link #freeSlot} found a free hole but could not allocate it (no room; warned by {@link SlotMemory}). */
    boolean holeRefused;

    PageSlots(ByteBuffer buffer, SlotMemory memory, SharedPages shared, int pages, int total) {
        this.buffer = buffer;
        this.memory = memory;
        this.shared = shared;
        this.slotOf = new int[pages];
        this.countedAtLastMap = new boolean[pages];
        for (int i = 0; i < pages; i++) {
            slotOf[i] = i;
        }
        for (int k = pages; k < total; k++) {
            free.add(k);
        }
    }
    /**
     * Moves page {@code page} out of its slot (which counted accesses at two maps in a row, or
     * could not be allocated) into {@code slot}, free and allocated with nothing counted; publishes
     * the new slot before the page is mapped there. The old slot drains: it is free again once
     * nothing is counted in it.
     */
    void move(int page, int slot) {
        draining.add(slotOf[page]);
        slotOf[page] = slot;
        INT.setVolatile(buffer, ShmLayout.pageCtl(page) + ShmLayout.PAGE_SLOT, slot == page ? 0 : slot + 1);
        moves++;
    }

    /**
     * A free slot with nothing counted in it whose bytes are allocated, or -1; drained slots become
     * free first. One already allocated is preferred; with {@code allocate}, else one hole (or
     * refused slot) is allocated now if it can be. A slot that cannot be stays free (review S2),
     * and {@link #holeRefused} says so: -1 then means no room, not slots that still count accesses.
     */
    int freeSlot(boolean allocate) {
        for (int n = draining.size(); n > 0; n--) {
            int slot = draining.poll();
            if ((unmapped(slot) & ShmLayout.ACCESSES) == 0) {
                free.addFirst(slot); // allocated, or a hole (never mapped, or punched): checked below
            } else {
                draining.add(slot);
            }
        }
        int hole = -1;
        for (java.util.Iterator<Integer> it = free.iterator(); it.hasNext(); ) {
            int slot = it.next();
            if ((unmapped(slot) & ShmLayout.ACCESSES) != 0) {
                it.remove();
                draining.add(slot); // a task process counted itself there (by a forged slot number): not free
            } else if (memory.allocated(slot)) {
                it.remove();
                return slot;
            } else if (hole < 0) {
                hole = slot;
            }
        }
        holeRefused = false;
        if (allocate && hole >= 0) {
            if (memory.allocated(hole, shared::giveBackAll)) {
                free.remove(hole);
                return hole;
            }
            holeRefused = true;
        }
        return -1;
    }

    /**
     * Clears the mapped bits of slot {@code slot}'s ctl word in one CAS (no access starts after
     * it); returns the ctl word that CAS replaced (or found without mapped bits), whose count says
     * whether accesses were under way.
     */
    int unmapped(int slot) {
        int at = ShmLayout.pageCtl(slot);
        int s;
        do {
            s = (int) INT.getVolatile(buffer, at);
        } while ((s & ~ShmLayout.ACCESSES) != 0 && !INT.compareAndSet(buffer, at, s, s & ShmLayout.ACCESSES));
        return s;
    }

    /**
     * Any thread (the drain watcher's): a count up in slot {@code slot} that a dead task process
     * recorded (ShmLayout.SLOT_COUNTS) is taken back, as that process's uncount would have; a slot
     * out of the file, or a count already 0 (a task process wrote it), is left alone. Only the
     * count changes, atomically, as a task process's uncount does: the core then sees the slot
     * drained at its next look (a map, a punch of a due slot, a lease renewal).
     */
    void uncount(int slot) {
        if (slot < 0 || slot >= memory.slotCount()) {
            return;
        }
        int at = ShmLayout.pageCtl(slot);
        int s;
        do {
            s = (int) INT.getVolatile(buffer, at);
            if ((s & ShmLayout.ACCESSES) == 0) {
                return;
            }
        } while (!INT.compareAndSet(buffer, at, s, s - 1));
    }

    /** Page {@code page}'s mark in {@link #countedAtLastMap} is cleared. */
    void notCounted(int page) {
        if (countedAtLastMap[page]) {
            countedAtLastMap[page] = false;
            seenCounted.remove(page);
        }
    }

    /**
     * Core thread, at each lease renewal ({@link SharedMemory#punchDue}): a page seen counted at
     * its last map whose slot counts nothing now loses that mark, so the next count seen there is
     * a first sighting, not one "in a row" (review S3). The count is read, not changed.
     */
    void renewed() {
        for (java.util.Iterator<Integer> it = seenCounted.iterator(); it.hasNext(); ) {
            int page = it.next();
            if (((int) INT.getVolatile(buffer, ShmLayout.pageCtl(slotOf[page])) & ShmLayout.ACCESSES) == 0) {
                countedAtLastMap[page] = false;
                it.remove();
            }
        }
    }

    /** How many times a page moved to another slot: accesses still counted in its own, or no room for it. Core thread. */
    int moves() {
        return moves;
    }
}
