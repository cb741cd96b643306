package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.machxp.conform.ConformCase;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmReadRequest;
import io.machxp.proto.task.VmUnlockFutexRequest;
import java.util.List;

/** Kernel cases of spec section 11.1: the errors of the task interface, with their gRPC codes and errnos. */
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
                }));
    }
}
