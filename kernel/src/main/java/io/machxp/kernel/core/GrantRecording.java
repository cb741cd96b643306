package io.machxp.kernel.core;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.task.FutexGrant;
import io.machxp.kernel.task.MachThread;

/**
 * Records each futex grant on its thread ({@link MachThread#grants}, by futex) at the moment it is
 * made, on the core thread, before the lock's reply runs: so an undo of a given-up lock can tell the
 * grant it names from any other ownership of the same futex (KernelFutexes.undoGrant). The
 * recording reply also carries the lock's lock_seq, so that a lock the client has given up on
 * already is told apart while it still waits ({@link #givenUp}).
 */
final class GrantRecording {
    private GrantRecording() {}

    /** {@code reply}, recording a grant (a non-null {@link Acquired}) of {@code address} to {@code tid} first. */
    static Reply<Acquired> recording(KernelTasks tasks, int tid, long address, long lockSeq, Reply<Acquired> reply) {
        return new Recording(tasks, tid, address, lockSeq, reply);
    }

    /**
     * Whether the lock answered by {@code reply} carries a lock_seq that {@code thread}'s client
     * has given up on (vm_unlock_futex abandoned_lock_seq at or above it): such a lock that reaches
     * the core late is refused, and one that still waits is withdrawn.
     */
    static boolean givenUp(MachThread thread, Reply<?> reply) {
        return reply instanceof Recording r && r.lockSeq != 0 && r.lockSeq <= thread.abandonedLockSeq;
    }

    /** The thread's futex wait, if it is one for a lock its client has given up on; else null. */
    static FutexWaiter givenUpWait(MachThread thread) {
        FutexWaiter w = thread.waiter;
        return w != null && givenUp(thread, w.reply()) ? w : null;
    }

    private static final class Recording implements Reply<Acquired> {
        private final KernelTasks tasks;
        private final int tid;
        private final long address;
        private final long lockSeq;
        private final Reply<Acquired> reply;

        Recording(KernelTasks tasks, int tid, long address, long lockSeq, Reply<Acquired> reply) {
            this.tasks = tasks;
            this.tid = tid;
            this.address = address;
            this.lockSeq = lockSeq;
            this.reply = reply;
        }

        @Override
        public void complete(Acquired acquired) {
            MachThread thread = acquired == null ? null : tasks.livingThread(tid);
            if (thread != null) {
                thread.grants.record(FutexGrant.next(address, lockSeq));
            }
            reply.complete(acquired);
        }

        @Override
        public void fail(KernelError error) {
            reply.fail(error);
        }

        @Override
        public boolean answersFor(Reply<?> call) {
            return this == call || reply.answersFor(call);
        }
    }
}
