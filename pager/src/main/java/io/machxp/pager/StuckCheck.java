package io.machxp.pager;

/**
 * Whether the pager's core thread, which has not answered one of close's questions, is stuck
 * (close stops waiting for it) or busy (close waits up to the question's bound), judged after each
 * slice of {@link StoreClose#STUCK_AFTER} it did not answer, from {@link Readings} of the core's
 * thread. One check per close question; not thread-safe (the closing thread's).
 */
final class StuckCheck {
    /** What the check reads of the core thread (the JVM's, {@link CoreProgress}; a test's own). */
    interface Readings {
        /** The core thread's CPU time so far in ns, or -1 if not known. */
        long cpuNanos();

        /** The core thread's state now (RUNNABLE also in a system call), or null if not known. */
        Thread.State state();

        /** Time the JVM's collectors have taken so far, in ns (-1 if not known). */
        long gcNanos();
    }

    /** Slices in a row the core must stand still for to be taken as stuck. */
    static final int SLICES = 1;

    private final Readings readings;
    private long cpu;

    StuckCheck(Readings readings) {
        this.readings = readings;
        this.cpu = readings.cpuNanos();
    }

    /** After a slice of {@code sliceNanos} in which the core did not answer: whether it is stuck. */
    boolean stuck(long sliceNanos) {
        long now = readings.cpuNanos();
        boolean stuck = cpu >= 0 && now == cpu;
        cpu = now;
        return stuck;
    }
}
