package io.machxp.client;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.proto.task.Errno;
import java.util.function.Supplier;

/**
 * task.proto's rule for a lock the client gave up on over gRPC: its deadline passed, or its
 * caller cancelled it (an interrupt, a cancelled {@link Context}), or its connection broke, and
 * no answer came from the kernel. The kernel may still have granted it: the cancel crossed an
 * answer already sent, or the answer was lost with the connection. (A grant that meets the
 * cancel is undone by the kernel itself.) Before the failure is thrown, the thread sends
 * vm_unlock_futex with {@code abandoned_lock_seq}, the lock_seq that lock carried. The kernel
 * undoes the grant of that very lock if the thread still owns the futex by it: it unlocks it, or,
 * for a grant with owner_died that nobody heard, it passes it on as the owner's death did, so
 * the futex does not become not recoverable. It changes nothing otherwise (EPERM): the lock
 * never got it, the kernel undid it already, or the futex was held before the lock (a re-lock
 * answers EDEADLK, which is no grant; Linux keeps the futex held then, and so does this).
 *
 * <p>Only with a kernel that knows lock_seq (ThreadCreateReply.undoes_abandoned_locks): an
 * older one would take the undo as a plain unlock, so none is sent there.
 *
 * <p>The undo has a deadline of its own ({@link KernelClient#undoStub}), and is tried once more
 * if the connection failed. An undo that fails all the same is attached to the lock's failure as
 * suppressed: the futex may then stay the thread's until the thread or its task ends (for a
 * client process that dies, the kernel's TaskWatch ends its tasks). So is a lock whose kernel
 * never learns of the undo. Through the call file none of this is needed: exactly one of the
 * client's cancel and the kernel's answer wins there (docs/shared-memory.md).
 */
final class GivenUpLock {
    private static final int ATTEMPTS = 2;

    private GivenUpLock() {}

    /**
     * Whether a failed call is the client's own giving up (deadline or cancel) or a broken
     * connection, not the kernel's answer: the kernel's own errors carry an errno.
     */
    static boolean gaveUp(MachxpException failure) {
        return (failure.code() == Status.Code.DEADLINE_EXCEEDED || failure.code() == Status.Code.CANCELLED
                || failure.code() == Status.Code.UNAVAILABLE)
                && failure.errno() == Errno.ERRNO_UNSPECIFIED;
    }

    /**
     * Sends the undo ({@code abandon}: vm_unlock_futex with abandoned_lock_seq). It is sent
     * outside a cancelled {@link Context}, and with the interrupt status cleared meanwhile:
     * otherwise it would fail as its lock did. Its deadline bounds how long that lasts, and a new
     * interrupt meanwhile ends it (as CANCELLED). The interrupt status is set again afterwards.
     * The lock's failure is thrown either way. An undo that fails (other than EPERM: nothing to
     * undo) is attached to it as suppressed: the futex may still be held then.
     */
    static void undo(String target, Supplier<?> abandon, MachxpException failure) {
        boolean interrupted = Thread.interrupted();
        try {
            Context.current().fork().run(() -> {
                for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
                    try {
                        abandon.get();
                        return;
                    } catch (StatusRuntimeException e) {
                        MachxpException undo = MachxpException.from(target, e);
                        if (undo.errno() == Errno.EPERM) {
                            return; // the thread does not own it by that lock: nothing to undo
                        }
                        if (attempt == ATTEMPTS || undo.code() != Status.Code.UNAVAILABLE
                                || undo.errno() != Errno.ERRNO_UNSPECIFIED || Thread.currentThread().isInterrupted()) {
                            failure.addSuppressed(undo);
                            return;
                        }
                    }
                }
            });
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
