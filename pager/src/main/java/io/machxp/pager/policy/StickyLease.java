package io.machxp.pager.policy;

/**
 * A sticky, lease-based grant: a kernel granted a futex keeps it for {@code leaseNanos} before the
 * pager asks for it back, whoever waits (no priority exception: the lease is the holder's to use,
 * as a lease is). Between the grant and the end of the lease the holder reuses the futex locally
 * without any message; kernels that ask meanwhile queue at the pager.
 */
public record StickyLease(long leaseNanos) implements GrantPolicy {
    public StickyLease {
        if (leaseNanos < 0) {
            throw new IllegalArgumentException("a grant's lease is 0 or more, not " + leaseNanos + " ns");
        }
    }

    @Override
    public String name() {
        return "sticky-lease";
    }

    @Override
    public long relinquishAfterNanos(int topWaitingPriority) {
        return leaseNanos;
    }

    @Override
    public long longestRelinquishAfterNanos() {
        return leaseNanos; // the same at every priority
    }

    @Override
    public boolean relinquishInGrant() {
        return leaseNanos == 0;
    }
}
