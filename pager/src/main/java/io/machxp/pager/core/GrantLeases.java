package io.machxp.pager.core;

import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.policy.GrantPolicy;

/**
 * Carries out a {@link GrantPolicy}: whom to grant among the waiting kernels; "when to
 * relinquish": a relinquish_futex the policy says is too early for a grant (its lease runs on) is
 * sent when the lease ends, if the same grant (same token) still holds the futex then; and whether
 * a grant carries the pages given back with the futex. The pager's other decisions are unchanged.
 */
final class GrantLeases {
    private final CoreContext core;
    private final GrantPolicy policy;

    GrantLeases(CoreContext core, GrantPolicy policy) {
        this.core = core;
        this.policy = policy;
    }

    /** Takes the kernel to grant next out of {@code f}'s queue (the policy's choice), or null if none waits. */
    KernelSession next(FutexRecord f) {
        if (f.queue.size() < 2) {
            return f.queue.poll();
        }
        java.util.List<java.util.Map.Entry<KernelSession, Integer>> queued = f.queue.waiters();
        int chosen = policy.chooseNext(queued.stream()
                .map(e -> new GrantPolicy.Waiter(e.getKey().kernelName, e.getValue())).toList());
        if (chosen <= 0 || chosen >= queued.size()) {
            return f.queue.poll();
        }
        KernelSession next = queued.get(chosen).getKey();
        f.queue.remove(next);
        return next;
    }

    /** Direct handoff (xp-spec 14): whether the holder is asked to forward the futex to the next kernel. */
    boolean directHandoff() {
        return policy.directHandoff();
    }

    /** Whether a grant carries the pages given back with the futex. */
    boolean pagesInGrant() {
        return policy.pagesInGrant();
    }

    void granted(FutexRecord f) {
        f.grantedNanos = core.env.nanoTime();
    }

    /** Whether a grant made while kernels wait carries the relinquish (the policy's, once its lease is 0). */
    boolean relinquishInGrant(FutexRecord f) {
        return policy.relinquishInGrant() || policy.relinquishAfterNanos(f.queue.topPriority()) <= 0;
    }

    /**
     * Whether asking {@code f}'s holder to relinquish must wait for the grant's lease; if so, it is
     * asked when the lease ends, if the same grant still holds the futex
     * ({@link RelinquishAsks#grantLeaseEnded}).
     */
    boolean notYet(FutexRecord f, int topPriority) {
        long left = f.grantedNanos + policy.relinquishAfterNanos(topPriority) - core.env.nanoTime();
        if (left <= 0 || f.holder == null) {
            return false;
        }
        core.timers.set(left, new CoreTimers.GrantLeaseEnd(f, f.token));
        return true;
    }
}
