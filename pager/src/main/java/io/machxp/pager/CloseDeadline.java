package io.machxp.pager;

import java.time.Duration;

/**
 * The one deadline of a {@link Pager#close}: every phase (the server's shutdown, the store's reads,
 * the retry of its failed writes, the store thread's writes, the count of pages lost, the store's
 * close) waits at most its own bound and at most what is left of this deadline, so close as a whole
 * ends by it and logs what it skipped before it (late9 review MED-3: the phases' bounds added up to
 * more than the CLI's exit bound, which cut the close off in the middle, logging nothing).
 */
final class CloseDeadline {
    private final long end;
    /** Now, in ns: System.nanoTime, or a test's clock. */
    private final java.util.function.LongSupplier clock;

    private CloseDeadline(long end, java.util.function.LongSupplier clock) {
        this.end = end;
        this.clock = clock;
    }

    /** A deadline {@code bound} from now. */
    static CloseDeadline in(Duration bound) {
        return in(bound, System::nanoTime);
    }

    /** A deadline {@code bound} from now on {@code clock} (ns; a test's). */
    static CloseDeadline in(Duration bound, java.util.function.LongSupplier clock) {
        return new CloseDeadline(clock.getAsLong() + bound.toNanos(), clock);
    }

    /** What is left of the deadline, never negative. */
    Duration left() {
        return Duration.ofNanos(Math.max(0, end - clock.getAsLong()));
    }

    /** {@code bound}, or what is left of the deadline if that is less. */
    Duration upTo(Duration bound) {
        Duration left = left();
        return bound.compareTo(left) < 0 ? bound : left;
    }

    /** {@code bound}, or what is left of the deadline less {@code kept} (for the phases after) if that is less. */
    Duration upTo(Duration bound, Duration kept) {
        Duration left = left().minus(kept);
        return left.isNegative() ? Duration.ZERO : bound.compareTo(left) < 0 ? bound : left;
    }
}
