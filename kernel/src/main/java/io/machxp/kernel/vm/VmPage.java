package io.machxp.kernel.vm;

import io.machxp.kernel.futex.FutexEntry;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One page of a memory object as this kernel sees it: whether it is resident and with which
 * access (Mach's {@code page_lock}), the request outstanding to the pager ({@code unlock_request}),
 * the faults waiting for access, and the futexes the kernel tracks in it. The slot exists from
 * the first touch on and outlives residency, so a futex keeps its state while the pager has the
 * page elsewhere.
 *
 * <h2>Overview</h2>
 * <pre>
 *   ABSENT --data_supply / data_unavailable (lock_value WRITE)--> READ
 *   ABSENT --data_supply / data_unavailable (lock_value NONE)---> READ_WRITE
 *   READ   --data_unlock ... lock_request(lock_value NONE)------> READ_WRITE
 *   READ_WRITE --lock_request(lock_value WRITE)-----------------> READ    (dirty data returned)
 *   any    --lock_request(flush), eviction, piggyback release---> ABSENT  (dirty data returned)
 * </pre>
 * Core thread only, except {@link #futexIfPresent}, which the futex fast path calls from any
 * thread, and {@link #readMapped} / {@link #writeMapped}, the memory fast path of in-process
 * tasks while the core keeps the page {@link #mapping mapped}.
 */
public final class VmPage {
    /** The access this kernel has to a page; a page is resident iff access != NONE. */
    public enum Access {
        NONE, READ, READ_WRITE;

        public boolean covers(Access wanted) {
            return compareTo(wanted) >= 0;
        }
    }

    /** Its words ({@link PageContents}): every atomic access mode on every JDK. */
    private static final VarHandle WORD = PageContents.WORDS;

    public final int objectId;
    public final long pageOffset;
    public final int size;
    /**
     * The contents while resident, else null: little-endian 8-byte words ({@link PageContents}). Futex
     * words of live futexes are in their entries.
     */
    public long[] data;
    public Access access = Access.NONE;
    /** Written since the pager last got the contents. */
    public boolean dirty;
    /** Supplied precious (XP spec 6.10): given back with its data, never dropped silently. */
    public boolean precious;
    /**
     * The pager's version of the contents as of the last exchange: the version supplied, or the one
     * this kernel gave its last dirty return (one more). Dirty data is newer than it.
     */
    public long version;
    /**
     * Contents came from the pager at a version newer than this kernel's last exchange of the page
     * since its held futexes last took their words from the bytes: another kernel wrote the page
     * meanwhile, and a held futex's word that differs there was written by a task (kept), not left
     * stale. Unversioned pages (version 0) never set it.
     */
    public boolean newerElsewhere;
    /** The access asked for with data_request / data_unlock and not yet given; NONE if none. */
    public Access requested = Access.NONE;
    /** Core write sequence of the last change to the contents (for piggybacked releases). */
    public long lastWrite;
    /** The page's direct mapping into in-process tasks; the core takes it back before touching {@link #data}. */
    public final PageMapping mapping = new PageMapping();
    /** Requests waiting for this page, in arrival order, with the access each needs. */
    public final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    /** Its futexes, one slot per futex ({@link PageFutexTable}); replaced whole when one is added. */
    private volatile PageFutexTable futexes = PageFutexTable.EMPTY;

    /** A fault parked on this page until the kernel has {@code access}. */
    public record Waiting(Access access, PageFault fault) {}

    /** Where its futexes' states live when the kernel shares them with task processes; null: the heap. */
    private final io.machxp.kernel.shm.SharedFutexTable sharedFutexes;
    /** Its slot for task processes on this host, or null if the kernel shares no pages of the object. */
    public final io.machxp.kernel.shm.SharedPages sharedPages;
    /** A task process wrote the page before the core took it back outside an unmap (core only). */
    public boolean sharedWritten;
    /**
     * It holds a futex whose state task processes cannot find (the object's shared table was full
     * when the futex was made): they would take its word for a plain one, so the page is never
     * mapped to them again (core only; SharedPages).
     */
    private boolean futexesOutOfTable;

    public VmPage(int objectId, long pageOffset, int size) {
        this(objectId, pageOffset, size, null, null);
    }

    public VmPage(int objectId, long pageOffset, int size, io.machxp.kernel.shm.SharedFutexTable sharedFutexes,
            io.machxp.kernel.shm.SharedPages sharedPages) {
        this.objectId = objectId;
        this.pageOffset = pageOffset;
        this.size = size;
        this.sharedFutexes = sharedFutexes;
        this.sharedPages = sharedPages;
    }

    /** Offsets in the page of the futex words the kernel tracks (the core's, never a task's copy). */
    public int[] futexWords() {
        return futexes.offsets();
    }

    /** How many futexes the page tracks: the slots its table has. */
    public int futexCount() {
        return futexes.size();
    }

    public boolean resident() {
        return access != Access.NONE;
    }

    /** The futex for the word at {@code offsetInPage} (4-aligned), or null if none yet. Any thread. */
    public FutexEntry futexIfPresent(int offsetInPage) {
        return futexes.get(offsetInPage >>> 2);
    }

    /** Core thread only: the futex for the word, created (ABSENT) on first use. */
    public FutexEntry futex(int offsetInPage) {
        FutexEntry e = futexes.get(offsetInPage >>> 2);
        if (e == null) {
            takeMapping(); // from now on the word is the futex's: no mapped write may touch it
            if (sharedPages != null && resident() && sharedPages.take(this, futexWords())) {
                sharedWritten = true; // counted as the page's change at the core's next unmap
            }
            e = sharedFutexes == null ? new FutexEntry(this, offsetInPage) : sharedFutexes.entry(this, offsetInPage);
            futexesOutOfTable |= !e.inSharedTable(); // taken back above: not mapped to task processes again
            futexes = futexes.with(offsetInPage >>> 2, e);
        }
        return e;
    }

    /**
     * Core thread only: whether a futex of the page lives outside the shared table, in the heap,
     * where task processes do not look before they read or write a word as plain memory.
     */
    public boolean futexesOutOfTable() {
        return futexesOutOfTable;
    }

    /**
     * Core thread only: takes the page back from in-process tasks ({@link PageMapping}), without
     * waiting for accesses under way; {@link #data} is then the page's bytes with every write
     * that landed, and no access changes it any more.
     */
    public void takeMapping() {
        data = mapping.take(data);
    }

    /**
     * Core thread only: maps the resident page to in-process tasks with its access; false, and
     * nothing mapped, while accesses from before the last take are under way.
     */
    public boolean mapInProcess() {
        return mapping.map(access, data);
    }

    /**
     * Any thread: copies {@code length} bytes at {@code from} out of the page through its mapping.
     * False, and what was copied not to be used, if the page is not mapped readable, the core took
     * it back during the copy, {@code valid} says after the copy that the caller may no longer use
     * it (the task ended, the kernel's lease ran out: a copy made while the lease ran precedes any
     * other kernel's write), or the range holds the word of a futex the kernel tracks (the core
     * reads those: a live futex's word is in its entry). An aligned word of 4 or 8 bytes is read
     * whole.
     */
    public boolean readMapped(int from, byte[] out, int at, int length, BooleanSupplier valid) {
        long[] words = mapping.enter(false);
        if (words == null) {
            return false;
        }
        try {
            if (holdsFutexWord(from, length)) {
                return false;
            }
            if (length == 8 && (from & 7) == 0) {
                PageContents.putLong(out, at, (long) WORD.getOpaque(words, from >>> 3));
            } else if (length == 4 && (from & 3) == 0) { // its half of the 8-byte word, loaded whole
                PageContents.putInt(out, at, (int) ((long) WORD.getOpaque(words, from >>> 3) >>> ((from & 4) << 3)));
            } else {
                PageContents.copyOut(words, from, out, at, length);
            }
            return valid.getAsBoolean() && mapping.stillMapped(false); // loaded before the lease's end and any take, or refused
        } finally {
            mapping.exit();
        }
    }

    /**
     * Any thread: writes {@code length} bytes of {@code in} into the page at {@code from} through
     * its mapping, as one CAS of the aligned 8-byte word they lie in ({@link PageMapping}): the
     * write is in the page before the core takes it back, or refused. False, and nothing written,
     * if the page is not mapped writable, the core took it back, {@code valid} says no before the
     * CAS (the task ended, the kernel's lease ran out: no write lands after the pager may have
     * given the page to another kernel), the range holds a futex word (only the futex calls change
     * those), or it is not inside one aligned 8-byte word (the core writes those).
     */
    public boolean writeMapped(int from, byte[] in, int at, int length, BooleanSupplier valid) {
        int word = from >>> 3;
        if (length <= 0 || (from + length - 1) >>> 3 != word) {
            return false;
        }
        long[] words = mapping.enter(true);
        if (words == null) {
            return false;
        }
        try {
            if (holdsFutexWord(from, length)) {
                return false;
            }
            while (true) {
                long v = (long) WORD.getVolatile(words, word);
                if (!mapping.stillMapped(true)) {
                    return false; // taken back: v may be a flipped word; the core does the write
                }
                if (!valid.getAsBoolean()) {
                    return false; // the task ended or the lease ran out: the core decides
                }
                mapping.writing(); // before the CAS: a take that keeps the write sees it
                if (WORD.compareAndSet(words, word, v, merge(v, in, at, from & 7, length))) {
                    return true;
                }
            }
        } finally {
            mapping.exit();
        }
    }

    /** {@code v} (a little-endian word) with bytes {@code shift..shift+length} replaced by {@code in[at..]}. */
    private static long merge(long v, byte[] in, int at, int shift, int length) {
        for (int i = 0; i < length; i++) {
            int bit = (shift + i) * 8;
            v = (v & ~(0xFFL << bit)) | ((in[at + i] & 0xFFL) << bit);
        }
        return v;
    }

    private boolean holdsFutexWord(int from, int length) {
        return futexes.anyIn(from >>> 2, (from + length - 1) >>> 2);
    }

    /** Core thread only: every futex tracked in this page. */
    public void forEachFutex(Consumer<FutexEntry> action) {
        futexes.forEach(action);
    }

    @Override
    public String toString() {
        return "page 0x" + Long.toHexString(pageOffset) + "[" + access + (dirty ? " dirty" : "")
                + (requested != Access.NONE ? " asked " + requested : "") + " waiting=" + waiting.size() + "]";
    }
}
