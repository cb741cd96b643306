package io.machxp.chaos;

/**
 * The shape of a chaos run: what runs, for how long, and which faults are injected how often.
 * Every duration is virtual time in nanoseconds.
 *
 * @param kernels kernels at the start (a kernel that crashes or loses its lease is replaced)
 * @param threadsPerKernel worker threads per kernel, each in a task of its own
 * @param futexes futexes of the shared object, one page each, with a counter after the word
 * @param durationNanos how long the workload runs; then it drains
 * @param leaseNanos the pager's session lease
 * @param latencyNanos one-way XP latency
 * @param jitterNanos extra delay up to this, per message: reorders messages across links
 * @param meanFaultGapNanos mean time between two injected faults (0: no faults)
 * @param mix what the workers do besides their locked updates ({@link ChaosMix#STANDARD} by default)
 * @param futexRecords the pagers' bound on futex records for all kernels (0: the pager's default);
 *     below {@code futexes}, kernels meet it all the time: requests for a new futex wait parked
 *     while idle futexes are asked back (xp-spec 8.2)
 */
public record ChaosOptions(int kernels, int threadsPerKernel, int futexes, long durationNanos, long leaseNanos,
        long latencyNanos, long jitterNanos, long meanFaultGapNanos, ChaosMix mix, int futexRecords) {
    public static final ChaosOptions DEFAULT = new ChaosOptions(3, 3, 4, 1_000_000_000L, 20_000_000L, 50_000L,
            1_000_000L, 100_000_000L);

    public ChaosOptions {
        if (kernels < 1 || threadsPerKernel < 1 || futexes < 1 || durationNanos <= 0 || leaseNanos <= 0
                || latencyNanos < 0 || jitterNanos < 0 || meanFaultGapNanos < 0 || futexRecords < 0) {
            throw new IllegalArgumentException("chaos needs at least one kernel, thread and futex, a duration and a "
                    + "lease, and no negative latency, jitter, fault gap or futex records");
        }
        if (mix == null) {
            throw new IllegalArgumentException("a chaos run needs a workload mix (ChaosMix.STANDARD by default)");
        }
    }

    /** With the pagers' default bound on futex records. */
    public ChaosOptions(int kernels, int threadsPerKernel, int futexes, long durationNanos, long leaseNanos,
            long latencyNanos, long jitterNanos, long meanFaultGapNanos, ChaosMix mix) {
        this(kernels, threadsPerKernel, futexes, durationNanos, leaseNanos, latencyNanos, jitterNanos,
                meanFaultGapNanos, mix, 0);
    }

    /** The standard workload mix. */
    public ChaosOptions(int kernels, int threadsPerKernel, int futexes, long durationNanos, long leaseNanos,
            long latencyNanos, long jitterNanos, long meanFaultGapNanos) {
        this(kernels, threadsPerKernel, futexes, durationNanos, leaseNanos, latencyNanos, jitterNanos,
                meanFaultGapNanos, ChaosMix.STANDARD);
    }

    /** The same run with workload mix {@code value}. */
    public ChaosOptions withMix(ChaosMix value) {
        return new ChaosOptions(kernels, threadsPerKernel, futexes, durationNanos, leaseNanos, latencyNanos,
                jitterNanos, meanFaultGapNanos, value, futexRecords);
    }

    /** The same run with the pagers' bound on futex records for all kernels at {@code value} (0: the default). */
    public ChaosOptions withFutexRecords(int value) {
        return new ChaosOptions(kernels, threadsPerKernel, futexes, durationNanos, leaseNanos, latencyNanos,
                jitterNanos, meanFaultGapNanos, mix, value);
    }
}
