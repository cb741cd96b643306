package io.machxp.kernel.core;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.FutexGrant;
import io.machxp.kernel.task.MachThread;

/**
 * Records each futex grant on its thread ({@link MachThread#lastGrant}) at the moment it is made,
 * on the core thread, before the lock's reply runs: so an undo of a given-up lock can tell the
 * grant it names from any other ownership of the same futex (KernelFutexes.undoGrant).
 */
final class GrantRecording {
    private GrantRecording() {}

    /** {@code reply}, recording a grant (a non-null {@link Acquired}) of {@code address} to {@code tid} first. */
    static Reply<Acquired> recording(KernelTasks tasks, int tid, long address, long lockSeq, Reply<Acquired> reply) {
        return new Reply<>() {
            @Override
            public void complete(Acquired acquired) {
                MachThread thread = acquired == null ? null : tasks.livingThread(tid);
                if (thread != null) {
                    thread.lastGrant = FutexGrant.next(address, lockSeq);
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
        };
    }
}
