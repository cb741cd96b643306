package io.machxp.kernel.policy;

/**
 * An adaptive hold, from the contention observed: the kernel keeps a granted futex for as long as
 * its last acquisition from the pager took (lock_futex to futex_granted: the XP round trips and
 * the time the futex spent queued behind other kernels), up to {@code maxNanos}. As in rent-or-buy,
 * a kernel never spends holding more than it paid to get the futex, so on a slow or contended
 * futex it keeps it longer and on a fast one it gives it back sooner. The PI exception of
 * {@link MinimumHold} applies.
 */
public record AdaptiveHold(long maxNanos) implements FutexPolicy {
    public AdaptiveHold {
        if (maxNanos < 0) {
            throw new IllegalArgumentException("a hold time is 0 or more, not " + maxNanos + " ns");
        }
    }

    @Override
    public String name() {
        return "adaptive-hold";
    }

    @Override
    public long holdNanos(Hold h) {
        if (h.higherPriorityWaitsElsewhere() || h.acquireNanos() < 0) {
            return 0;
        }
        return Math.min(maxNanos, h.acquireNanos());
    }
}
