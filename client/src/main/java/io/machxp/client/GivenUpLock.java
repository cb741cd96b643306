package io.machxp.client;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.proto.task.Errno;
import java.util.function.Supplier;

/**
 * task.proto's rule for a lock the client gave up on over gRPC. Its deadline passed, or its
 * caller cancelled it (an interrupt, a cancelled {@link Context}), and no answer came from the
 * kernel. The kernel may still have granted it: the cancel crossed an answer already sent, and a
 * grant that meets the cancel is undone by the kernel itself. Before the failure is thrown, the
 * thread sends vm_unlock_futex with {@code abandoned_lock} for that address. The kernel undoes a
 * grant the thread holds: it unlocks it, or, for a grant with owner_died that nobody heard, it
 * passes it on as the owner's death did, so the futex does not become not recoverable. EPERM
 * means the lock never got the futex. So a lock that fails never leaves the futex held on the
 * caller's behalf.
 *
 * <p>Through the call file this is not needed: exactly one of the client's cancel and the
 * kernel's answer wins there (docs/shared-memory.md).
 */
final class GivenUpLock {
    private GivenUpLock() {}

    /** Whether a failed call is the client's own giving up (deadline or cancel), not the kernel's answer. */
    static boolean gaveUp(MachxpException failure) {
        return (failure.code() == Status.Code.DEADLINE_EXCEEDED || failure.code() == Status.Code.CANCELLED)
                && failure.errno() == Errno.ERRNO_UNSPECIFIED; // the kernel's own errors carry an errno
    }

    /**
     * Sends the undo ({@code abandon}: vm_unlock_futex with abandoned_lock). It is sent outside a
     * cancelled {@link Context}, and with the interrupt status cleared meanwhile: otherwise it
     * would fail as its lock did. The lock's failure is thrown either way. An undo that fails
     * (other than EPERM) is attached to it as suppressed: the futex may still be held then.
     */
    static void undo(String target, Supplier<?> abandon, MachxpException failure) {
        boolean interrupted = Thread.interrupted();
        try {
            Context.current().fork().run(() -> {
                try {
                    abandon.get();
                } catch (StatusRuntimeException e) {
                    MachxpException undo = MachxpException.from(target, e);
                    if (undo.errno() != Errno.EPERM) { // EPERM: it never got the futex
                        failure.addSuppressed(undo);
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
