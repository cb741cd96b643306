package io.machxp.client;

import java.time.Duration;
import java.util.function.ToLongFunction;

/**
 * Java durations as task.proto's unsigned fields, read the way java.util.concurrent reads a
 * timeout: a negative one is a deadline already past (0), and one too long for the field is
 * effectively forever. Before, a negative {@link Duration} went out as its two's complement - a
 * uint64 of 2^63 or more, which the kernel takes as no timeout (task.proto) - so a lock meant to
 * fail at once on a held futex waited for good, and {@code sleep(Duration.ofMillis(-1))} slept
 * until cancelled; a duration past a long's milliseconds or nanoseconds threw ArithmeticException.
 */
final class WireDurations {
    private WireDurations() {}

    /** VmLockFutex's timeout_millis: 0 for a negative duration; over the kernel's bound (no timeout) for a huge one. */
    static long millis(Duration d) {
        return unsigned(d, Duration::toMillis);
    }

    /** ThreadCompute's and ThreadSleep's nanos: 0 for a negative duration; 2^63 - 1 (forever) for a huge one. */
    static long nanos(Duration d) {
        return unsigned(d, Duration::toNanos);
    }

    /** {@code d} in {@code unit}: 0 if negative, Long.MAX_VALUE if longer than a long holds (above the kernel's bounds). */
    private static long unsigned(Duration d, ToLongFunction<Duration> unit) {
        if (d.isNegative()) {
            return 0;
        }
        try {
            return unit.applyAsLong(d);
        } catch (ArithmeticException longerThanALong) {
            return Long.MAX_VALUE;
        }
    }

    /** mach_msg's timeout_millis, a uint32: 0 (poll) for a negative one, capped at 2^32 - 1. */
    static int machMsgMillis(long millis) {
        return (int) Math.min(Math.max(0, millis), 0xFFFFFFFFL);
    }
}
