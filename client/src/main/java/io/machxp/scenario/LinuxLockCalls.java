package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CLOCK_REALTIME;
import static io.machxp.scenario.LinuxNative.FUTEX_LOCK_PI;
import static io.machxp.scenario.LinuxNative.FUTEX_PRIVATE_FLAG;
import static io.machxp.scenario.LinuxNative.FUTEX_TRYLOCK_PI;
import static io.machxp.scenario.LinuxNative.SYS_FUTEX;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * The lock calls of one linux-mode scenario thread ({@link LinuxWorker}), on a futex word at a
 * native address: raw FUTEX_LOCK_PI / FUTEX_TRYLOCK_PI / FUTEX_UNLOCK_PI (private), or glibc's
 * robust PI pthread mutex calls, each turned into the scenario's outcome (a raw lock that returns
 * with OWNER_DIED in the word is EOWNERDEAD, as glibc reports it; EAGAIN and EBUSY of a trylock are
 * "busy"). Timeouts are absolute CLOCK_REALTIME times written into the thread's scratch memory.
 * Called only on the scenario thread that owns it: no allocation, no lock, no lambda on the way.
 */
final class LinuxLockCalls {
    /** The thread's scratch memory: a timespec at 0. */
    private final Memory scratch;

    LinuxLockCalls(Memory scratch) {
        this.scratch = scratch;
    }

    long futex(long at, int op, long timeout) {
        return LinuxNative.syscall(SYS_FUTEX, at, op | FUTEX_PRIVATE_FLAG, 0, timeout, 0, 0);
    }

    Outcome failed(String call) {
        int e = LinuxNative.errno();
        return new Outcome(LinuxSupport.errnoName(e), call + ": " + LinuxSupport.errnoName(e));
    }

    Outcome rc(int rc, String call) {
        return rc == 0 ? Outcome.ok("") : new Outcome(LinuxSupport.errnoName(rc), call + ": " + LinuxSupport.errnoName(rc));
    }

    /** The word after a raw lock got it: OWNER_DIED in it is EOWNERDEAD, as glibc reports it. */
    private Outcome acquired(long at) {
        int v = new Pointer(at).getInt(0);
        return (v & WordValues.OWNER_DIED) != 0 ? new Outcome("EOWNERDEAD", "previous owner died") : Outcome.ok("");
    }

    Outcome rawLock(long at, long timeout) {
        while (true) {
            long ts = 0;
            if (timeout >= 0) {
                deadline(timeout);
                ts = Pointer.nativeValue(scratch);
            }
            if (futex(at, FUTEX_LOCK_PI, ts) == 0) {
                return acquired(at);
            }
            int e = LinuxNative.errno();
            if (e == LinuxSupport.EINTR || e == LinuxSupport.EAGAIN) {
                continue; // EAGAIN: the owner is exiting; the kernel asks to try again
            }
            return new Outcome(LinuxSupport.errnoName(e), "FUTEX_LOCK_PI: " + LinuxSupport.errnoName(e));
        }
    }

    Outcome rawTrylock(long at) {
        if (futex(at, FUTEX_TRYLOCK_PI, 0) == 0) {
            return acquired(at);
        }
        int e = LinuxNative.errno();
        if (e == LinuxSupport.EAGAIN) {
            return new Outcome("busy", "FUTEX_TRYLOCK_PI: EAGAIN");
        }
        return new Outcome(LinuxSupport.errnoName(e), "FUTEX_TRYLOCK_PI: " + LinuxSupport.errnoName(e));
    }

    Outcome pthreadLock(long at, long timeout) {
        int rc;
        if (timeout >= 0) {
            deadline(timeout);
            rc = LinuxNative.pthread_mutex_timedlock(at, Pointer.nativeValue(scratch));
        } else {
            rc = LinuxNative.pthread_mutex_lock(at);
        }
        if (rc == LinuxSupport.EOWNERDEAD) {
            return new Outcome("EOWNERDEAD", "previous owner died");
        }
        return rc(rc, timeout >= 0 ? "pthread_mutex_timedlock" : "pthread_mutex_lock");
    }

    Outcome pthreadTrylock(long at) {
        int rc = LinuxNative.pthread_mutex_trylock(at);
        if (rc == LinuxSupport.EBUSY) {
            return new Outcome("busy", "pthread_mutex_trylock: EBUSY");
        }
        if (rc == LinuxSupport.EOWNERDEAD) {
            return new Outcome("EOWNERDEAD", "previous owner died");
        }
        return rc(rc, "pthread_mutex_trylock");
    }

    /** Writes now + {@code nanos} on CLOCK_REALTIME into the timespec at scratch[0]. */
    private void deadline(long nanos) {
        long base = Pointer.nativeValue(scratch);
        LinuxNative.clock_gettime(CLOCK_REALTIME, base);
        long sec = scratch.getLong(0) + nanos / 1_000_000_000L;
        long nsec = scratch.getLong(8) + nanos % 1_000_000_000L;
        if (nsec >= 1_000_000_000L) {
            sec++;
            nsec -= 1_000_000_000L;
        }
        scratch.setLong(0, sec);
        scratch.setLong(8, nsec);
    }
}
