package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.machxp.conform.ConformCase;
import io.machxp.conform.Skipped;
import io.machxp.proto.task.ThreadCreateReply;
import io.machxp.proto.task.ThreadCreateRequest;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmReadRequest;
import io.machxp.proto.task.VmUnlockFutexRequest;
import java.util.List;

/**
 * Kernel cases of spec section 11: the errors of the task interface, with their gRPC codes and
 * errnos (11.1), and the undo of a lock its client gave up on (11.2, abandoned_lock_seq).
 */
final class TaskErrorCases {
    private TaskErrorCases() {}

    static List<ConformCase<KernelProbe>> all() {
        return List.of(
                must("11.1-bad-address", "vm_read outside every mapping fails: INVALID_ARGUMENT / EINVAL", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    KernelProbe.fails(() -> p.tasks().vmRead(VmReadRequest.newBuilder().setTask(p.task())
                            .setAddress(m.address() + m.size() + 64L * p.pageSize()).setLength(8).build()),
                            Status.Code.INVALID_ARGUMENT, "EINVAL", "vm_read at an address outside every mapping");
                }),
                must("11.1-unaligned-futex", "vm_lock_futex at an address not 4-byte aligned fails: INVALID_ARGUMENT "
                        + "/ EINVAL", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    KernelProbe.fails(() -> p.tasks().vmLockFutex(VmLockFutexRequest.newBuilder().setTask(p.task())
                            .setThread(t).setAddress(m.address() + 2).build()), Status.Code.INVALID_ARGUMENT, "EINVAL",
                            "vm_lock_futex at an unaligned address");
                }),
                must("11.1-unknown-task", "a task handle the kernel never gave out fails: NOT_FOUND / ESRCH", p -> {
                    KernelProbe.fails(() -> p.tasks().vmRead(VmReadRequest.newBuilder().setTask(0x5eed_c0de_0000_0001L)
                            .setAddress(0).setLength(8).build()), Status.Code.NOT_FOUND, "ESRCH",
                            "vm_read with a task handle never given out");
                }),
                must("11.1-unlock-not-owner", "vm_unlock_futex of a futex the thread does not own fails: "
                        + "PERMISSION_DENIED / EPERM", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    KernelProbe.fails(() -> p.tasks().vmUnlockFutex(VmUnlockFutexRequest.newBuilder().setTask(p.task())
                            .setThread(t).setAddress(m.address() + 44).build()), Status.Code.PERMISSION_DENIED, "EPERM",
                            "vm_unlock_futex of a futex the thread does not own");
                }),
                must("11.1-relock-deadlk", "vm_lock_futex by the futex's owner fails: FAILED_PRECONDITION / EDEADLK",
                        p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    KernelFutexCases.lockGranted(p, m, t, 48, false);
                    KernelProbe.fails(() -> p.tasks().vmLockFutex(VmLockFutexRequest.newBuilder().setTask(p.task())
                            .setThread(t).setAddress(m.address() + 48).build()), Status.Code.FAILED_PRECONDITION,
                            "EDEADLK", "vm_lock_futex by the thread that owns the futex");
                    KernelFutexCases.unlock(p, t, m, 48);
                }),
                must("11.1-lock-timeout", "vm_lock_futex with a timeout, the pager not granting, fails: "
                        + "DEADLINE_EXCEEDED / ETIMEDOUT", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int t = p.thread(10);
                    ListenableFuture<VmLockFutexReply> lock = p.async().vmLockFutex(VmLockFutexRequest.newBuilder()
                            .setTask(p.task()).setThread(t).setAddress(m.address() + 52).setTimeoutMillis(200).build());
                    p.lockFutex(m, 52, "a lock of a futex not held");
                    KernelProbe.fails(() -> KernelPageCases.getUnchecked(lock, p), Status.Code.DEADLINE_EXCEEDED,
                            "ETIMEDOUT", "vm_lock_futex whose timeout expired");
                }),
                must("11.2-abandoned-lock-seq", "(with thread_create's undoes_abandoned_locks; else skipped) "
                        + "vm_unlock_futex with abandoned_lock_seq undoes that lock's grant, once: a second undo and "
                        + "an unlock by the thread fail with EPERM, and a lock with that lock_seq fails: CANCELLED / "
                        + "EINTR", TaskErrorCases::abandonedLockSeq));
    }

    private static void abandonedLockSeq(KernelProbe p) {
        KernelProbe.Mapping m = p.map(p.serve(4));
        ThreadCreateReply created = p.tasks().threadCreate(ThreadCreateRequest.newBuilder().setTask(p.task())
                .setPriority(10).build());
        if (!created.getUndoesAbandonedLocks()) {
            throw new Skipped("the kernel's thread_create does not say undoes_abandoned_locks (spec 11.2)");
        }
        int t = created.getTid();
        long off = 56;
        ListenableFuture<VmLockFutexReply> lock = p.async().vmLockFutex(VmLockFutexRequest.newBuilder()
                .setTask(p.task()).setThread(t).setAddress(m.address() + off).setLockSeq(1).build());
        p.lockFutex(m, off, "a lock of a futex not held (spec 8.3)");
        p.grant(m, off, false, false);
        KernelPageCases.getUnchecked(lock, p);
        VmUnlockFutexRequest undo = VmUnlockFutexRequest.newBuilder().setTask(p.task()).setThread(t)
                .setAddress(m.address() + off).setAbandonedLockSeq(1).build();
        p.tasks().vmUnlockFutex(undo);
        KernelProbe.fails(() -> p.tasks().vmUnlockFutex(VmUnlockFutexRequest.newBuilder().setTask(p.task())
                .setThread(t).setAddress(m.address() + off).build()), Status.Code.PERMISSION_DENIED, "EPERM",
                "vm_unlock_futex by the thread after abandoned_lock_seq undid its grant");
        KernelProbe.fails(() -> p.tasks().vmUnlockFutex(undo), Status.Code.PERMISSION_DENIED, "EPERM",
                "a second abandoned_lock_seq for a grant already undone");
        KernelProbe.fails(() -> p.tasks().vmLockFutex(VmLockFutexRequest.newBuilder().setTask(p.task()).setThread(t)
                .setAddress(m.address() + off).setLockSeq(1).build()), Status.Code.CANCELLED, "EINTR",
                "vm_lock_futex with a lock_seq its client gave up on already");
    }
}
