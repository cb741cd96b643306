package io.machxp.pager;

/**
 * Whether the pager's core thread, which has not answered one of close's questions, is stuck
 * (close stops waiting for it) or busy (close waits up to the question's bound), judged after each
 * slice of {@link StoreClose#STUCK_AFTER} it did not answer, from {@link Readings} of the core's
 * thread: stuck once it has used no CPU for {@link #SLICES} slices in a row and is parked, waiting
 * or blocked on a monitor (not RUNNABLE). So neither of these is taken for stuck (late10 review
 * L2; before, one slice without CPU was): a stop-the-world pause longer than a slice (every
 * thread stands still, the closing thread too, which then wakes to a core that has not run: the
 * next slice, after the pause, sees it run; a slice the JVM spent largely collecting does not
 * count either), and a core in a system call (a slow disk: RUNNABLE, no CPU), which close waits for
 * up to the question's bound. One check per close question; the closing thread's.
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
    static final int SLICES = 2;

    private final Readings readings;
    private long cpu;
    private long gc;
    /** Slices in a row the core has stood still for. */
    private int still;

    StuckCheck(Readings readings) {
        this.readings = readings;
        this.cpu = readings.cpuNanos();
        this.gc = readings.gcNanos();
    }

    /** After a slice of {@code sliceNanos} in which the core did not answer: whether it is stuck. */
    boolean stuck(long sliceNanos) {
        long cpuNow = readings.cpuNanos();
        long gcNow = readings.gcNanos();
        boolean ran = cpu < 0 || cpuNow != cpu;
        boolean collecting = gc < 0 || gcNow < 0 || gcNow - gc >= sliceNanos / 2;
        cpu = cpuNow;
        gc = gcNow;
        still = ran || collecting ? 0 : still + 1;
        if (still < SLICES) {
            return false;
        }
        Thread.State state = readings.state();
        return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING
                || state == Thread.State.BLOCKED;
    }
}
