package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.policy.FutexPolicy;
import io.machxp.kernel.task.MachThread;
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
    }

    /**
     * Whether the policy keeps {@code e} here although a kernel waits at {@code priority}; if so,
     * the relinquish is carried out again when the hold ends (if the same grant still holds it).
     */
    boolean keeps(FutexEntry e, int priority) {
        if (isAbsent(e.state()) || core.pagerLost(e.objectId())) {
            return false;
        }
        long hold = policy.holdNanos(new FutexPolicy.Hold(priority, localPriority(e), e.acquireNanos));
        long left = e.grantedNanos + hold - env.nanoTime();
        if (hold <= 0 || left <= 0) {
            return false;
        }
        e.holdRemotePriority = priority;
        long token = e.fencingToken;
        if (e.holdTimerToken != token) {
            e.holdTimerToken = token;
            env.schedule(left, () -> {
                if (!core.pagerLost(e.objectId()) && e.fencingToken == token && !isAbsent(e.state())) {
                    ended.accept(e, e.holdRemotePriority);
                }
            });
        }
        return true;
    }

    /** The highest priority of the futex's users since its grant, its owner and its waiters here. */
    private int localPriority(FutexEntry e) {
        MachThread owner = inheritance.ownerHere(e);
        int waiters = e.waiters.isEmpty() ? 0 : e.waiters.topPriority();
        return Math.max(e.holdPriority, Math.max(waiters, owner == null ? 0 : owner.effectivePriority));
    }
}
