package io.machxp.sim;

/**
 * A node's clock in the simulator: what its {@code nanoTime()} reads, as a function of the
 * simulation's true virtual time. It runs at a rate (1 is exact; 1.02 runs 2 % fast) and may jump
 * forward; it never goes back, as {@link System#nanoTime()} never does. Timers a node sets run on
 * its own clock: a delay of d on a clock of rate r fires d / r of true time later.
 */
final class SimClock {
    private long trueBase;
    private long localBase;
    private double rate = 1;

    /** What the node reads at true time {@code now}. */
    long local(long now) {
        return localBase + (long) Math.floor((now - trueBase) * rate);
    }

    /** The true time a timer of {@code localDelay} on this clock takes. */
    long trueDelay(long localDelay) {
        return rate == 1 ? localDelay : (long) Math.ceil(localDelay / rate);
    }

    /** From {@code now} on the clock runs at {@code newRate}. */
    void rate(long now, double newRate) {
        if (!(newRate > 0)) {
            throw new IllegalArgumentException("a clock's rate must be above 0, not " + newRate);
        }
        localBase = local(now);
        trueBase = now;
        rate = newRate;
    }

    /** The clock jumps {@code nanos} forward at {@code now} (timers already set keep their true time). */
    void jump(long now, long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("a monotonic clock never jumps back (" + nanos + " ns)");
        }
        localBase = local(now) + nanos;
        trueBase = now;
    }
}
