package io.machxp.scenario;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * The kernel's backstop for a linux-mode run: RLIMIT_RTTIME for the process while the run lasts,
 * so that Linux itself kills the JVM (SIGKILL) if one real-time thread runs longer than the bound
 * without blocking, even when no thread of the JVM can get a CPU any more. The kernel counts, per
 * real-time thread, the CPU time since it last blocked, so a thread that sleeps, waits in a lock or
 * parks starts again from 0; only a thread that spins reaches the bound. It needs no CPU of its
 * own, unlike {@link LinuxWatchdog}, which acts first and says which scenario went wrong.
 *
 * <p>Soft and hard limit are both the bound (the soft one alone would send SIGXCPU, whose default
 * action dumps the JVM's core); the old limits come back on {@link #close} (raising the hard
 * limit again needs CAP_SYS_RESOURCE: without it the lower one stays, and a later run uses it if it
 * is lower than its own bound).
 */
final class LinuxRtTimeLimit implements AutoCloseable {
    static final int RLIMIT_RTTIME = 15;
    /** RLIM_INFINITY. */
    static final long UNLIMITED = -1L;

    private final Memory old = new Memory(16);
    private boolean set;

    private LinuxRtTimeLimit() {}

    /** Sets the limit to {@code micros} of real-time CPU without blocking, or to the hard limit if that is lower. */
    static LinuxRtTimeLimit set(long micros) {
        LinuxRtTimeLimit l = new LinuxRtTimeLimit();
        l.old.clear();
        if (LinuxNative.getrlimit(RLIMIT_RTTIME, Pointer.nativeValue(l.old)) != 0) {
            return l;
        }
        long bound = bound(micros, l.old.getLong(8));
        Memory now = new Memory(16);
        now.setLong(0, bound);
        now.setLong(8, bound);
        l.set = LinuxNative.setrlimit(RLIMIT_RTTIME, Pointer.nativeValue(now)) == 0;
        return l;
    }

    /** The bound to set: {@code micros}, or the hard limit {@code hard} if that is lower (unsigned; -1 is unlimited). */
    static long bound(long micros, long hard) {
        return hard == UNLIMITED || Long.compareUnsigned(hard, micros) > 0 ? micros : hard;
    }

    /** Whether the limit is in force. */
    boolean active() {
        return set;
    }

    @Override
    public void close() {
        if (set) {
            set = false;
            LinuxNative.setrlimit(RLIMIT_RTTIME, Pointer.nativeValue(old)); // EPERM: the lower hard limit stays
        }
    }
}
