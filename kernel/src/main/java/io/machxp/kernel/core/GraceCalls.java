package io.machxp.kernel.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Task calls, and deaths of futex owners, that wait while a session is in its grace
 * ({@link LeaseGrace}). Part of the kernel core: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  a call checks the leases and a session is in grace ──▶ parked (with its reply, to run again)
 *  a futex owner dies and its futex's session is in grace ──▶ parked (its passing on runs again)
 *  the caller goes away (abortWait) ──▶ its parked call is dropped
 *  a grace ends, the lease running again ──▶ everything parked runs again, in the order parked,
 *      each from the start: with a lease it goes on as any call; if another session's grace
 *      still holds it parks again
 *  a session ends in its grace (refused, grace over, shutdown) ──▶ every parked call fails with
 *      the session's error (EIO, or ESRCH at shutdown), unless another session's grace holds
 * </pre>
 * A lock call's timeout counts from when it first arrived. Parked work holds nothing: a parked
 * call has not touched the futex or page it names.
 */
final class GraceCalls {
    private record Parked(Reply<?> reply, Runnable again) {}

    private final KernelEnv env;
    private List<Parked> parked = new ArrayList<>();

    GraceCalls(KernelEnv env) {
        this.env = env;
    }

    /** Parks {@code again} (a call answered by {@code reply}, or null for a death's passing on). */
    void park(Reply<?> reply, Runnable again) {
        parked.add(new Parked(reply, again));
    }

    /** The caller of {@code reply} went away: its call is not run again. */
    void cancel(Reply<?> reply) {
        parked.removeIf(p -> p.reply == reply);
    }

    /** A grace ended with the lease running again: everything parked runs again, in order, next. */
    void release() {
        if (parked.isEmpty()) {
            return;
        }
        List<Parked> now = parked;
        parked = new ArrayList<>();
        env.schedule(0, () -> now.forEach(p -> p.again.run()));
    }

    /**
     * The session ended in its grace (refused, the grace ran out, the kernel shuts down): every
     * parked call fails at once with {@code error}, as it would have at the lease's end (a kernel
     * shutting down runs no later timer); a parked death has nothing left to pass on.
     */
    void failAll(KernelError error) {
        List<Parked> now = parked;
        parked = new ArrayList<>();
        for (Parked p : now) {
            if (p.reply != null) {
                p.reply.fail(error);
            }
        }
    }

    /** How many wait; for tests and log lines. */
    int count() {
        return parked.size();
    }
}
