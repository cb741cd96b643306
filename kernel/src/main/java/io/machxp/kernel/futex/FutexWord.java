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
 *
 * <p>Robust futexes (values of the word the core handles):
 * <pre>
 *   OWNER_DIED            free; the last owner died holding it: the next locker gets it with
 *                         EOWNERDEAD and the word TID|OWNER_DIED (inconsistent); WAITERS stays
 *                         with it if the dead owner's word had it ({@link #deadWord})
 *   TID|OWNER_DIED        held, not yet marked consistent: unlocking it as is makes the futex
 *   NOT_RECOVERABLE       ... not recoverable, for good: every lock fails with ENOTRECOVERABLE
 * </pre>
 * These values travel in the page like any word, so a next owner on another kernel sees them.
 */
public final class FutexWord {
    /** Set while there are waiters, local or remote: the owner's unlock must enter the kernel. */
    public static final int WAITERS = 0x80000000;
    /** The previous owner died holding the futex (robust futexes). */
    public static final int OWNER_DIED = 0x40000000;
    /** The owner's TID; TIDs are unique across kernels and never 0. */
    public static final int TID_MASK = 0x3fffffff;

    /** The futex can never be locked again: an owner died and the next did not repair it. */
    public static final int NOT_RECOVERABLE = OWNER_DIED | TID_MASK;

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

    /**
     * The owner's TID, or 0 when nobody holds it (free, free after a death, not recoverable). The
     * TID field all ones is an owner only without OWNER_DIED: TID_MASK is never a thread's TID, so
     * a task wrote it, and lockers get ESRCH as on Linux; with OWNER_DIED it is NOT_RECOVERABLE.
     */
    public static int owner(long state) {
        int tid = (int) state & TID_MASK;
        return tid == TID_MASK && isOwnerDied(state) ? 0 : tid;
    }

    public static boolean isOwnerDied(long state) {
        return ((int) state & OWNER_DIED) != 0;
    }

    public static boolean isNotRecoverable(long state) {
        return ((int) state & ~WAITERS) == NOT_RECOVERABLE;
    }

    /**
     * The word a futex leaves in its page when this kernel gives it up with no thread here owning
     * it: 0 for a free futex (WAITERS dropped), the robust states (free after a death, with
     * WAITERS if the dead owner's word had it, {@link #deadWord}; not recoverable, WAITERS
     * dropped), or a TID no thread has, as it is (a task wrote it: the next locker gets ESRCH, as
     * on Linux).
     */
    public static int releasedWord(long state) {
        int w = (int) state & ~WAITERS;
        return owner(w) != 0 || w == OWNER_DIED ? (int) state : w;
    }

    /**
     * The word a thread's death leaves in a futex it owned, as Linux's handle_futex_death writes
     * it: {@code (word & WAITERS) | OWNER_DIED}. WAITERS stays when it was set with nobody queued
     * any more (a busy trylock, a lock that timed out), and the word reads 0xC0000000 until the
     * next lock, which drops it unless somebody waits (measured on Linux 6.18).
     */
    public static int deadWord(long state) {
        return ((int) state & WAITERS) | OWNER_DIED;
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

    /**
     * The state of a futex this kernel holds and no local thread owns, from the word in its page,
     * without WAITERS: 0 (free), OWNER_DIED (with WAITERS if the dead owner's word had it:
     * {@link #deadWord}), NOT_RECOVERABLE, or a TID with or without OWNER_DIED. A TID there is no
     * thread of this kernel's (a kernel owns the futexes its threads hold) and no death the system
     * saw (a kernel declared dead gives its futexes on with owner_died, recorded in the word
     * first): a task wrote it, and lockers get ESRCH, as on Linux.
     */
    public static int unownedWord(int pageWord) {
        int w = pageWord & ~WAITERS;
        return w == OWNER_DIED ? pageWord : w;
    }


    /** As {@link #held(int, boolean)}, with OWNER_DIED set when the new owner inherits a death. */
    public static long held(int tid, boolean waiters, boolean ownerDied) {
        return held(tid, waiters) | (ownerDied ? OWNER_DIED : 0);
    }
}
