package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;
import static io.machxp.proto.shm.ShmLayout.WORD64;

import io.machxp.kernel.vm.PageContents;
import io.machxp.kernel.vm.VmPage;
import io.machxp.proto.shm.ShmLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * One memory object's pages as task processes on this host see them: a file of slots, one per page
 * and some spares (layout and the access protocol: {@link ShmLayout}). While the core maps a
 * resident page here, the page's bytes are in a slot and task processes read and write aligned
 * words there; the core's words ({@code VmPage.data}) are its copy only while the page is not mapped. Core
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
 * how, is its own record ({@link #mapped}, {@link PageSlots#slotOf}), and only a page it mapped writable
 * gives bytes back.
 *
 * <p>The file is sparse: only its header and ctl words are allocated when it is made. A slot is
 * allocated (zeros written at its offset) the first time a page is mapped there, before anything
 * is put there or a task process can be told it is mapped, so a touch of a mapped slot never meets
 * an unallocated tmpfs page (a SIGBUS). A slot that cannot be allocated (no room) is never mapped:
 * its page's words go through gRPC (one warning per object) until it can be ({@link SlotMemory}).
 *
 * <p>A page that leaves the kernel for good ({@link #release}) gives the memory of its slot back:
 * at once (a hole punched as soon as no access is counted there), or, handed away to another
 * kernel, once its slot has waited a while in the object's pool for its return. When, why, and
 * the memory bound that follows: {@link KeptSlotPool}.
 *
 * <p>Nor is a page mapped that holds a futex whose state is not in the object's shared futex table (the table
 * was full, 3/4 of its slots, when the futex was made: its state lives in the kernel's heap). A
 * task process looks a word up in the table to know it is a futex's; it would read and write such
 * a word in the slot as plain memory (a stale owner, writes dropped at the next take).
 */
public final class SharedPages {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SharedPages.class);
    private final Path file;
    private final ByteBuffer buffer;
    private final int pageSize;
    private final long dataStart;
    /** How the kernel mapped each page (NONE, READ, WRITE): its own record, never read from the file. */
    private final byte[] mapped;
    /** Which slot holds each page, the free and draining slots, the moves ({@link PageSlots}). */
    private final PageSlots slots;
    /** The memory behind the slots: allocated, holes, refused slots' retries. */
    private final SlotMemory memory;
    /** How many slots of pages handed away an object keeps allocated for their return ({@link KeptSlotPool}). */
    public static final int KEPT_SLOTS = KeptSlotPool.KEPT_SLOTS;
    /** The slots of pages away that are still allocated: kept for their return, or due to be punched. */
    private final KeptSlotPool pool;
    private final int objectId;
    private boolean warnedOutOfTable;
    private boolean warnedNoSlot;
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
        this.slots = new PageSlots(buffer, memory, this, pages, total);
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
        int slot = slots.slotOf[page];
        mapped[page] = NONE; // also a read-only mapping that becomes writable: nothing in its slot is the page's
        if ((slots.unmapped(slot) & ShmLayout.ACCESSES) != 0) {
            if (!slots.countedAtLastMap[page]) {
                // most likely accesses under way that found the page unmapped and go to the kernel:
                // not mapped now; the next map (at its next access through the kernel) looks again
                slots.countedAtLastMap[page] = true;
                slots.seenCounted.add(page);
                return false;
            }
            slot = slots.freeSlot(true); // still counted at a later map: a count that stays (a killed access)
            if (slot < 0) {
                if (!slots.holeRefused) {
                    warnNoSlot(page); // a refused hole has its own warning (slotAllocated): no room, not counts
                }
                return false;
            }
            slots.move(page, slot);
        }
        slots.notCounted(page);
        if (!memory.allocated(slot, this::giveBackAll)) {
            // no room for its slot: a free spare allocated already takes the page, or it stays on gRPC
            slot = slots.freeSlot(false);
            if (slot < 0) {
                return false;
            }
            slots.move(page, slot);
        }
        PageContents.put(buffer.slice(data(slot), pageSize), p.data);
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
        int slot = slots.slotOf[page];
        int s = slots.unmapped(slot);
        if (was != WRITE) {
            return false;
        }
        int base = data(slot);
        long[] before = p.data.clone();
        if ((s & ShmLayout.ACCESSES) == 0) {
            PageContents.get(buffer.slice(base, pageSize), p.data);
        } else {
            long mask = poison();
            for (int w = 0; w < pageSize; w += 8) {
                p.data[w >>> 3] = (long) WORD64.getAndBitwiseXor(buffer, base + w, mask);
            }
        }
        for (int word : keep) {
            PageContents.putInt(p.data, word, PageContents.getInt(before, word));
        }
        return !java.util.Arrays.equals(before, p.data);
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
     * Any thread (the drain watcher's): a count a dead task process recorded in slot {@code slot}
     * is taken back ({@link PageSlots#uncount}).
     */
    void uncount(int slot) {
        slots.uncount(slot);
    }

    /** How many slots are allocated in the file now. Any thread. */
    public int allocatedSlots() {
        return memory.allocatedSlots();
    }

    /**
     * Core thread, after the page left the kernel for good (its mapping taken back): the memory
     * of the slot it is in ({@link PageSlots#slotOf}: its own, or the spare it moved to; never the slot of
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
        int slot = slots.slotOf[page];
        slots.notCounted(page); // a count seen before the page left does not count at its return
        if (mapped[page] == NONE && memory.allocated(slot)) {
            pool.released(page, handedAway);
        }
        pool.settle();
    }

    /**
     * Core thread, at each lease renewal ({@link SharedMemory#punchDue}): a page seen counted at
     * its last map whose slot counts nothing now loses that mark ({@link PageSlots#renewed}).
     */
    public void renewed() {
        slots.renewed();
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
        int slot = slots.slotOf[page];
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
        return slots.moves();
    }

    /** The session ended: the channel used to allocate slots is closed (the mapping stays until GC). */
    void close() {
        memory.close();
    }

    private int index(VmPage p) {
        return (int) (p.pageOffset / pageSize);
    }
}
