package io.machxp.client;

import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmTrylockFutexReply;
import io.machxp.proto.task.VmTrylockFutexRequest;
import io.machxp.proto.task.VmUnlockFutexRequest;
import java.time.Duration;

/**
 * A thread of a task on a kernel. Its futex calls block the calling Java thread; a thread makes
 * one call at a time (EBUSY otherwise).
 */
public final class ThreadClient {
    private final KernelClient kernel;
    private final long task;
    private final int tid;

    ThreadClient(KernelClient kernel, long task, int tid) {
        this.kernel = kernel;
        this.task = task;
        this.tid = tid;
    }

    /** The TID: unique across the kernels of one pager; what the futex word holds. */
    public int tid() {
        return tid;
    }

    /** vm_lock_futex, waiting as long as it takes; returns how the kernel got the futex. */
    public AcquirePath lockFutex(long address) {
        return KernelClient.call(() -> kernel.stub.vmLockFutex(request(address).build())).getPath();
    }

    /** vm_lock_futex with a timeout: ETIMEDOUT (DEADLINE_EXCEEDED) when it expires first. */
    public AcquirePath lockFutex(long address, Duration timeout) {
        return KernelClient.call(() -> kernel.stub.vmLockFutex(
                request(address).setTimeoutMillis(timeout.toMillis()).build())).getPath();
    }

    /** vm_trylock_futex: true if the futex is now this thread's. */
    public boolean tryLockFutex(long address) {
        VmTrylockFutexReply reply = KernelClient.call(() -> kernel.stub.vmTrylockFutex(
                VmTrylockFutexRequest.newBuilder().setTask(task).setThread(tid).setAddress(address).build()));
        return reply.getAcquired();
    }

    /** vm_unlock_futex. */
    public void unlockFutex(long address) {
        KernelClient.call(() -> kernel.stub.vmUnlockFutex(
                VmUnlockFutexRequest.newBuilder().setTask(task).setThread(tid).setAddress(address).build()));
    }

    private VmLockFutexRequest.Builder request(long address) {
        return VmLockFutexRequest.newBuilder().setTask(task).setThread(tid).setAddress(address);
    }
}
