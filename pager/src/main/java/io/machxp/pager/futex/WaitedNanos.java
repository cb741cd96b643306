package io.machxp.pager.futex;

/**
 * lock_futex.waited_nanos (uint64) on the pager's clock (docs/xp-spec.md 8.6): when the kernel's
 * top waiter began waiting. A wait is taken as at most {@link #MAX} (2^62 ns, some 146 years):
 * longer ones, 2^63 and more read as uint64 included, saturate there instead of wrapping, so that
 * a waiter that says it has waited "for ever" is told on as the longest waiter, never as one that
 * just began (before, 2^63-1 overflowed to 0 and 2^63 and more counted as 0).
 */
public final class WaitedNanos {
    /** The longest wait the pager counts. */
    public static final long MAX = 1L << 62;

    private WaitedNanos() {}

    /** When the top waiter began waiting, at {@code now}: now less what it said (saturated), or now if it said nothing. */
    public static long since(long now, boolean said, long waitedNanos) {
        if (!said) {
            return now;
        }
        long waited = Long.compareUnsigned(waitedNanos, MAX) > 0 ? MAX : waitedNanos;
        long since = now - waited;
        // never past the clock's start, nor one of FutexQueue's markers (UNKNOWN, KEEP)
        return since > now || since <= FutexQueue.KEEP ? FutexQueue.KEEP + 1 : since;
    }
}
