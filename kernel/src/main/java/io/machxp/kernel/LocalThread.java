package io.machxp.kernel;

import io.machxp.kernel.core.KernelException;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexFastPath;
import io.machxp.kernel.task.MachTask;
import io.machxp.proto.task.AcquirePath;
import java.time.Duration;

/**
 * A thread of a {@link LocalTask}. The futex calls block the calling Java thread and throw
 * {@link KernelException} with the errno on failure; a cached, free futex is locked and unlocked
 * on the calling thread with one CAS each.
 */
public final class LocalThread {
    private final Kernel kernel;
    private final MachTask task;
    private final int tid;

    LocalThread(Kernel kernel, MachTask task, int tid) {
        this.kernel = kernel;
        this.task = task;
        this.tid = tid;
    }

    public int tid() {
        return tid;
    }

    /** vm_lock_futex: waits as long as it takes. */
    public AcquirePath lockFutex(long address) {
        if (FutexFastPath.tryLock(task, tid, address, kernel.stats())) {
            return AcquirePath.FAST_PATH;
        }
        return kernel.<Acquired>call(r -> kernel.core().vmLockFutex(task.id, tid, address, -1, r)).path();
    }

    /** vm_lock_futex with a timeout: ETIMEDOUT when it expires first. */
    public AcquirePath lockFutex(long address, Duration timeout) {
        if (FutexFastPath.tryLock(task, tid, address, kernel.stats())) {
            return AcquirePath.FAST_PATH;
        }
        return kernel.<Acquired>call(r -> kernel.core().vmLockFutex(task.id, tid, address, timeout.toNanos(), r)).path();
    }

    /** vm_trylock_futex: true if the futex is now this thread's. */
    public boolean tryLockFutex(long address) {
        if (FutexFastPath.tryLock(task, tid, address, kernel.stats())) {
            return true;
        }
        return kernel.<Acquired>call(r -> kernel.core().vmTrylockFutex(task.id, tid, address, r)) != null;
    }

    /** vm_unlock_futex. */
    public void unlockFutex(long address) {
        if (!FutexFastPath.tryUnlock(task, tid, address)) {
            kernel.<Void>call(r -> kernel.core().vmUnlockFutex(task.id, tid, address, r));
        }
    }
}
