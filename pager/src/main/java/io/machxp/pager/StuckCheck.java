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
 * up to the question's bound. Nor is a core blocked on a monitor, or waiting on a lock, whose owner
 * is busy: RUNNABLE (computing, or in a system call: the store thread's slow write or fsync under
 * the file store's monitor, which the core's page version reads also take) or using CPU (late11
 * review MED-P1: before, a core waiting behind the store thread's slow disk was taken as stuck
 * after two slices, and close skipped the retry and the count the slow-disk case was to keep);
 * close waits for it up to the question's bound, as for a core in a system call. Only the owner
 * itself is looked at, not a chain of owners. One check per close question; the closing thread's.
 */
final class StuckCheck {
    /** What the check reads of the core thread (the JVM's, {@link CoreProgress}; a test's own). */
    interface Readings {
        /** The core thread's CPU time so far in ns, or -1 if not known. */
        long cpuNanos();

        /** The core thread's state now (RUNNABLE also in a system call), or null if not known. */
        Thread.State state();

        /** Stop-the-world collection time the JVM has taken so far, in ns (-1 if not known). */
        long gcNanos();

        /**
         * The thread owning the monitor or lock the core is blocked or waiting on now, or null if
         * the core is not waiting for a lock with an owner (or this is not known).
         */
        default Owner lockOwner() {
            return null;
        }
    }

    /** A lock's owner thread as read: its id, CPU time so far in ns (-1 if not known) and state. */
    record Owner(long thread, long cpuNanos, Thread.State state) {}

    /** Slices in a row the core must stand still for to be taken as stuck. */
    static final int SLICES = 2;

    private final Readings readings;
    private long cpu;
    private long gc;
    /** The core's lock's owner at the last reading, or null. */
    private Owner owner;
    /** Slices in a row the core has stood still for. */
    private int still;

    StuckCheck(Readings readings) {
        this.readings = readings;
        this.cpu = readings.cpuNanos();
        this.gc = readings.gcNanos();
        this.owner = readings.lockOwner();
    }

    /** After a slice of {@code sliceNanos} in which the core did not answer: whether it is stuck. */
    boolean stuck(long sliceNanos) {
        long cpuNow = readings.cpuNanos();
        long gcNow = readings.gcNanos();
        boolean ran = cpu < 0 || cpuNow != cpu;
        boolean collecting = gc < 0 || gcNow < 0 || gcNow - gc >= sliceNanos / 2;
        Owner ownerNow = readings.lockOwner();
        boolean ownerBusy = busy(owner, ownerNow);
        cpu = cpuNow;
        gc = gcNow;
        owner = ownerNow;
        still = ran || collecting || ownerBusy ? 0 : still + 1;
        if (still < SLICES) {
            return false;
        }
        Thread.State state = readings.state();
        return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING
                || state == Thread.State.BLOCKED;
    }

    /**
     * Whether the owner of the lock the core waits for is busy: RUNNABLE now, or the same thread
     * as at the last reading with its CPU time moved since.
     */
    private static boolean busy(Owner before, Owner now) {
        if (now == null) {
            return false;
        }
        if (now.state() == Thread.State.RUNNABLE) {
            return true;
        }
        return before != null && before.thread() == now.thread() && before.cpuNanos() >= 0
                && now.cpuNanos() >= 0 && now.cpuNanos() != before.cpuNanos();
    }
}
