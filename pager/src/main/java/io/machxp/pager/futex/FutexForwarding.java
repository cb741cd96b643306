package io.machxp.pager.futex;

import io.machxp.pager.core.KernelSession;
import io.machxp.proto.xp.MemoryObjectFutexReleased;

/**
 * A direct handoff ordered (xp-spec 14): the pager asked {@code from}, the futex's holder, to send
 * a copy of its release to {@code to}, and reserved the futex's next grant for {@code to} under
 * {@code token}. The futex stays {@code from}'s until its release is handled (or it leaves); the
 * futex's page ({@code pageOffset}) takes no request until then. Pager core thread only.
 */
public final class FutexForwarding {
    public final KernelSession from;
    public final KernelSession to;
    public final long token;
    public final long pageOffset;
    /** {@code to} left (its session ended, or it terminated the object): the order was withdrawn at {@code from}. */
    public boolean withdrawn;
    /** {@code to} gave the futex back (terminating its object) before the pager granted it: handled at the grant. */
    public MemoryObjectFutexReleased earlyRelease;
    /**
     * After that early release (without request_again), {@code to} asked for the futex again (a
     * thread of it locks it anew): its lock_futex, taken as its request right after the early
     * release is handled; null if none.
     */
    public io.machxp.proto.xp.MemoryObjectLockFutex relock;
    /** When {@link #relock} arrived, on the pager's clock (its wait counts from there, or from earlier if it said so). */
    public long relockNanos;

    public FutexForwarding(KernelSession from, KernelSession to, long token, long pageOffset) {
        this.from = from;
        this.to = to;
        this.token = token;
        this.pageOffset = pageOffset;
    }
}
