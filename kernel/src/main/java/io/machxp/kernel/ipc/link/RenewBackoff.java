package io.machxp.kernel.ipc.link;

/**
 * How often a kernel may renew its IPC session while alive ({@link IpcLinks}, "refused"): the
 * first renewal goes at once; each one within {@link #QUIET_LEASES} leases of the one before
 * doubles the wait for the next (2, 4, 8 ... leases, at most {@code 2^MAX_DOUBLINGS}); a quiet
 * spell of that length starts over. A peer that keeps refusing this kernel as silent (a bad link,
 * a misbehaving member) costs it at most one renewal per wait, not one per lease.
 * <pre>
 *  idle --renew--> streak 1 (next after 2 leases) --renew within the quiet spell--> streak n+1
 *  a refusal before the wait is over: held back (the probe chain asks again a lease later)
 *  a renewal counts once it happens: not one that {@link LinkSessions#renew} drops (this kernel
 *  closing, left, renewing already, or its session changed before the renewal's core task)
 * </pre>
 * Not thread-safe: {@link IpcLinks} calls it under its lock.
 */
final class RenewBackoff {
    static final int MAX_DOUBLINGS = 6;
    static final long QUIET_LEASES = 2L << MAX_DOUBLINGS;
    private boolean renewed;
    private long last;
    private int streak;

    /** Whether a renewal may go at {@code nowNanos} with a lease of {@code leaseNanos}; if so it is counted. */
    boolean tryRenew(long nowNanos, long leaseNanos) {
        if (!mayRenew(nowNanos, leaseNanos)) {
            return false;
        }
        renewed(nowNanos, leaseNanos);
        return true;
    }

    /** Whether a renewal may go at {@code nowNanos} with a lease of {@code leaseNanos}; nothing is counted. */
    boolean mayRenew(long nowNanos, long leaseNanos) {
        return !renewed || nowNanos - last >= waitNanos(leaseNanos);
    }

    /**
     * A renewal decided at {@code nowNanos} happened: counted (only then, so that one dropped on
     * the way does not hold back the next; review 2 N5).
     */
    void renewed(long nowNanos, long leaseNanos) {
        streak = renewed && nowNanos - last < QUIET_LEASES * leaseNanos ? streak + 1 : 1;
        renewed = true;
        last = nowNanos;
    }

    /** How long after the last renewal the next may go. */
    long waitNanos(long leaseNanos) {
        return renewed ? leaseNanos << Math.min(streak, MAX_DOUBLINGS) : 0;
    }

    /** Renewals in the current streak. */
    int streak() {
        return streak;
    }
}
