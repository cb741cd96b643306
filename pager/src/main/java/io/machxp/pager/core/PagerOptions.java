package io.machxp.pager.core;

/**
 * How a pager core is configured ({@link PagerCore}): its lease, fencing tokens, the futexes a
 * kernel may hold, the grace period after a restart, the answer deadline, the grant policy, and
 * bugs planted for the chaos checker's tests. Checked when made; the {@code with} methods give a
 * copy with one setting changed.
 *
 * @param leaseNanos a session's lease; 0: none, a session lives as long as its stream
 * @param tokenEpoch the high 31 bits of the fencing tokens this pager hands out; it must grow
 *     from one start of a pager to the next (the boot count, or the start time in seconds)
 * @param maxFutexesPerSession futexes one kernel may hold or wait for at once (each costs the
 *     pager a record); a kernel that asks for more is ended with EAGAIN
 * @param graceNanos after a restart (0: none, the pager starts afresh), how long kernels may
 *     reclaim what they hold while everything else waits; at least the lease, and the leases
 *     the last pager gave, so that every kernel that does not reclaim has stopped by its end
 * @param reclaims whether kernels may reclaim in the grace period; false (a pager whose pages
 *     did not survive) refuses reclaims, and the grace period only waits out the old leases
 * @param plants bugs planted in the core's logic, for tests of the chaos checker only;
 *     {@link PagerPlants#NONE} everywhere else
 * @param firstToken the low half of this start's first token of a futex ({@code tokenEpoch << 32 |
 *     firstToken}), 1 to 2^32-1: a pager whose epoch is its start second starts above the
 *     tokens of an earlier start in the same second ({@link #firstTokenAt})
 * @param answerDeadlineNanos how long the pager waits for a kernel's answer to a lock_request
 *     with reply, or to a relinquish_futex(try), without any answer from it, before it ends that
 *     kernel's session as overdue ({@link AnswerDeadlines}); 0: as long as the session lives.
 *     Off without a lease, whatever it says
 * @param maxFutexRecords futex records the pager keeps at most for all kernels together; 0: four
 *     times {@code maxFutexesPerSession} (PagerFutexes.SESSIONS_AT_THE_BOUND). A lock_futex
 *     that needs one more waits while idle futexes are asked back (FutexParking)
 */
