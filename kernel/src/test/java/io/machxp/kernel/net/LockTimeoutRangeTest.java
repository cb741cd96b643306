package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * VmLockFutex's timeout_millis and ThreadCompute/ThreadSleep's nanos over their whole uint64
 * range (review kreview INFO-2): up to 2^63 - 1 ns a lock is timed; longer, up to 2^64 - 1 ms,
 * it is no timeout (-1), compared unsigned, never a negative number that means so by accident.
 */
class LockTimeoutRangeTest {
    @Test
    void timeoutsBeyondWhatTheKernelTimesAreNone() {
        assertThat(MachTaskService.lockTimeoutNanos(false, 5)).as("absent").isEqualTo(-1);
        assertThat(MachTaskService.lockTimeoutNanos(true, 0)).isZero();
        assertThat(MachTaskService.lockTimeoutNanos(true, 1_500)).isEqualTo(1_500_000_000L);
        long max = MachTaskService.MAX_TIMEOUT_MILLIS;
        assertThat(max).isEqualTo(9_223_372_036_854L);
        assertThat(MachTaskService.lockTimeoutNanos(true, max)).isEqualTo(max * 1_000_000);
        for (long beyond : new long[] {max + 1, Long.MAX_VALUE, Long.MIN_VALUE, -1L}) {
            assertThat(MachTaskService.lockTimeoutNanos(true, beyond)).as(Long.toUnsignedString(beyond)).isEqualTo(-1);
        }
        assertThat(MachTaskService.clampNanos(-1L)).as("2^64 - 1 ns: forever").isEqualTo(Long.MAX_VALUE);
        assertThat(MachTaskService.clampNanos(Long.MIN_VALUE)).isEqualTo(Long.MAX_VALUE);
        assertThat(MachTaskService.clampNanos(7)).isEqualTo(7);
    }
}
