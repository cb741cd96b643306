package io.machxp.kernel;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.KernelException;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/**
 * A thread of a {@link LocalTask}. The futex calls block the calling Java thread and throw
 * {@link io.machxp.kernel.core.KernelException} with the errno on failure - and with EOWNERDEAD for
 * a lock that got a futex whose owner died, which the caller then owns, as Linux's robust mutexes
 * answer it; a cached, free futex is locked and unlocked on the calling thread with one CAS each.
 *
 * <p>The fast path is kept as short as the hardware allows: the futex of the last address used is
 * remembered (a futex's entry never changes for an address: the slot outlives residency), and its
 * acquisitions are counted in a field of this object that only the calling thread writes (opaque
 * writes, no shared CAS), which the kernel's statistics add up. Like a Mach thread, a LocalThread
 * makes one call at a time: use it from one Java thread at a time.
 */
public final class LocalThread {
    private static final VarHandle FAST_ACQUIRES;

    static {
        try {
            FAST_ACQUIRES = MethodHandles.lookup().findVarHandle(LocalThread.class, "fastAcquires", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Kernel kernel;
    private final MachTask task;
    private final MachThread thread;
    private final int tid;
    /** The kernel's lease, as the fast path reads it (see LeaseGate). */
    private final io.machxp.kernel.futex.LeaseGate lease;
    private long cachedAddress = -1;
    private FutexEntry cachedFutex;
    @SuppressWarnings("unused") // through FAST_ACQUIRES
    private long fastAcquires;

    /** The core of the session its task was created in. */
    private final io.machxp.kernel.core.KernelCore core;

    LocalThread(Kernel kernel, io.machxp.kernel.core.KernelCore core, MachTask task, MachThread thread) {
        this.core = core;
        this.lease = core.leaseGate();
        this.kernel = kernel;
        this.task = task;
        this.thread = thread;
        this.tid = thread.tid;
        kernel.stats().addFastPathCount(() -> (long) FAST_ACQUIRES.getOpaque(this));
    }

    public int tid() {
        return tid;
    }

    /**
     * vm_lock_futex: waits as long as it takes. Interrupted while it waits, it stops waiting (the
     * core answers EINTR) and throws - unless the futex came first, which it then returns with the
     * interrupt status set: the caller owns the futex exactly when it is told so. A futex whose
     * previous owner died holding it throws {@link KernelException} with EOWNERDEAD, as a robust
     * mutex's lock returns it on Linux: the caller owns the futex then, and should repair the data
     * and call {@link #markConsistent} before it unlocks, or the futex becomes not recoverable.
     */
    public AcquirePath lockFutex(long address) {
        if (fastLock(address)) { // the hot path: nothing allocated
            return AcquirePath.FAST_PATH;
        }
        return told(address, coreLock(address, -1)).path();
    }

    /** vm_lock_futex with a timeout: ETIMEDOUT when it expires first; interrupted or EOWNERDEAD, as {@link #lockFutex(long)}. */
    public AcquirePath lockFutex(long address, Duration timeout) {
        if (fastLock(address)) {
            return AcquirePath.FAST_PATH;
        }
        return told(address, coreLock(address, timeout.toNanos())).path();
    }

    /**
     * vm_lock_futex with the whole answer, EOWNERDEAD as {@link Acquired#ownerDied()} instead of
     * thrown ({@code timeout} null: as long as it takes).
     */
    public Acquired lock(long address, Duration timeout) {
        if (fastLock(address)) {
            return new Acquired(AcquirePath.FAST_PATH, false, fencingToken(address));
        }
        return coreLock(address, timeout == null ? -1 : timeout.toNanos());
    }

    private Acquired coreLock(long address, long timeoutNanos) {
        return kernel.<Acquired>callAbortable(r -> core.vmLockFutex(task.id, tid, address, timeoutNanos, r),
                r -> core.abortWait(task.id, tid, r));
    }

    /**
     * vm_trylock_futex: true if the futex is now this thread's; EOWNERDEAD thrown as by
     * {@link #lockFutex(long)} (the futex is then this thread's too).
     */
    public boolean tryLockFutex(long address) {
        if (fastLock(address)) {
            return true;
        }
        Acquired a = kernel.<Acquired>call(r -> core.vmTrylockFutex(task.id, tid, address, r));
        return a != null && told(address, a) != null;
    }

    /** vm_trylock_futex with the whole answer: null if another thread holds it. */
    public Acquired trylock(long address) {
        if (fastLock(address)) {
            return new Acquired(AcquirePath.FAST_PATH, false, fencingToken(address));
        }
        return kernel.<Acquired>call(r -> core.vmTrylockFutex(task.id, tid, address, r));
    }

    /** vm_futex_consistent: after EOWNERDEAD, the data is repaired and the futex usable again. */
    public void markConsistent(long address) {
        kernel.<Void>call(r -> core.vmFutexConsistent(task.id, tid, address, r));
    }

    /** {@code a}, or EOWNERDEAD thrown if its previous owner died (the caller owns the futex all the same). */
    private Acquired told(long address, Acquired a) {
        if (a.ownerDied()) {
            throw new KernelException(KernelError.of(Errno.EOWNERDEAD, "the previous owner of the futex at 0x%x died "
                    + "holding it; thread %d owns it now: repair the data and mark it consistent before unlocking it, "
                    + "or it becomes not recoverable", address, tid));
        }
        return a;
    }

    /**
     * The fencing token of the grant under which this kernel holds, or last held, the futex at
     * {@code address} (the one a lock by this thread got); 0 if the kernel never held it.
     */
    public long fencingToken(long address) {
        FutexEntry e = futex(address);
        return e == null ? 0 : e.fencingToken;
    }

    /** vm_unlock_futex. */
    public void unlockFutex(long address) {
        FutexEntry e = futex(address);
        if (e == null || !thread.alive || !e.tryFastUnlock(tid)) {
            kernel.<Void>call(r -> core.vmUnlockFutex(task.id, tid, address, r));
        }
    }

    /**
     * mach_msg: sends {@code msg} (MACH_SEND_MSG) and/or receives on {@code rcvName} at most
     * {@code rcvSize} bytes (MACH_RCV_MSG), with MACH_SEND_TIMEOUT / MACH_RCV_TIMEOUT applying
     * {@code timeoutMs}. Blocks the calling Java thread while Mach would block the thread. Mach's
     * outcome is the returned code; interrupted while blocked, the call ends with
     * MACH_SEND_INTERRUPTED (the message's rights back in the task) or MACH_RCV_INTERRUPTED, and
     * the interrupt status set.
     */
    public MsgReturn machMsg(MachMessage msg, int option, int rcvSize, int rcvName, long timeoutMs) {
        return kernel.<MsgReturn>callAbortable(
                r -> core.ipc().machMsg(task.id, tid, msg, option, rcvSize, rcvName, timeoutMs, r),
                r -> core.ipc().abort(task.id, tid, r));
    }

    /** thread_terminate: futexes the thread holds pass on with OWNER_DIED. */
    public void terminate() {
        kernel.<Void>call(r -> core.threadTerminate(task.id, tid, r));
    }

    private boolean fastLock(long address) {
        FutexEntry e = futex(address);
        if (e != null && thread.alive && lease.openNow() && e.tryFastLock(tid)) {
            FAST_ACQUIRES.setOpaque(this, (long) FAST_ACQUIRES.getOpaque(this) + 1);
            return true;
        }
        return false;
    }

    /** The futex at {@code address} if the kernel tracks one there, remembered once found. */
    private FutexEntry futex(long address) {
        if (address == cachedAddress) {
            return cachedFutex;
        }
        FutexEntry e = task.residentFutex(address);
        if (e != null) {
            cachedAddress = address;
            cachedFutex = e;
        }
        return e;
    }
}
