package io.machxp.kernel.futex;

import io.machxp.kernel.core.KernelStats;
import io.machxp.kernel.task.MachTask;
import io.machxp.proto.task.AcquirePath;

/**
 * The futex fast path, run on the caller's own thread: one lookup and one CAS, no message, no
 * hop to the core thread (the Linux PI-futex fast path: 0 -> TID, TID -> 0). Anything else -
 * the futex not cached here, held, waited for, asked back by the pager, a bad address, the
 * kernel's lease run out ({@link LeaseGate}) - fails here and is decided by the kernel core.
 */
public final class FutexFastPath {
    private FutexFastPath() {}

    /**
     * Locks a cached free futex: its entry (whose fencing token is the grant's it was locked
     * under), or null if the core must decide.
     */
    public static FutexEntry tryLock(MachTask task, int tid, long address, KernelStats stats, LeaseGate lease) {
        FutexEntry e = task.residentFutex(address);
        if (e != null && lease.openNow() && e.tryFastLock(tid)) {
            stats.acquired(AcquirePath.FAST_PATH);
            return e;
        }
        return null;
    }

    /** Unlocks a futex {@code tid} owns when nobody waits for it; false if the core must decide. */
    public static boolean tryUnlock(MachTask task, int tid, long address) {
        FutexEntry e = task.residentFutex(address);
        return e != null && e.tryFastUnlock(tid);
    }
}
