package io.machxp.kernel.vm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The direct mapping of one resident page into the tasks of this kernel: the memory counterpart
 * of the futex fast path. While the core keeps the page mapped, an in-process task's
 * {@code vm_read} / {@code vm_write} inside the page is a copy on the caller's thread, as a load
 * or store to mapped memory is on hardware; the core is not involved. The protocol is the one of
 * pages mapped to task processes ({@link io.machxp.kernel.shm.SharedPages}, docs/shared-memory.md):
 * nobody waits, the core least of all.
 *
 * <h2>Overview</h2>
 * <pre>
 *   UNMAPPED --map (no access under way), core-------------------------------> MAPPED
 *   MAPPED   --enter / exit (an access under way, counted), any thread
 *   MAPPED   --take, core: mapped bits cleared in one atomic and------------> UNMAPPED
 *              no access under way: the words are the page's as they are
 *              accesses under way:  every word flipped by an atomic xor; the
 *                                   old values are the page's (a fresh array)
 *   UNMAPPED --map while accesses from before the take are under way: refused (stays UNMAPPED)
 * </pre>
 * The core takes the mapping back before it touches the page's bytes or lowers its access, as a
 * kernel shoots down a TLB entry, and maps it again when it next serves an access to the page.
 * An access checks, after it loaded, that the page is still mapped: a read the take overtook is
 * refused (the caller asks the core); a write is one CAS of the aligned 8-byte word it lies in,
 * from the value it loaded. The CAS either lands before the take's flip of that word (the flip
 * hands its value to the core: the write is in the page before it leaves) or fails, and the check
 * after the reload sees the page unmapped (the write is refused to the caller). It is never
 * applied after. The one race this does not decide is another write, between a load and the
 * flip, of exactly the loaded value xor the random mask: odds of 2^-62 per such race.
 *
 * <p>A write sets {@link #takeWritten() written} before its CAS, so a take that keeps it also
 * sees the flag, which the core folds into the page's dirty state. One int holds the state: the
 * mapped access in two bits, the number of accesses under way below.
 */
public final class PageMapping {
    private static final int READ = 1 << 30;
    private static final int WRITE = 1 << 29;
    private static final int ACCESSES = WRITE - 1;
    private static final VarHandle STATE;
    /** The page's words ({@link PageContents}): every atomic mode on every JDK, unlike a byte-array view since JDK 22. */
    private static final VarHandle WORD = PageContents.WORDS;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(PageMapping.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through STATE
    private volatile int state;
    /** The words accesses use while mapped: the page's, set by {@link #map} only with no access under way. */
    private volatile long[] words;
    private volatile boolean written;

    /**
     * Core only: lets accesses that need at most {@code access} to {@code data} (the page's words, {@link PageContents})
     * run without the core. False, and nothing mapped, while an access from before the last take
     * is under way: the page stays unmapped until the core maps it again after they ended. A
     * mapped page only gains access here; the core takes the mapping before it lowers the access.
     */
    boolean map(VmPage.Access access, long[] data) {
        int bits = switch (access) {
            case NONE -> 0;
            case READ -> READ;
            case READ_WRITE -> READ | WRITE;
        };
        while (true) {
            int s = state;
            if ((s & ~ACCESSES) == 0) {
                if (s != 0) {
                    return false; // accesses from before the last take are under way
                }
                words = data; // no access can see it before the CAS below publishes it
            }
            if (STATE.compareAndSet(this, s, s | bits)) { // only adds access: lowering it is a take
                return true;
            }
        }
    }

    /**
     * Core only: takes the mapping back, without waiting. No access starts after this, and none
     * under way can change the words it returns: {@code data} itself if no write access was under
     * way, else a fresh array with every write that landed (the caller makes it the page's words).
     */
    long[] take(long[] data) {
        int s = (int) STATE.getAndBitwiseAnd(this, ACCESSES);
        if ((s & WRITE) == 0 || (s & ACCESSES) == 0 || data == null) {
            return data; // no write can land after this: readers check the state after they load
        }
        long mask = poison();
        long[] kept = new long[data.length];
        for (int w = 0; w < data.length; w++) {
            kept[w] = (long) WORD.getAndBitwiseXor(data, w, mask);
        }
        return kept;
    }

    /** A flip for every word: random, so no value a task can plan on; both halves non-zero. */
    private static long poison() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return ((long) (r.nextInt(Integer.MAX_VALUE) + 1) << 32) | (r.nextInt(Integer.MAX_VALUE) + 1);
    }

    /** Core only, after {@link #take}: whether a copy wrote the page since the last call. */
    public boolean takeWritten() {
        if (!written) {
            return false;
        }
        written = false;
        return true;
    }

    /** Whether the core maps the page now (for tests and inspection). */
    public boolean mapped() {
        return (state & ~ACCESSES) != 0;
    }

    /** Accesses under way now (for tests and inspection). */
    public int accessesUnderWay() {
        return state & ACCESSES;
    }

    /**
     * Any thread: starts an access if the page is mapped with {@code write} access, and gives the
     * words to access until {@link #exit}; null if not mapped.
     */
    long[] enter(boolean write) {
        int need = write ? WRITE : READ;
        while (true) {
            int s = state;
            if ((s & need) == 0) {
                return null;
            }
            if (STATE.compareAndSet(this, s, s + 1)) {
                return words;
            }
        }
    }

    /**
     * Any thread, inside an access, after its loads: whether the page is still mapped with
     * {@code write} access, so that what it loaded was loaded before any take (as
     * {@code StampedLock.validate}: the loads are ordered before this one).
     */
    boolean stillMapped(boolean write) {
        VarHandle.acquireFence();
        return (state & (write ? WRITE : READ)) != 0;
    }

    /** Any thread, inside an access, before a write's CAS: a take that keeps the write sees the page written. */
    void writing() {
        written = true;
    }

    /** Any thread: ends an access started by {@link #enter}. */
    void exit() {
        STATE.getAndAdd(this, -1);
    }
}
