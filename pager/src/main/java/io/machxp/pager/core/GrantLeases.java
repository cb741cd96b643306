package io.machxp.pager.core;

import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.policy.GrantPolicy;

/**
 * Carries out a {@link GrantPolicy}'s "when to relinquish": a relinquish_futex the policy says is
 * too early for a grant (its lease runs on) is sent when the lease ends, if the same grant (same
 * token) still holds the futex then; the pager's other decisions are unchanged.
 */
final class GrantLeases {
    private final CoreContext core;
    private final GrantPolicy policy;

    GrantLeases(CoreContext core, GrantPolicy policy) {
        this.core = core;
        this.policy = policy;
    }

    void granted(FutexRecord f) {
        f.grantedNanos = core.env.nanoTime();
    }

    /** Whether a grant made while kernels wait carries the relinquish (the policy's, once its lease is 0). */
    boolean relinquishInGrant(FutexRecord f) {
        return policy.relinquishInGrant() || policy.relinquishAfterNanos(f.queue.topPriority()) <= 0;
    }

    /**
     * Whether asking {@code f}'s holder to relinquish must wait for the grant's lease; if so,
     * {@code ask} runs when it ends, if the same grant still holds the futex.
     */
    boolean notYet(FutexRecord f, int topPriority, Runnable ask) {
        long left = f.grantedNanos + policy.relinquishAfterNanos(topPriority) - core.env.nanoTime();
        if (left <= 0 || f.holder == null) {
            return false;
        }
        long token = f.token;
        core.env.schedule(left, () -> {
            if (f.holder != null && f.token == token) {
                ask.run();
            }
        });
        return true;
    }
}
