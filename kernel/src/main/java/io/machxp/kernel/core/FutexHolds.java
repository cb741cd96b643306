package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.policy.FutexPolicy;
import java.util.function.ObjIntConsumer;

/**
 * Hold times: while the {@link FutexPolicy} holds a granted futex, a relinquish_futex does not
 * take it away. The relinquish is taken as usual (the owner is boosted to the priority waiting
 * elsewhere), but a free futex stays here and an unlock hands it to a local waiter or leaves it
 * free for local threads, until the hold ends; then the relinquish is carried out again. A hold
 * that ends after the futex left (another grant, another token) does nothing.
 *
 * <p>The PI exception is decided against the highest priority of this kernel's threads that got
 * the futex through the core since its grant, its owner and its waiters (fast-path acquisitions
 * of the real runtime are not seen). Also keeps, per futex, when this kernel asked the pager for
 * it and how long the grant took (an adaptive hold's measure of contention).
 */
final class FutexHolds {
    private final KernelCore core;
    private final KernelEnv env;
    private final FutexPolicy policy;
    private final FutexInheritance inheritance;
    private ObjIntConsumer<FutexEntry> ended = (e, priority) -> { };

    FutexHolds(KernelCore core, KernelEnv env, FutexPolicy policy, FutexInheritance inheritance) {
        this.core = core;
        this.env = env;
        this.policy = policy;
        this.inheritance = inheritance;
    }

    /** What runs when a hold ends with a relinquish outstanding: the relinquish, at its priority. */
    void whenEnded(ObjIntConsumer<FutexEntry> relinquish) {
        ended = relinquish;
    }

    /** lock_futex (or a release asking again) went out for {@code e}. */
    void asked(FutexEntry e) {
        e.askedNanos = env.nanoTime();
    }

    /** The pager granted {@code e}. */
    void granted(FutexEntry e) {
        long now = env.nanoTime();
        e.grantedNanos = now;
        e.acquireNanos = e.askedNanos < 0 ? -1 : now - e.askedNanos;
        e.askedNanos = -1;
        e.holdPriority = 0;
        e.holdTimerSet = false;
    }

    /**
     * Whether the policy keeps {@code e} here although a kernel waits at {@code priority}; if so,
     * the relinquish still pending is carried out again when the hold ends, at the priority of
     * the latest relinquish (if the same grant still holds it).
     */
    boolean keeps(FutexEntry e, int priority) {
        if (isAbsent(e.state()) || core.sessions.pagerLost(e.objectId())) {
            return false;
        }
        long hold = policy.holdNanos(new FutexPolicy.Hold(priority, localPriority(e), e.acquireNanos));
        long left = e.grantedNanos + hold - env.nanoTime();
        if (hold <= 0 || left <= 0) {
            return false;
        }
        long token = e.fencingToken;
        long grantedAt = e.grantedNanos;
        if (!e.holdTimerSet) {
            e.holdTimerSet = true;
            env.schedule(left, () -> {
                // The relinquish as it stands now: a later one may have raised or lowered its
                // priority, and a broken stream voids it (the new pager asks again if others wait).
                if (!core.sessions.pagerLost(e.objectId()) && e.fencingToken == token && e.grantedNanos == grantedAt
                        && !isAbsent(e.state()) && e.relinquishPending) {
                    ended.accept(e, e.remotePriority);
                }
            });
        }
        return true;
    }

    /**
     * The highest priority of the futex's users since its grant, its owner and its waiters here;
     * the owner's without what it inherits from the kernels waiting for this futex.
     */
    private int localPriority(FutexEntry e) {
        int waiters = e.waiters.isEmpty() ? 0 : e.waiters.topPriority();
        return Math.max(e.holdPriority, Math.max(waiters, inheritance.ownerPriorityHere(e)));
    }
}
