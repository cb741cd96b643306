package io.machxp.kernel.futex;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.core.Timer;
import io.machxp.kernel.task.MachThread;

/**
 * A thread blocked in vm_lock_futex or vm_trylock_futex, from the request until it is answered.
 * Core thread only. Exactly one of acquire, timeout or failure answers it; {@link #done} makes
 * the others no-ops.
 */
public final class FutexWaiter {
    public final MachThread thread;
    /**
     * A trylock, or a lock whose timeout had passed when it came: answered "not acquired" instead
     * of waiting for another owner.
     */
    public final boolean trylock;
    /**
     * What "not acquired" answers: null for a trylock (busy); ETIMEDOUT for a lock whose timeout
     * had passed when it came, which, as Linux's FUTEX_LOCK_PI with a past deadline, takes a free
     * futex and times out only where it would wait for an owner.
     */
    private final KernelError notAcquired;
    private final Reply<Acquired> reply;
    public Timer timeout;
    /** The timeout fired; the thread leaves the wait when it next has its CPU. */
    public boolean timerFired;
    /** What it leaves with once its timer fired (ETIMEDOUT); null before. */
    public KernelError timedOutWith;
    public FutexEntry entry;
    /** Order of arrival in the futex's {@link WaitQueue}. */
    long arrival;
    /**
     * When it began waiting at its present priority, on the kernel's clock (env.nanoTime): when
     * it blocked, or when it was last requeued. How long it has waited goes to the pager, so that
     * a holder elsewhere can place it among its own waiters of that priority (xp-spec 8.6).
     */
    public long sinceNanos;
    private boolean done;

    /** A lock (waits for an owner) or a trylock (answered null where it would wait). */
    public FutexWaiter(MachThread thread, boolean trylock, Reply<Acquired> reply) {
        this(thread, trylock, null, reply);
    }

    /**
     * A wait that does not wait for an owner, answered {@code notAcquired} where a trylock is
     * answered null: a lock whose timeout had already passed.
     */
    public FutexWaiter(MachThread thread, KernelError notAcquired, Reply<Acquired> reply) {
        this(thread, true, notAcquired, reply);
    }

    private FutexWaiter(MachThread thread, boolean trylock, KernelError notAcquired,
            Reply<Acquired> reply) {
        this.thread = thread;
        this.trylock = trylock;
        this.notAcquired = notAcquired;
        this.reply = reply;
    }

    /** A lock whose timeout had passed when it came (not a trylock): a cycle is still EDEADLK. */
    public boolean expiredLock() {
        return notAcquired != null;
    }

    public boolean done() {
        return done;
    }

    /** The reply that answers this wait (the core's wrapper of the caller's). */
    public Reply<Acquired> reply() {
        return reply;
    }

    /** Whether this wait answers the given call. */
    public boolean answers(Reply<?> call) {
        return call != null && reply.answersFor(call);
    }

    /**
     * Answers the waiter once (null: a trylock that did not get it, or ETIMEDOUT for a lock whose
     * timeout had passed); later calls do nothing.
     * Returns whether this call answered.
     */
    public boolean finish(Acquired acquired) {
        if (acquired == null && notAcquired != null) {
            return fail(notAcquired);
        }
        if (!finishQuietly()) {
            return false;
        }
        reply.complete(acquired);
        return true;
    }

    public boolean fail(KernelError error) {
        if (!finishQuietly()) {
            return false;
        }
        reply.fail(error);
        return true;
    }

    private boolean finishQuietly() {
        if (done) {
            return false;
        }
        done = true;
        thread.blockedIn = null;
        thread.waiter = null;
        if (timeout != null) {
            timeout.cancel();
            timeout = null;
        }
        return true;
    }
}
