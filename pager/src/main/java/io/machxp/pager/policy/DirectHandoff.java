package io.machxp.pager.policy;

/**
 * Direct handoff, TreadMarks-style forwarding (xp-spec 13): when a kernel waits for a futex
 * another holds, the pager orders the holder to hand it, with its page, straight to that kernel
 * over the kernel link, which tells the pager it took it. A forward not confirmed within
 * {@code confirmNanos} of the order is cancelled and the futex comes back the usual way.
 */
public record DirectHandoff(long confirmNanos) implements GrantPolicy {
    public DirectHandoff {
        if (confirmNanos <= 0) {
            throw new IllegalArgumentException("a forward's confirmation time is above 0, not " + confirmNanos + " ns");
        }
    }

    @Override
    public String name() {
        return "direct";
    }

    @Override
    public long directHandoffNanos() {
        return confirmNanos;
    }
}
