package io.machxp.kernel.core;

import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task calls, and deaths of futex owners, that wait while the session of what they name is in its
 * grace ({@link LeaseGrace}). Part of the kernel core: core thread only. Each parked entry belongs
 * to one session (the one serving the object the call names): another pager's grace holds nothing
 * of it.
 *
 * <h2>Overview</h2>
 * <pre>
 *  a call checks the leases and its object's session is in grace ──▶ parked (with its reply)
 *  a futex owner dies and its futex's session is in grace ──▶ parked (its passing on runs again)
 *  a dead owner's woken heir runs and its futex's session is in grace ──▶ parked (it takes the
 *      futex then, if it is still the heir: FutexHeirs.heirRuns)
 *  the caller goes away (abortWait) ──▶ its parked call is dropped
 *  a parked timed lock reaches its deadline ──▶ dropped, and fails with ETIMEDOUT
 *  a session's grace ends, the lease running again ──▶ its parked work is due: it runs again next
 *      (a timer of delay 0), in the order parked, each from the start. Until it runs a due call
 *      stays here: its caller can still go away, and a shutdown still fails it. A run that
 *      throws fails its own reply (EIO); the rest of the batch runs on.
 *  a session ends in its grace (refused, grace over) ──▶ its parked calls are due the same way,
 *      and each then fails through its session (EIO) as any call on it does; its parked deaths
 *      and heirs' runs are dropped (its futexes are forgotten: forgetFutex fails their waiters,
 *      the heir included, and clears the heir, so nothing waits for a dropped run)
 *  the kernel shuts down ──▶ every parked call fails at once (no later timer runs)
 * </pre>
 * A lock call's timeout counts from when it first arrived, also while it is parked. A parked call
 * holds nothing: it has not touched the futex or page it names. A parked heir's run is the one
 * exception: its waiter stays queued as the heir, and the futex's word stays OWNER_DIED|WAITERS
 * with no owner until it runs again after the grace (or the heir is passed over, as any).
 */
final class GraceCalls {
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);

    private static final class Parked {
        /** The session whose grace holds it (identity only). */
        final Object session;
        final Reply<?> reply;
        final Runnable again;
        /** Released: runs at the next {@link #runDue}. */
        boolean due;
        /** A timed lock's deadline (null: none). */
        Timer deadline;

        Parked(Object session, Reply<?> reply, Runnable again) {
            this.session = session;
            this.reply = reply;
            this.again = again;
        }
    }

    private final KernelEnv env;
    private List<Parked> parked = new ArrayList<>();

    GraceCalls(KernelEnv env) {
        this.env = env;
    }

    /**
     * Parks {@code again} (a call answered by {@code reply}, or null for a death's passing on)
     * under the grace of {@code session}.
     */
    void park(Object session, Reply<?> reply, Runnable again) {
        park(session, reply, again, -1, null);
    }

    /**
     * As {@link #park(Object, Reply, Runnable)}, for a call with a deadline {@code timeoutNanos}
     * from now (negative: none): if it is still parked then, it leaves and {@code timedOut} answers it.
     */
    void park(Object session, Reply<?> reply, Runnable again, long timeoutNanos, Runnable timedOut) {
        Parked p = new Parked(session, reply, again);
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
            // answersFor, not identity: a parked lock's reply is the wrapper that records its grant (GrantRecording).
            if (!p.reply.answersFor(reply)) {
                return false;
            }
            stopDeadline(p);
            return true;
        });
    }

    /**
     * The grace of {@code session} ended with the lease running again: what it parked is due and
     * runs again, in order, next (not on the spot: the grace's end is in the middle of handling a
     * pager message). Due calls stay reachable by {@link #cancel} and {@link #failAll} until they run.
     */
    void release(Object session) {
        boolean any = false;
        for (Parked p : parked) {
            if (p.session == session && !p.due) {
                p.due = true;
                any = true;
            }
        }
        if (any) {
            env.schedule(0, this::runDue);
        }
    }

    /**
     * {@code session} ended in its grace (refused, the grace ran out): its parked calls run again
     * as on {@link #release}, and fail through the session as any call on it does; its parked
     * deaths have nothing left to pass on.
     */
    void sessionOver(Object session) {
        parked.removeIf(p -> p.session == session && p.reply == null);
        release(session);
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
     * The kernel shuts down: every parked call, due or not, fails at once with {@code error} (a
     * kernel shutting down runs no later timer); a parked death has nothing left to pass on.
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
