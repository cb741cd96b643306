package io.machxp.kernel.futex;

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
    /** A trylock: answered "not acquired" instead of waiting for another owner. */
    public final boolean trylock;
    private final Reply<Acquired> reply;
    public Timer timeout;
    /** The timeout fired; the thread leaves the wait when it next has its CPU. */
    public boolean timerFired;
    public FutexEntry entry;
    /** Order of arrival in the futex's {@link WaitQueue}. */
    long arrival;
    private boolean done;

    public FutexWaiter(MachThread thread, boolean trylock, Reply<Acquired> reply) {
        this.thread = thread;
        this.trylock = trylock;
        this.reply = reply;
    }

    public boolean done() {
        return done;
    }

    /** Whether this wait answers the given call. */
    public boolean answers(Reply<?> call) {
        return reply == call;
    }

    /**
     * Answers the waiter once (null: a trylock that did not get it); later calls do nothing.
     * Returns whether this call answered.
     */
    public boolean finish(Acquired acquired) {
        if (!finishQuietly()) {
            return false;
        }
        reply.complete(acquired);
        return true;
    }

    public boolean fail(io.machxp.kernel.core.KernelError error) {
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
