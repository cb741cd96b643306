package io.machxp.kernel.shm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.BooleanSupplier;

/**
 * The memory behind one page file's slots: whether each slot's bytes are allocated in the file,
 * the zeros written to allocate one, the holes punched to give one back, and the retries of slots
 * the file system refused for want of room. Which page is in which slot is {@link PageSlots}',
 * when a slot may be punched {@link SharedPages}'; this class only keeps the file's memory. Core thread only,
 * except {@link #allocatedSlots()}.
 *
 * <h2>Overview</h2>
 * <pre>
 *   HOLE      --allocate: zeros written-------------------------------------------> ALLOCATED
 *   ALLOCATED --punch (one madvise; a slot with no whole OS page keeps its memory)--> HOLE
 *   HOLE      --allocate, no room, even after the caller gave its kept slots back--> REFUSED
 *   REFUSED   --asked again: tried once after a punch of this file since its last
 *               try (one such try per back-off), or at the back-off's end (the 16th
 *               call, then the 32nd, ... up to every 4,096th); room now-----------> ALLOCATED
 * </pre>
 * A try after a punch that fails again leaves the back-off as it was; one at the back-off's end
 * doubles it (review S2: before, a refused slot stayed refused for the session). A refusal is
 * warned once per file, and a slot allocated again after one is said once.
 */
final class SlotMemory {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SharedPages.class);
    private static final int ALLOCATED = 1;
    private static final int REFUSED = 2;
    private static final int FIRST_BACK_OFF = 16;
    private static final int LAST_BACK_OFF = 4096;

    /** The tests' seam for a slot's allocation (SharedMemory's refusal); throws to refuse it. */
    interface Refusal {
        void check(Path slot) throws IOException;
    }

    /**
     * A refused slot's next try: once after a punch of this file since its last try
     * ({@code punchesAt}; one such try per back-off, {@code punchTried}), or at the
     * {@code backOff}th call since the last try of the back-off ({@code skipped}).
     */
    private static final class Retry {
        int punchesAt;
        boolean punchTried;
        int skipped;
        int backOff = FIRST_BACK_OFF / 2;
    }

    private final Path file;
    private final ByteBuffer buffer;
    private final int pageSize;
    private final long dataStart;
    private final int objectId;
    private final Refusal refusal;
    private final FileChannel channel;
    /** Whether each slot is allocated (ALLOCATED), could not be at its last try (REFUSED), or is a hole (0). */
    private final int[] slots;
    /** The refused slots' retries: when each is tried again. */
    private final java.util.Map<Integer, Retry> refused = new java.util.HashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger allocatedSlots = new java.util.concurrent.atomic.AtomicInteger();
    /** Holes punched so far (a refused slot is tried again after one) and slots allocated (zeros written). */
    private int punches;
    private int allocations;
    private boolean warned;
    private boolean warnedRoomAgain;

    SlotMemory(Path file, ByteBuffer buffer, int pageSize, int slotCount, long dataStart, int objectId,
            Refusal refusal) throws IOException {
        this.file = file;
        this.buffer = buffer;
        this.pageSize = pageSize;
        this.dataStart = dataStart;
        this.objectId = objectId;
        this.refusal = refusal;
        this.slots = new int[slotCount];
        this.channel = FileChannel.open(file, StandardOpenOption.WRITE);
    }

    /** How many slots the file has: one per page and the spares. */
    int slotCount() {
        return slots.length;
    }

    /** Whether slot {@code slot}'s bytes are allocated now. */
    boolean allocated(int slot) {
        return slots[slot] == ALLOCATED;
    }

    /**
     * Allocates slot {@code slot} if it is a hole: a positional write of zeros (on a tmpfs a memory
     * operation, no disk). This runs on the core thread, where pages are mapped; the slot is one
     * page, so it is as cheap as the copy that follows. With no room, {@code giveBack} frees what
     * the caller keeps (its kept slots; true if it punched any) and it is tried once more; then
     * false: the slot is REFUSED and tried again only as the overview says.
     */
    boolean allocated(int slot, BooleanSupplier giveBack) {
        int s = slots[slot];
        if (s == ALLOCATED) {
            return true;
        }
        Retry retry = s == REFUSED ? refused.get(slot) : null;
        boolean backedOff = true; // a hole never refused: tried now, and a back-off starts if it is refused
        if (retry != null) {
            backedOff = ++retry.skipped >= retry.backOff;
            boolean roomFreed = !retry.punchTried && retry.punchesAt != punches;
            if (!backedOff && !roomFreed) {
                return false; // no room at its last try, and none freed here since (or tried once since)
            }
        }
        Exception refusedWith = allocate(slot);
        if (refusedWith != null && giveBack.getAsBoolean()) {
            refusedWith = allocate(slot); // the kept slots' memory went back: once more
        }
        if (refusedWith == null) {
            if (refused.remove(slot) != null && !warnedRoomAgain) {
                warnedRoomAgain = true;
                log.info("memory object {}: slot {} in {} refused before is allocated now; refused slots are "
                        + "tried again after room is freed or after a while", objectId, slot, file);
            }
            return true;
        }
        slots[slot] = REFUSED;
        Retry r = refused.computeIfAbsent(slot, k -> new Retry());
        r.punchesAt = punches;
        if (backedOff) {
            r.skipped = 0;
            r.backOff = Math.min(r.backOff * 2, LAST_BACK_OFF);
            r.punchTried = false; // the next punch of this file allows one try again
        } else {
            r.punchTried = true; // the room a punch freed was not enough: the back-off goes on as it was
        }
        if (!warned) {
            warned = true;
            log.warn("cannot allocate slot {} of memory object {} in {} ({}); pages without a slot go through "
                    + "gRPC (give {} more room) and their slots are tried again later; no further warning for this "
                    + "object", slot, objectId, file, refusedWith.toString(), file.getParent());
        }
        return false;
    }

    /** Writes zeros over slot {@code slot}: null if it is allocated now, or why not (no room). */
    private Exception allocate(int slot) {
        try {
            refusal.check(Path.of(file + "@" + slot));
            SharedMemory.writeZeros(channel, dataStart + (long) slot * pageSize, pageSize);
        } catch (IOException | RuntimeException e) {
            return e;
        }
        slots[slot] = ALLOCATED;
        allocatedSlots.incrementAndGet();
        allocations++;
        return null;
    }

    /**
     * Gives allocated slot {@code slot}'s memory back (a hole: one madvise), if it has a whole OS
     * page; the caller has checked that no page is mapped there and no access is counted.
     */
    void punch(int slot) {
        if (Holes.punch(buffer, dataStart + (long) slot * pageSize, pageSize)) {
            slots[slot] = 0;
            allocatedSlots.decrementAndGet();
            punches++;
        }
    }

    /** How many slots are allocated in the file now. Any thread. */
    int allocatedSlots() {
        return allocatedSlots.get();
    }

    /** Holes punched so far. */
    int punches() {
        return punches;
    }

    /** Slots allocated so far (writes of zeros). */
    int allocations() {
        return allocations;
    }

    /** The session ended: the channel used to allocate slots is closed (the mapping stays until GC). */
    void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing more is allocated through it
        }
    }
}
