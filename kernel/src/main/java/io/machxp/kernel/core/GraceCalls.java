package io.machxp.kernel.core;

import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task calls, and deaths of futex owners, that wait while a session is in its grace
 * ({@link LeaseGrace}). Part of the kernel core: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  a call checks the leases and a session is in grace ──▶ parked (with its reply, to run again)
 *  a futex owner dies and its futex's session is in grace ──▶ parked (its passing on runs again)
 *  the caller goes away (abortWait) ──▶ its parked call is dropped
 *  a parked timed lock reaches its deadline ──▶ dropped, and fails with ETIMEDOUT
 *  a grace ends, the lease running again ──▶ everything parked is due: it runs again next (a
 *      timer of delay 0), in the order parked, each from the start: with a lease it goes on as
 *      any call; if another session's grace still holds it parks again. Until it runs a due call
 *      stays here: its caller can still go away, and a session's end or shutdown still fails it.
 *      A run that throws fails its own reply; the rest of the batch runs on.
 *  a session ends in its grace (refused, grace over, shutdown) ──▶ every parked call fails with
 *      the session's error (EIO, or ESRCH at shutdown), unless another session's grace holds
 * </pre>
 * A lock call's timeout counts from when it first arrived, also while it is parked: at its
 * deadline a parked timed lock leaves and fails with ETIMEDOUT, as any timed lock. Parked work holds nothing: a parked
 * call has not touched the futex or page it names.
 */
final class GraceCalls {
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);

    private static final class Parked {
        final Reply<?> reply;
        final Runnable again;
        /** Released: runs at the next {@link #runDue}. */
        boolean due;
        /** A timed lock's deadline (null: none). */
        Timer deadline;

        Parked(Reply<?> reply, Runnable again) {
            this.reply = reply;
            this.again = again;
        }
    }

    private final KernelEnv env;
    private List<Parked> parked = new ArrayList<>();

    GraceCalls(KernelEnv env) {
        this.env = env;
    }

    /** Parks {@code again} (a call answered by {@code reply}, or null for a death's passing on). */
    void park(Reply<?> reply, Runnable again) {
        parked.add(new Parked(reply, again));
    }

    /**
     * As {@link #park(Reply, Runnable)}, for a call with a deadline {@code timeoutNanos} from now
     * (negative: none): if it is still parked then, it leaves and {@code timedOut} answers it.
     */
    void park(Reply<?> reply, Runnable again, long timeoutNanos, Runnable timedOut) {
        Parked p = new Parked(reply, again);
        parked.add(p);
        if (timeoutNanos >= 0) {
            p.deadline = env.schedule(timeoutNanos, () -> {
                if (parked.remove(p)) {
                    timedOut.run();
                }
            });
        }
    }

    private static void stopDeadline(Parked p) {
        if (p.deadline != null) {
            p.deadline.cancel();
        }
    }

    /** The caller of {@code reply} went away: its call is not run again. */
    void cancel(Reply<?> reply) {
        parked.removeIf(p -> {
            if (p.reply != reply) {
                return false;
            }
            stopDeadline(p);
            return true;
        });
    }

    /**
     * A grace ended with the lease running again: everything parked is due and runs again, in
     * order, next (not on the spot: the grace's end is in the middle of handling a pager message).
     * Due calls stay reachable by {@link #cancel} and {@link #failAll} until they run.
     */
    void release() {
        boolean any = false;
        for (Parked p : parked) {
            any |= !p.due;
            p.due = true;
        }
        if (any) {
            env.schedule(0, this::runDue);
        }
    }

    /** Runs the due calls still here (not cancelled, not failed), in the order parked. */
    private void runDue() {
        List<Parked> now = new ArrayList<>();
        List<Parked> still = new ArrayList<>();
        for (Parked p : parked) {
            (p.due ? now : still).add(p);
        }
        parked = still; // a run that parks again adds after these
        for (Parked p : now) {
            stopDeadline(p); // it runs again with what is left of its timeout
            try {
                p.again.run();
            } catch (RuntimeException | AssertionError e) {
                log.error("a call parked in a lease grace failed when it ran again", e);
                if (p.reply != null) {
                    p.reply.fail(KernelError.of(Errno.EIO, "the call waited out a lease grace and then failed "
                            + "inside the kernel (%s); retry it, and report the kernel's log if it recurs", e));
                }
            }
        }
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
            stopDeadline(p);
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
