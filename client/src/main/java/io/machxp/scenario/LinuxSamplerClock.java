package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CLOCK_MONOTONIC;
import static io.machxp.scenario.LinuxNative.TIMER_ABSTIME;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * The clock that the priority sampler ({@link LinuxSampler}) reads and sleeps on: Linux's
 * CLOCK_MONOTONIC, read with clock_gettime and slept on with clock_nanosleep (TIMER_ABSTIME). The
 * sampler computes each deadline on the clock it then sleeps on, so a deadline cannot lie in the
 * past for the kernel while it looks ahead to the sampler (System.nanoTime is CLOCK_MONOTONIC
 * too, but only because HotSpot on Linux implements it so). Tests replace it to make a call fail.
 */
interface LinuxSamplerClock {
    /** CLOCK_MONOTONIC now, in nanoseconds, or minus the errno of a clock_gettime that failed. */
    long now();

    /**
     * Sleeps until {@code monotonic} (nanoseconds of CLOCK_MONOTONIC): 0, or the error number
     * clock_nanosleep returned (EINTR: woken before it).
     */
    int sleepUntil(long monotonic);

    /**
     * The real calls, for one thread: the timespec they pass to the kernel is allocated by the
     * constructor and reused, so a call allocates nothing and takes no Java lock (direct-mapped
     * JNA, {@link LinuxNative}).
     */
    final class Monotonic implements LinuxSamplerClock {
        private final Memory timespec = new Memory(16);
        private final long at = Pointer.nativeValue(timespec);

        @Override
        public long now() {
            if (LinuxNative.clock_gettime(CLOCK_MONOTONIC, at) != 0) {
                return -Math.max(1, LinuxNative.errno());
            }
            return timespec.getLong(0) * 1_000_000_000L + timespec.getLong(8);
        }

        @Override
        public int sleepUntil(long monotonic) {
            timespec.setLong(0, monotonic / 1_000_000_000L);
            timespec.setLong(8, monotonic % 1_000_000_000L);
            return LinuxNative.clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, at, 0);
        }
    }
}
