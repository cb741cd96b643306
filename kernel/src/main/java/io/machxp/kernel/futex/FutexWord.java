package io.machxp.kernel.futex;

/**
 * The futex word and the kernel's cache state of a futex, as one 64-bit value.
 *
 * <pre>
 *  63          34    33     32   31       30          29 ................... 0
 * +-------------+------+------+--------+------------+-----------------------+
 * |   unused    |NOPAGE|ABSENT|WAITERS | OWNER_DIED |      owner TID        |
 * +-------------+------+------+--------+------------+-----------------------+
 *               \_____________/\______________________________________________/
 *                 kernel only       the futex word, Linux PI layout (32 bits)
 * </pre>
 *
 * <p>The low 32 bits are the word tasks see: 0 when free, the owner's TID while held, WAITERS
 * when the owner's unlock must enter the kernel. ABSENT says the kernel does not hold the futex
 * from the pager (never granted, or relinquished). NOPAGE says the kernel holds the futex but not
 * its page with write access (another kernel read or wrote the page): the word may only change
 * once the page is back, so every change goes through the core, which faults the page in first.
 * A futex is <em>live</em> when neither bit is set: then this state is the word's only truth, and
 * the page's bytes at the word are stale until the page leaves (see the kernel's page cache).
 * The two fast-path transitions are the only
 * ones made outside the kernel core, and both compare against an exact value:
 * <pre>
 *   lock:   0   -> TID     (cached here, free, nobody waiting)
 *   unlock: TID -> 0       (no WAITERS: no local waiter, no relinquish pending)
 * </pre>
 * Every other value makes the fast path fail and the request go to the core.
 */
public final class FutexWord {
    /** Set while there are waiters, local or remote: the owner's unlock must enter the kernel. */
    public static final int WAITERS = 0x80000000;
    /** The previous owner died holding the futex (robust futexes). */
    public static final int OWNER_DIED = 0x40000000;
    /** The owner's TID; TIDs are unique across kernels and never 0. */
    public static final int TID_MASK = 0x3fffffff;

    /** The kernel does not hold the futex from the pager; kernel-side bit, never in the word. */
    public static final long ABSENT = 1L << 32;

    /** The kernel holds the futex but not its page with write access; kernel-side bit. */
    public static final long NOPAGE = 1L << 33;

    /** Cached by this kernel and free: the only state the fast-path lock acts on. */
    public static final long FREE = 0L;

    private FutexWord() {}

    public static int word(long state) {
        return (int) state;
    }

    public static int owner(long state) {
        return (int) state & TID_MASK;
    }

    public static boolean isAbsent(long state) {
        return (state & ABSENT) != 0;
    }

    /** Neither ABSENT nor NOPAGE: the kernel holds the futex and may change its word here. */
    public static boolean isLive(long state) {
        return (state & (ABSENT | NOPAGE)) == 0;
    }

    public static boolean isNoPage(long state) {
        return (state & NOPAGE) != 0;
    }

    public static boolean hasWaiters(long state) {
        return ((int) state & WAITERS) != 0;
    }

    /** The state with `tid` as owner and WAITERS as given; never ABSENT. */
    public static long held(int tid, boolean waiters) {
        return (tid & 0xffffffffL) | (waiters ? (WAITERS & 0xffffffffL) : 0L);
    }
}
