package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;
import static io.machxp.proto.shm.ShmLayout.WORD64;

import io.machxp.kernel.vm.VmPage;
import io.machxp.proto.shm.ShmLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * One memory object's pages as task processes on this host see them: a file of slots, one per page
 * and some spares (layout and the access protocol: {@link ShmLayout}). While the core maps a
 * resident page here, the page's bytes are in a slot and task processes read and write aligned
 * words there; the core's {@code byte[]} is its copy only while the page is not mapped. Core
 * thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *   UNMAPPED --map, no access counted in the page's slot: bytes copied in, MAPPED_READ [| MAPPED_WRITE]--> MAPPED
 *   UNMAPPED --map, accesses counted in its slot, not at its last map: not mapped now (accesses
 *              under way, most likely, that found the page unmapped: they end soon)--------------> UNMAPPED
 *   UNMAPPED --map, accesses counted there at its last map too, and nothing seen counted there
 *              since (no lease renewal found the count drained): the page moves to a free slot
 *              (its number published in the page's entry), then as above; the old slot waits,
 *              unmapped, until nothing is counted in it, and is then free for any page-----------> MAPPED
 *   (a lease renewal that finds nothing counted in the slot of a page seen counted: that count
 *    drained, so the next one seen is another access, a first sighting again; {@link #renewed})
 *   MAPPED   --take: mapped bits cleared in one CAS; bytes copied out------------------------------> UNMAPPED
 *              (accesses under way at that CAS: every word flipped by an atomic xor first)
 * </pre>
 * Nothing waits: a task's access that the take overtakes fails and goes to the kernel.
 *
 * <p><b>Why a write is in the page before it leaves, or refused, and never applied after.</b> An
 * access counts itself in one slot's ctl and touches that slot only. Its write is a CAS from a
 * value it loaded and then saw mapped in that ctl. At the take, a CAS that has not landed fails:
 * the flip changed the word under it, and a value loaded after the flip meets a ctl without mapped
 * bits, since the take clears them before it flips. Nothing maps that slot again while the access
 * is counted in it: a slot is mapped, for any page, only by a CAS of its ctl from 0 (no mapped
 * bits, nothing counted). So that access never sees the slot mapped again, and whatever becomes of
 * the page (mapped in another slot, given away, back again) its write is not applied after the
 * take. Before, the kernel waited for every access of the page's only slot to end, so a count left
 * by a process killed inside an access (SIGKILL, the OOM killer) kept the page from task processes
 * for the rest of the session. Now the page goes to a free slot and only the old slot waits. (Not
 * an epoch that lets the same slot be mapped again past older accesses: such an access's CAS
 * would land in the new mapping, from a value the page holds again, or in a word that became a
 * futex's since its check.) An access reads the page's slot before it counts itself and reads it again after (a full fence
 * between): a slot freed and given to another page was first left by this page, whose entry then
 * names another slot, so an access that counted itself in a slot that now holds another page sees
 * that and fails. An access counted in the new slot counted after the kernel mapped it (the map's
 * CAS from 0 fails otherwise), and so after every futex the kernel keyed before the map (the futex
 * check after the count, SharedWords). A count a dead task process recorded is taken back when
 * the kernel sees it dead ({@link #uncount}); a slot whose count never drains is lost to the object; when
 * no slot is free, the page stays unmapped, its accesses go to the kernel, and the kernel says so
 * once per object.
 *
 * <p>The ctl words, the slot numbers and the slots are in a file every task process of the session
 * maps read-write, so the kernel trusts none of them: whether a page is mapped, in which slot, and
 * how, is its own record ({@link #mapped}, {@link #slotOf}), and only a page it mapped writable
 * gives bytes back.
 *
 * <p>The file is sparse: only its header and ctl words are allocated when it is made. A slot is
 * allocated (zeros written at its offset) the first time a page is mapped there, before anything
 * is put there or a task process can be told it is mapped, so a touch of a mapped slot never meets
 * an unallocated tmpfs page (a SIGBUS). A slot that cannot be allocated (no room) is never mapped:
 * its page's words go through gRPC (one warning per object) until it can be (below).
 *
 * <p>A page that leaves the kernel for good (evicted, returned, given away: {@link #release})
 * gives the memory of the slot it is in (its own or a spare: {@link #slotOf}, never its page
 * number) back, so that the file holds about the pages resident now, not every page ever mapped:
 * a hole is punched there ({@link Holes}, one madvise, on the core thread) once no access from
 * before its take is counted in that slot. When depends on why the page left:
 * <ul>
 * <li>Handed away (given away with a futex's release, flushed by a lock_request: another kernel
 * wants it, and it comes back as soon as it is handed back): its slot is <em>kept</em>, allocated,
 * in a pool of at most {@link #KEPT_SLOTS} slots per object ({@link KeptSlotPool}), least recently
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
 * records, their states and transitions, are {@link KeptSlotPool}'s; a slot's memory (HOLE,
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
 *
 * <p>Nor is a page mapped that holds a futex whose state is not in the object's shared futex table (the table
 * was full, 3/4 of its slots, when the futex was made: its state lives in the kernel's heap). A
 * task process looks a word up in the table to know it is a futex's; it would read and write such
 * a word in the slot as plain memory (a stale owner, writes dropped at the next take).
 */
public final class SharedPages {
    private static final java.lang.invoke.VarHandle BYTES64 = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SharedPages.class);
    private final Path file;
    private final ByteBuffer buffer;
    private final int pageSize;
    private final long dataStart;
    /** How the kernel mapped each page (NONE, READ, WRITE): its own record, never read from the file. */
    private final byte[] mapped;
    /** The slot of each page: its own record; the file's copy is for task processes. */
    private final int[] slotOf;
    /** Free slots: never used, or left by a page and since seen with nothing counted. */
    private final java.util.ArrayDeque<Integer> free = new java.util.ArrayDeque<>();
    /** Slots a page left while accesses were still counted there: free once nothing is. */
    private final java.util.ArrayDeque<Integer> draining = new java.util.ArrayDeque<>();
    /** The memory behind the slots: allocated, holes, refused slots' retries. */
    private final SlotMemory memory;
    /** How many slots of pages handed away an object keeps allocated for their return ({@link KeptSlotPool}). */
    public static final int KEPT_SLOTS = KeptSlotPool.KEPT_SLOTS;
    /** The slots of pages away that are still allocated: kept for their return, or due to be punched. */
    private final KeptSlotPool pool;
    private final int objectId;
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
    private final boolean[] countedAtLastMap;
    /** The pages marked in {@link #countedAtLastMap}, for {@link #renewed}. */
    private final java.util.Set<Integer> seenCounted = new java.util.HashSet<>();
    private boolean warnedOutOfTable;
    private boolean warnedNoSlot;
    /** The last {@link #freeSlot} found a free hole but could not allocate it (no room; warned by {@link SlotMemory}). */
    private boolean holeRefused;
    private static final byte NONE = 0;
    private static final byte READ = 1;
    private static final byte WRITE = 2;

    SharedPages(Path file, ByteBuffer buffer, int pageSize, int pages, int objectId, SlotMemory.Refusal refusal, int keptBound,
            KeptSlotBudget budget) throws IOException {
        this.objectId = objectId;
        int total = ShmLayout.pageSlots(pages, pageSize);
        this.file = file;
        this.buffer = buffer;
        this.pageSize = pageSize;
        this.dataStart = ShmLayout.pageData(total, pageSize);
        this.memory = new SlotMemory(file, buffer, pageSize, total, dataStart, objectId, refusal);
        this.pool = new KeptSlotPool(pages, keptBound, memory, this::punched, budget);
        this.mapped = new byte[pages];
        this.slotOf = new int[pages];
        this.countedAtLastMap = new boolean[pages];
        for (int i = 0; i < pages; i++) {
            slotOf[i] = i;
        }
        for (int k = pages; k < total; k++) {
            free.add(k);
        }
        INT.set(buffer, ShmLayout.PAGE_SIZE, pageSize);
        INT.set(buffer, ShmLayout.PAGE_COUNT, pages);
        INT.set(buffer, ShmLayout.PAGE_SLOTS, total);
        INT.set(buffer, ShmLayout.PAGE_OBJECT, objectId);
        LONG.set(buffer, ShmLayout.PAGE_DATA, dataStart);
        LONG.setVolatile(buffer, 0, ShmLayout.PAGE_MAGIC);
    }

    /** A flip for every word of a page: random, so no value a task can plan on; both halves non-zero. */
    private static long poison() {
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        return ((long) (r.nextInt(Integer.MAX_VALUE) + 1) << 32) | (r.nextInt(Integer.MAX_VALUE) + 1);
    }

    public Path file() {
        return file;
    }

    public int pageSize() {
        return pageSize;
    }

    private int data(int slot) {
        return (int) (dataStart + (long) slot * pageSize);
    }

    public boolean mapped(VmPage p) {
        return mapped[index(p)] != NONE;
    }

    /**
     * Maps the resident page {@code p} to task processes with its access: its bytes go into its
     * slot, or into a free slot if accesses from before the last take are still counted in its
     * own. False, and nothing mapped, if no slot is free or an access started meanwhile.
     * Whether the page is mapped is the kernel's own record, never the ctl word, which any task
     * process can write: mapped bits there that the kernel did not set are cleared first, and a
     * page mapped read-only gets its bytes again when it becomes writable (a task process may have
     * written the read-only slot anyway; that write must not become the page's). Never a page with
     * a futex outside the shared table ({@link VmPage#futexesOutOfTable}).
     */
    public boolean map(VmPage p) {
        int page = index(p);
        boolean write = p.access == VmPage.Access.READ_WRITE;
        if (mapped[page] == WRITE || mapped[page] == READ && !write) {
            return true;
        }
        if (p.futexesOutOfTable()) {
            warnOutOfTable(page);
            return false; // task processes would take a futex's word in it for a plain one
        }
        int slot = slotOf[page];
        mapped[page] = NONE; // also a read-only mapping that becomes writable: nothing in its slot is the page's
        if ((unmapped(slot) & ShmLayout.ACCESSES) != 0) {
            if (!countedAtLastMap[page]) {
                // most likely accesses under way that found the page unmapped and go to the kernel:
                // not mapped now; the next map (at its next access through the kernel) looks again
                countedAtLastMap[page] = true;
                seenCounted.add(page);
                return false;
            }
            slot = freeSlot(true); // still counted at a later map: a count that stays (a killed access)
            if (slot < 0) {
                if (!holeRefused) {
                    warnNoSlot(page); // a refused hole has its own warning (slotAllocated): no room, not counts
                }
                return false;
            }
            move(page, slot);
        }
        notCounted(page);
        if (!memory.allocated(slot, this::giveBackAll)) {
            // no room for its slot: a free spare allocated already takes the page, or it stays on gRPC
            slot = freeSlot(false);
            if (slot < 0) {
                return false;
            }
            move(page, slot);
        }
        buffer.put(data(slot), p.data, 0, pageSize);
        int bits = write ? ShmLayout.MAPPED_READ | ShmLayout.MAPPED_WRITE : ShmLayout.MAPPED_READ;
        if (!INT.compareAndSet(buffer, ShmLayout.pageCtl(slot), 0, bits)) {
            return false; // an access started meanwhile (it finds the page unmapped and asks the kernel)
        }
        mapped[page] = write ? WRITE : READ;
        // its slot, if kept or due, was still allocated: mapped with no write of zeros. Only now,
        // once mapped: a page whose map fails keeps its slot in the pool or due (review F2)
        pool.back(page);
        return true;
    }

    /**
     * Moves page {@code page} out of its slot (which counted accesses at two maps in a row, or
     * could not be allocated) into {@code slot}, free and allocated with nothing counted; publishes
     * the new slot before the page is mapped there. The old slot drains: it is free again once
     * nothing is counted in it.
     */
    private void move(int page, int slot) {
        draining.add(slotOf[page]);
        slotOf[page] = slot;
        INT.setVolatile(buffer, ShmLayout.pageCtl(page) + ShmLayout.PAGE_SLOT, slot == page ? 0 : slot + 1);
        moves++;
    }

    /**
     * Once per object: a page whose slot counts accesses at two maps in a row finds no spare free
     * (each counts accesses; a free spare that is a hole and cannot be allocated for want of room
     * is not this case: {@link SlotMemory} warns of that).
     */
    private void warnNoSlot(int page) {
        if (!warnedNoSlot) {
            warnedNoSlot = true;
            log.warn("memory object {}: page {} cannot be mapped to task processes now: accesses were counted "
                    + "in its slot in {} at two of its maps in a row, and none of the {} spare slots is free "
                    + "(each holds a page moved there or still counts accesses: task processes killed inside an "
                    + "access, one writing the file, or, under heavy contention, accesses under way); such pages "
                    + "go through the kernel until a slot drains; no further warning for this object", objectId, page, file,
                    memory.slotCount() - mapped.length);
        }
    }

    /**
     * A free slot with nothing counted in it whose bytes are allocated, or -1; drained slots become
     * free first. One already allocated is preferred; with {@code allocate}, else one hole (or
     * refused slot) is allocated now if it can be. A slot that cannot be stays free (review S2),
     * and {@link #holeRefused} says so: -1 then means no room, not slots that still count accesses.
     */
    private int freeSlot(boolean allocate) {
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
            if (memory.allocated(hole, this::giveBackAll)) {
                free.remove(hole);
                return hole;
            }
            holeRefused = true;
        }
        return -1;
    }

    /**
     * Takes the page back from task processes: no access starts after this, and the bytes every
     * finished write left are in {@code p.data}, except at {@code keep} words (offsets in the page
     * of words the core owns, futex words, whose bytes in {@code p.data} stay as they are).
     * Returns whether a task wrote the page. Only a page the kernel itself mapped writable gives
     * its slot's bytes back, whatever the ctl word says.
     */
    public boolean take(VmPage p, int[] keep) {
        int page = index(p);
        byte was = mapped[page];
        mapped[page] = NONE;
        int slot = slotOf[page];
        int s = unmapped(slot);
        if (was != WRITE) {
            return false;
        }
        int base = data(slot);
        byte[] before = p.data.clone();
        if ((s & ShmLayout.ACCESSES) == 0) {
            buffer.get(base, p.data, 0, pageSize);
        } else {
            long mask = poison();
            for (int w = 0; w < pageSize; w += 8) {
                long v = (long) WORD64.getAndBitwiseXor(buffer, base + w, mask);
                BYTES64.set(p.data, w, v);
            }
        }
        for (int word : keep) {
            System.arraycopy(before, word, p.data, word, 4);
        }
        return !java.util.Arrays.equals(before, p.data);
    }

    /**
     * Clears the mapped bits of slot {@code slot}'s ctl word in one CAS (no access starts after
     * it); returns the ctl word that CAS replaced (or found without mapped bits), whose count says
     * whether accesses were under way.
     */
    private int unmapped(int slot) {
        int at = ShmLayout.pageCtl(slot);
        int s;
        do {
            s = (int) INT.getVolatile(buffer, at);
        } while ((s & ~ShmLayout.ACCESSES) != 0 && !INT.compareAndSet(buffer, at, s, s & ShmLayout.ACCESSES));
        return s;
    }

    /** Once per object: a page with a futex outside the shared table stays off task processes. */
    private void warnOutOfTable(int page) {
        if (!warnedOutOfTable) {
            warnedOutOfTable = true;
            log.warn("memory object {}: its shared futex table is full, so futexes made since live in the kernel's "
                    + "heap, where task processes cannot see them; pages holding one (page {} first) are not mapped "
                    + "to task processes, whose accesses to them go through the kernel; no further warning for this "
                    + "object", objectId, page);
        }
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

    /** How many slots are allocated in the file now. Any thread. */
    public int allocatedSlots() {
        return memory.allocatedSlots();
    }

    /**
     * Core thread, after the page left the kernel for good (its mapping taken back): the memory
     * of the slot it is in ({@link #slotOf}: its own, or the spare it moved to; never the slot of
     * its page number, which may hold another page, mapped) goes back to the file's directory. With
     * {@code handedAway} (given away with a futex, flushed by a lock_request: it may well come
     * back soon) the slot is kept allocated for its return, in the object's pool of
     * {@link #KEPT_SLOTS}, and only the pool's oldest is punched when it is over its bound; else
     * (evicted, returned at a terminate, forgotten) it is punched now. Either way a slot with an
     * access counted (from before the take: it may still load or CAS there; one that counts
     * itself later finds the slot unmapped and touches nothing) is punched only once nothing is:
     * it is tried again at each later release and lease renewal ({@link #punchDue}). Also for a
     * page away whose slot is kept, released again as not handed away (forgotten): due now.
     */
    public void release(VmPage p, boolean handedAway) {
        int page = index(p);
        int slot = slotOf[page];
        notCounted(page); // a count seen before the page left does not count at its return
        if (mapped[page] == NONE && memory.allocated(slot)) {
            pool.released(page, handedAway);
        }
        pool.settle();
    }

    /** Page {@code page}'s mark in {@link #countedAtLastMap} is cleared. */
    private void notCounted(int page) {
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
    public void renewed() {
        for (java.util.Iterator<Integer> it = seenCounted.iterator(); it.hasNext(); ) {
            int page = it.next();
            if (((int) INT.getVolatile(buffer, ShmLayout.pageCtl(slotOf[page])) & ShmLayout.ACCESSES) == 0) {
                countedAtLastMap[page] = false;
                it.remove();
            }
        }
    }

    /**
     * Core thread: page {@code p} is resident here again (supplied or granted), not yet mapped: a
     * slot kept for it counts as the resident page's, not as kept (SharedMemory#capKept).
     */
    public void arrived(VmPage p) {
        pool.arrived(index(p));
    }

    /**
     * Core thread: punches the slot of each page due whose slot counts no access now; the others
     * stay due. At each release here, and at each lease renewal for every page file of the session
     * ({@link SharedMemory#punchDue}), so a slot whose count drained is punched also in an object
     * that releases nothing more (review F1).
     */
    public void punchDue() {
        pool.punchDue();
    }

    /**
     * Core thread: every kept slot is due now, and punched if nothing is counted there (the others
     * once their count drained). At a terminate of the object, when its pages may not be cached
     * any more (PageCache.returnAll), and at a refusal for want of room. Whether one was punched.
     */
    public boolean giveBackAll() {
        return pool.giveBackAll();
    }

    /**
     * Punches the slot of page {@code page}, away, unless an access is counted there (false: try
     * later). True also when there is nothing to punch (no whole OS page in the slot: it keeps its
     * memory, as before). An access that counts itself between the check and the madvise touches
     * nothing: the slot has no mapped bits, and a task process loads or CASes in a slot only after
     * it saw mapped bits at its count (SharedWords; review S4).
     */
    private boolean punched(int page) {
        int slot = slotOf[page];
        if (mapped[page] != NONE || !memory.allocated(slot)) {
            return true;
        }
        if (((int) INT.getVolatile(buffer, ShmLayout.pageCtl(slot)) & ShmLayout.ACCESSES) != 0) {
            return false;
        }
        memory.punch(slot);
        return true;
    }

    /** Holes punched so far. Core thread (tests: a page handed away and back punches nothing). */
    int punches() {
        return memory.punches();
    }

    /** Slots allocated so far (writes of zeros). Core thread (tests). */
    int allocations() {
        return memory.allocations();
    }

    /** How many slots are kept for pages handed away, and how many wait to be punched. Core thread (tests). */
    int kept() {
        return pool.kept();
    }

    int due() {
        return pool.due();
    }

    /** How many times a page moved to another slot: accesses still counted in its own, or no room for it. Core thread. */
    public int moves() {
        return moves;
    }

    /** The session ended: the channel used to allocate slots is closed (the mapping stays until GC). */
    void close() {
        memory.close();
    }

    private int index(VmPage p) {
        return (int) (p.pageOffset / pageSize);
    }
}