public record PagerOptions(long leaseNanos, long tokenEpoch, int maxFutexesPerSession, long graceNanos,
        boolean reclaims, PagerPlants plants, io.machxp.pager.policy.GrantPolicy grantPolicy, long firstToken,
        long answerDeadlineNanos, int maxFutexRecords) {
    /**
     * 262,144: 2.6 times the 100k cached futexes of the scale benchmark. A held futex costs the
     * pager about 660 bytes (measured), and all sessions together may hold four times this
     * (2^20, about 700 MB): a bound a pager's heap can keep (it was 2^20 per session, which
     * kernels of a few names could push past any heap).
     */
    public static final int DEFAULT_MAX_FUTEXES_PER_SESSION = 1 << 18;
    public static final PagerOptions NO_LEASE = new PagerOptions(0, 1);

    public PagerOptions(long leaseNanos, long tokenEpoch, int maxFutexesPerSession, long graceNanos, boolean reclaims) {
        this(leaseNanos, tokenEpoch, maxFutexesPerSession, graceNanos, reclaims, PagerPlants.NONE,
                io.machxp.pager.policy.GrantPolicy.IMMEDIATE, 1, defaultAnswerDeadlineNanos(leaseNanos), 0);
    }

    /**
     * What a healthy kernel may need, at most, to answer a lock_request, with a lease of
     * {@code leaseNanos} (0 without a lease: no deadline). The sum of: the 10 s the pager lets
     * its message wait unread before it ends a kernel that does not read (the patience of
     * {@link io.machxp.pager.net.UnreadLimits#DEFAULT}; a pager given a longer one by
     * PagerConfig.withUnreadLimits should be given a longer deadline too), the 10 s the kernel
     * lets its answer (and the dirty pages before it) wait for a pager that does not read before
     * it counts its stream stalled (the kernel's XpSendLimits.DEFAULT), its task processes'
     * drain bound (2 s, the kernel's DrainWatcher.BOUND), and two leases for the kernel to
     * notice the stall and resume its session on a new connection, which a replicated pager's
     * failover also fits in: 32 s with the default lease of 5 s. An answer coming in counts it
     * again from there for that request and those sent after it ({@link AnswerDeadlines}), so
     * a long write-back that flows is not bounded by it.
     */
    public static long defaultAnswerDeadlineNanos(long leaseNanos) {
        return leaseNanos == 0 ? 0 : ANSWER_DEADLINE_BASE_NANOS + 2 * leaseNanos;
    }

    /** The part of the default answer deadline that does not grow with the lease: 10 s + 10 s + 2 s. */
    public static final long ANSWER_DEADLINE_BASE_NANOS = 22_000_000_000L;

    /**
     * Why a pager with a lease of {@code leaseNanos} does not take an answer deadline of
     * {@code deadlineNanos} (0: none; any without a lease, where it is off), or null if it
     * does: it must be at least two leases, since a replicated pager's failover and the
     * kernel's resume on the new leader take up to about 1.8 leases before the kernel can send
     * its answer again (docs/replicated-pager.md), and they must not cost a healthy kernel its
     * session.
     */
    public static String answerDeadlineRefusal(long deadlineNanos, long leaseNanos) {
        if (deadlineNanos < 0) {
            return "the answer deadline " + deadlineNanos / 1_000_000 + " ms must not be negative";
        }
        if (deadlineNanos == 0 || leaseNanos == 0 || deadlineNanos >= 2 * leaseNanos) {
            return null;
        }
        return "the answer deadline " + deadlineNanos / 1_000_000 + " ms must be at least two leases (2 x "
                + leaseNanos / 1_000_000 + " ms = " + 2 * leaseNanos / 1_000_000 + " ms): a replicated pager's "
                + "failover and the kernel's resume on the new leader take up to about 1.8 leases before the "
                + "kernel can answer (or zero: no deadline)";
    }

    public PagerOptions {
        if (plants == null || grantPolicy == null) {
            throw new IllegalArgumentException("plants must be PagerPlants.NONE and the grant policy "
                    + "GrantPolicy.IMMEDIATE by default, not null");
        }
        if (leaseNanos < 0 || tokenEpoch < 1 || tokenEpoch >= 1L << 31 || maxFutexesPerSession < 1) {
            throw new IllegalArgumentException("lease must be 0 or more, the token epoch in 1..2^31-1 and the "
                    + "futexes per session 1 or more");
        }
        if (maxFutexRecords < 0) {
            throw new IllegalArgumentException("the futex records for all kernels must be 0 (the default) or more");
        }
        if (answerDeadlineNanos < 0) {
            throw new IllegalArgumentException("the answer deadline must be 0 (none) or more, not "
                    + answerDeadlineNanos + " ns");
        }
        if (firstToken < 1 || firstToken >= 1L << 32) {
            throw new IllegalArgumentException("the first token's low half must be in 1..2^32-1, not " + firstToken);
        }
        if (graceNanos != 0 && graceNanos < leaseNanos) {
            throw new IllegalArgumentException("a grace period must last at least a lease (" + leaseNanos / 1_000_000
                    + " ms): kernels that do not reclaim stop only when their leases run out");
        }
    }

    public PagerOptions(long leaseNanos, long tokenEpoch, int maxFutexesPerSession) {
        this(leaseNanos, tokenEpoch, maxFutexesPerSession, 0, false);
    }

    public PagerOptions(long leaseNanos, long tokenEpoch) {
        this(leaseNanos, tokenEpoch, DEFAULT_MAX_FUTEXES_PER_SESSION);
    }

    /** The same, for a pager that restarted: a grace period of {@code graceNanos} with reclaims. */
    public PagerOptions withGrace(long graceNanos) {
        return withGrace(graceNanos, true);
    }

    /** The same with a grace period of {@code graceNanos}, in which reclaims are taken or refused. */
    public PagerOptions withGrace(long graceNanos, boolean reclaims) {
        return new PagerOptions(leaseNanos, tokenEpoch, maxFutexesPerSession, graceNanos, reclaims, plants, grantPolicy,
                firstToken, answerDeadlineNanos, maxFutexRecords);
    }

    /** The same with bugs planted in the core's logic: for tests of the chaos checker only. */
    public PagerOptions withPlants(PagerPlants value) {
        return new PagerOptions(leaseNanos, tokenEpoch, maxFutexesPerSession, graceNanos, reclaims, value, grantPolicy,
                firstToken, answerDeadlineNanos, maxFutexRecords);
    }

    /** The same with this start's first token at {@code tokenEpoch << 32 | value}. */
    public PagerOptions withFirstToken(long value) {
        return new PagerOptions(leaseNanos, tokenEpoch, maxFutexesPerSession, graceNanos, reclaims, plants, grantPolicy,
                value, answerDeadlineNanos, maxFutexRecords);
    }

    /**
     * The low half of the first token for a pager whose epoch is {@code epoch} and which starts at
     * {@code now}: when the epoch is the second {@code now} falls in ({@code secondOfEpoch}), the
     * milliseconds into that second times 2^22 (plus 1), else 1. An epoch that is the start
     * second repeats when a pager restarts within the second it started in; tokens that start at
     * the millisecond still grow, unless the earlier start granted one futex 2^22 times (about 4
     * million) for each millisecond between the two starts. Tokens so follow the wall clock at
     * about 2^32 a second, as a hybrid logical clock does.
     */
    public static long firstTokenAt(long epoch, long secondOfEpoch, java.time.Instant now) {
        return epoch == secondOfEpoch ? (long) (now.getNano() / 1_000_000) << 22 | 1 : 1;
    }

    /** The same with another answer deadline (0: none; off without a lease anyway). */
    public PagerOptions withAnswerDeadline(long nanos) {
        return new PagerOptions(leaseNanos, tokenEpoch, maxFutexesPerSession, graceNanos, reclaims, plants, grantPolicy,
                firstToken, nanos, maxFutexRecords);
    }

    /** The same with the pager's side of a protocol variant. */
    public PagerOptions withGrantPolicy(io.machxp.pager.policy.GrantPolicy value) {
        return new PagerOptions(leaseNanos, tokenEpoch, maxFutexesPerSession, graceNanos, reclaims, plants, value,
                firstToken, answerDeadlineNanos, maxFutexRecords);
    }

    /**
     * The same with another bound on futex records for all kernels together (0: the default, four
     * sessions at their bound); below it, requests for new futexes wait while idle ones are asked
     * back (simulations that make the bound come into play with a few futexes).
     */
    public PagerOptions withFutexRecords(int value) {
        return new PagerOptions(leaseNanos, tokenEpoch, maxFutexesPerSession, graceNanos, reclaims, plants, grantPolicy,
                firstToken, answerDeadlineNanos, value);
    }

    /** Futex records the pager keeps at most for all kernels together. */
    public int futexRecords() {
        return maxFutexRecords > 0 ? maxFutexRecords
                : (int) Math.min(Integer.MAX_VALUE, (long) maxFutexesPerSession * PagerFutexes.SESSIONS_AT_THE_BOUND);
    }
}
