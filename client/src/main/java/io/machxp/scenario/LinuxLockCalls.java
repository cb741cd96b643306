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
 *
 * <p>A raw lock that the kernel answers EINTR or EAGAIN tries again with the same absolute
 * deadline (the file's timeout holds however often it retries), and gives up when the run is
 * stopped or after {@link #MAX_RETRIES} answers in a row: a SCHED_FIFO thread must never loop
 * here without end (docs/linux-mode.md, "A run that goes wrong"). {@link #futex}, {@link #errno}
 * and {@link #stopped} are the seams its tests replace.
 */
class LinuxLockCalls {
    /** EINTR or EAGAIN answers in a row after which a raw lock gives up with that errno. */
    static final int MAX_RETRIES = 10_000;
    /** The thread's scratch memory: a timespec at 0. */
    private final Memory scratch;
    private final LinuxPlatform run;

    LinuxLockCalls(Memory scratch, LinuxPlatform run) {
        this.scratch = scratch;
        this.run = run;
    }

    long futex(long at, int op, long timeout) {
        return LinuxNative.syscall(SYS_FUTEX, at, op | FUTEX_PRIVATE_FLAG, 0, timeout, 0, 0);
    }

    int errno() {
        return LinuxNative.errno();
    }

    /** Whether the run was stopped (its limit, its end, or the watchdog): a retry loop ends then. */
    boolean stopped() {
        return run.stopped;
    }

    Outcome failed(String call) {
        int e = errno();
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

    /**
     * FUTEX_LOCK_PI, with the deadline (if any) computed once: a retry after EINTR or EAGAIN (the
     * owner is exiting; the kernel asks to try again) waits for the same absolute time.
     */
    Outcome rawLock(long at, long timeout) {
        long ts = 0;
        if (timeout >= 0) {
            deadline(timeout);
            ts = Pointer.nativeValue(scratch);
        }
        for (int retries = 0; ; retries++) {
            if (futex(at, FUTEX_LOCK_PI, ts) == 0) {
                return acquired(at);
            }
            int e = errno();
            if (e != LinuxSupport.EINTR && e != LinuxSupport.EAGAIN) {
                return new Outcome(LinuxSupport.errnoName(e), "FUTEX_LOCK_PI: " + LinuxSupport.errnoName(e));
            }
            if (stopped()) {
                return new Outcome(LinuxSupport.errnoName(e), "FUTEX_LOCK_PI: " + LinuxSupport.errnoName(e)
                        + ", and the run was stopped");
            }
            if (retries + 1 >= MAX_RETRIES) {
                return new Outcome(LinuxSupport.errnoName(e), "FUTEX_LOCK_PI: " + LinuxSupport.errnoName(e) + " "
                        + MAX_RETRIES + " times in a row");
            }
        }
    }

    Outcome rawTrylock(long at) {
        if (futex(at, FUTEX_TRYLOCK_PI, 0) == 0) {
            return acquired(at);
        }
        int e = errno();
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
