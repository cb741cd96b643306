package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;
import static io.machxp.proto.shm.ShmLayout.WORD64;

import io.machxp.kernel.vm.VmPage;
import io.machxp.proto.shm.ShmLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One memory object's pages as task processes on this host see them: a file with a slot per page
 * (layout and the access protocol: {@link ShmLayout}). While the core maps a resident page here,
 * the page's bytes are in its slot and task processes read and write aligned words there; the
 * core's {@code byte[]} is its copy only while the page is not mapped. Core thread only, except
 * that a released slot is freed on the file thread ({@link #release}).
 *
 * <h2>Overview</h2>
 * <pre>
 *   UNMAPPED --map (no access under way): bytes copied in, MAPPED_READ [| MAPPED_WRITE]--> MAPPED
 *   MAPPED   --take: mapped bits cleared in one CAS; bytes copied out--------------------> UNMAPPED
 *              (accesses under way at that CAS: every word flipped by an atomic xor first;
 *               the page is mapped again only after they have all ended)
 * </pre>
 * Nothing waits: a task's access that the take overtakes fails and goes to the kernel by gRPC.
 * The ctl words and the slots are in a file every task process of the session maps read-write, so
 * the kernel trusts neither: whether a page is mapped, and how, is its own record
 * ({@link #mapped}), and only a page it mapped writable gives bytes back.
 *
 * <p>The file is sparse: only its header and ctl words are allocated when it is made. A page's
 * slot is allocated (zeros written at its offset) the first time the page is mapped, before
 * anything is put there or a task process can be told it is mapped, so a touch of a mapped slot
 * never meets an unallocated tmpfs page (a SIGBUS). A slot that cannot be allocated (no room)
 * is never mapped: that page's words go through gRPC (one warning per object).
 *
 * <p>A page that leaves the kernel for good (evicted, returned, given away: {@link #release})
 * gives its slot's memory back: once no access from before its take is under way, the file
 * thread punches a hole there ({@link Holes}), so the file holds the pages resident now, not
 * every page ever mapped; the slot is allocated again at the page's next map.
 * <pre>
 *   slot: HOLE --first map: zeros written (core)--> ALLOCATED --release (core)--> PUNCHING
 *         PUNCHING --file thread, no access counted: hole punched--> HOLE
 *         PUNCHING --file thread, an access counted (or no hole possible)--> ALLOCATED (kept)
 *         HOLE --no room at a map--> REFUSED (that page on gRPC for good)
 * </pre>
 * A page is not mapped while its slot is PUNCHING: its accesses go to the kernel meanwhile.
 * <p>Nor is a page with a futex whose state is not in the object's shared futex table (the table
 * was full, 3/4 of its slots, when the futex was made: its state lives in the kernel's heap). A
 * task process looks a word up in the table to know it is a futex's; it would read and write such
 * a word in the slot as plain memory (a stale owner, writes dropped at the next take).
 */
public final class SharedPages {
    private static final java.lang.invoke.VarHandle BYTES64 = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private final Path file;
    private final ByteBuffer buffer;
    private final int pageSize;
    private final long dataStart;
    /** How the kernel mapped each page (NONE, READ, WRITE): its own record, never read from the file. */
    private final byte[] mapped;
    /**
     * Whether each page's slot is allocated (ALLOCATED), could not be (REFUSED), is being freed
     * on the file thread (PUNCHING), or is a hole (0): the core's, but the file thread ends a
     * PUNCHING.
     */
    private final java.util.concurrent.atomic.AtomicIntegerArray slots;
    private static final int ALLOCATED = 1;
    private static final int REFUSED = 2;
    private static final int PUNCHING = 3;
    /** The file thread: where slots are freed. */
    private final java.util.concurrent.Executor fileThread;
    private final FileChannel channel;
    private final int objectId;
    private final Refusal refusal;
    private final java.util.concurrent.atomic.AtomicInteger allocatedSlots = new java.util.concurrent.atomic.AtomicInteger();
    private boolean warned;
    private boolean warnedOutOfTable;
    private static final byte NONE = 0;
    private static final byte READ = 1;
    private static final byte WRITE = 2;

    /** The tests' seam for a slot's allocation (SharedMemory's refusal); throws to refuse it. */
    interface Refusal {
        void check(Path slot) throws IOException;
    }

    SharedPages(Path file, ByteBuffer buffer, int pageSize, int pages, int objectId, Refusal refusal,
            java.util.concurrent.Executor fileThread) throws IOException {
        this.fileThread = fileThread;
        this.channel = FileChannel.open(file, StandardOpenOption.WRITE);
        this.objectId = objectId;
        this.refusal = refusal;
        this.slots = new java.util.concurrent.atomic.AtomicIntegerArray(pages);
        this.file = file;
        this.buffer = buffer;
        this.pageSize = pageSize;
        this.dataStart = ShmLayout.pageData(pages, pageSize);
        this.mapped = new byte[pages];
        INT.set(buffer, ShmLayout.PAGE_SIZE, pageSize);
        INT.set(buffer, ShmLayout.PAGE_COUNT, pages);
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

    private int ctl(VmPage p) {
        return ShmLayout.pageCtl((int) (p.pageOffset / pageSize));
    }

    private int data(VmPage p) {
        return (int) (dataStart + p.pageOffset);
    }

    public boolean mapped(VmPage p) {
        return mapped[index(p)] != NONE;
    }

    /**
     * Maps the resident page {@code p} to task processes with its access: its bytes go into the
     * slot. False, and nothing mapped, while an access from before the last take is under way.
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
        if (!slotAllocated(page)) {
            return false; // no room for its slot: the page stays on gRPC
        }
        int at = ctl(p);
        int s = unmapped(page, at); // also a read-only mapping that becomes writable: nothing in its slot is the page's
        if ((s & ShmLayout.ACCESSES) != 0) {
            return false; // accesses from before the last take are still under way
        }
        buffer.put(data(p), p.data, 0, pageSize);
        int bits = write ? ShmLayout.MAPPED_READ | ShmLayout.MAPPED_WRITE : ShmLayout.MAPPED_READ;
        if (!INT.compareAndSet(buffer, at, 0, bits)) {
            return false; // an access started meanwhile (it finds the page unmapped and asks the kernel)
        }
        mapped[page] = write ? WRITE : READ;
        return true;
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
        int s = unmapped(page, ctl(p));
        if (was != WRITE) {
            return false;
        }
        int base = data(p);
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
     * Clears the mapped bits of the ctl word at {@code at} in one CAS (no access starts after it)
     * and records the page unmapped; returns the ctl word that CAS replaced (or found without
     * mapped bits), whose count says whether accesses were under way.
     */
    private int unmapped(int page, int at) {
        mapped[page] = NONE;
        int s;
        do {
            s = (int) INT.getVolatile(buffer, at);
        } while ((s & ~ShmLayout.ACCESSES) != 0 && !INT.compareAndSet(buffer, at, s, s & ShmLayout.ACCESSES));
        return s;
    }

    /**
     * Allocates page {@code page}'s slot on its first map: a positional write of zeros (on a tmpfs a
     * memory operation, no disk). This runs on the core thread, where pages are mapped; the slot is
     * one page, so it is as cheap as the copy that follows. False if it could not be (and never
     * again for this page: it stays on gRPC), with one warning per object.
     */
    private boolean slotAllocated(int page) {
        int s = slots.get(page);
        if (s != 0) {
            return s == ALLOCATED; // PUNCHING: not mapped until the file thread is done with it
        }
        try {
            refusal.check(Path.of(file + "@" + page));
            SharedMemory.writeZeros(channel, dataStart + (long) page * pageSize, pageSize);
            slots.set(page, ALLOCATED);
            allocatedSlots.incrementAndGet();
            return true;
        } catch (IOException | RuntimeException e) {
            slots.set(page, REFUSED);
            if (!warned) {
                warned = true;
                org.slf4j.LoggerFactory.getLogger(SharedPages.class).warn("cannot allocate the slot of page {} of "
                        + "memory object {} in {} ({}); pages without a slot go through gRPC (give {} more room); "
                        + "no further warning for this object", page, objectId, file, e.toString(), file.getParent());
            }
            return false;
        }
    }

    /** Once per object: a page with a futex outside the shared table stays off task processes. */
    private void warnOutOfTable(int page) {
        if (!warnedOutOfTable) {
            warnedOutOfTable = true;
            org.slf4j.LoggerFactory.getLogger(SharedPages.class).warn("memory object {}: its shared futex table "
                    + "is full, so futexes made since live in the kernel's heap, where task processes cannot see "
                    + "them; pages holding one (page {} first) are not mapped to task processes, whose accesses "
                    + "to them go through the kernel; no further warning for this object", objectId, page);
        }
    }

    /** How many pages' slots are allocated in the file now. Any thread. */
    public int allocatedSlots() {
        return allocatedSlots.get();
    }

    /**
     * Core thread, after the page left the kernel for good (evicted, returned, given away; its
     * mapping taken back): its slot's memory goes back to the file's directory, on the file
     * thread, once no task process can touch the slot: an access counted in the page's ctl word
     * from before the take may still load or CAS there (an access that counts itself later finds
     * the page unmapped and touches nothing), so a slot with accesses counted is kept as it is.
     * The page is not mapped again until then; its next map allocates the slot again.
     */
    public void release(VmPage p) {
        int page = index(p);
        if (mapped[page] != NONE || !slots.compareAndSet(page, ALLOCATED, PUNCHING)) {
            return;
        }
        try {
            fileThread.execute(() -> punch(page));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            slots.set(page, ALLOCATED); // the kernel is closing: the whole file goes with the session
        }
    }

    /** File thread: frees a released slot if no access is counted in its page (else keeps it). */
    private void punch(int page) {
        boolean freed = false;
        try {
            freed = ((int) INT.getVolatile(buffer, ShmLayout.pageCtl(page)) & ShmLayout.ACCESSES) == 0
                    && Holes.punch(buffer, dataStart + (long) page * pageSize, pageSize);
        } finally {
            if (freed) {
                allocatedSlots.decrementAndGet();
            }
            slots.set(page, freed ? 0 : ALLOCATED);
        }
    }

    /** The session ended: the channel used to allocate slots is closed (the mapping stays until GC). */
    void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing more is allocated through it
        }
    }

    private int index(VmPage p) {
        return (int) (p.pageOffset / pageSize);
    }
}
