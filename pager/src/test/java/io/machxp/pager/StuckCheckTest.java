package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Close's judgement of a core that does not answer (review late10, L2): a core that used no CPU
 * in one slice of {@link StoreClose#STUCK_AFTER} was taken as stuck, so a stop-the-world pause
 * longer than a slice (the core, like every thread, stood still) or a core blocked in a system
 * call (a slow disk) made close skip the retry of the failed writes and the count of pages lost.
 * Now the core must stand still for {@link StuckCheck#SLICES} slices in a row, parked or blocked
 * (not RUNNABLE: computing or in a system call), and a slice the JVM spent largely collecting
 * does not count. Readings and slices are the test's: deterministic, nothing waits.
 */
class StuckCheckTest {
    private static final long SLICE = StoreClose.STUCK_AFTER.toNanos();

    /** The core thread as the test sets it. */
    private static final class Core implements StuckCheck.Readings {
        long cpu = 1_000;
        Thread.State state = Thread.State.WAITING;
        long gc;
        StuckCheck.Owner owner;

        @Override
        public long cpuNanos() {
            return cpu;
        }

        @Override
        public Thread.State state() {
            return state;
        }

        @Override
        public long gcNanos() {
            return gc;
        }

        @Override
        public StuckCheck.Owner lockOwner() {
            return owner;
        }
    }

    @Test
    void aParkedCoreIsStuckOnlyAfterStandingStillForSeveralSlices() {
        Core core = new Core();
        StuckCheck check = new StuckCheck(core);
        for (int i = 1; i < StuckCheck.SLICES; i++) {
            assertThat(check.stuck(SLICE)).as("slice %d without CPU", i).isFalse();
        }
        assertThat(check.stuck(SLICE)).as("slice %d without CPU", StuckCheck.SLICES).isTrue();
    }

    @Test
    void aCoreThatComputesBetweenIsNotStuck() {
        Core core = new Core();
        StuckCheck check = new StuckCheck(core);
        for (int i = 0; i < 10; i++) {
            assertThat(check.stuck(SLICE)).isFalse();
            core.cpu += 1_000_000; // it ran in the next slice
            assertThat(check.stuck(SLICE)).isFalse();
        }
    }

    @Test
    void aLongCollectionIsNotTakenForAStuckCore() {
        Core core = new Core();
        core.state = Thread.State.RUNNABLE;
        StuckCheck check = new StuckCheck(core);
        // a 12 s stop-the-world pause: the closing thread wakes after it, the core's CPU time has not grown
        core.gc += 12_000_000_000L;
        assertThat(check.stuck(12_000_000_000L)).as("the slice of the pause").isFalse();
        core.state = Thread.State.WAITING; // as the pause ends, the core is seen waiting once
        assertThat(check.stuck(SLICE)).as("the first slice after it").isFalse();
        core.cpu += 1_000_000;
        assertThat(check.stuck(SLICE)).isFalse();
    }

    @Test
    void aCoreInASystemCallIsWaitedFor() {
        Core core = new Core();
        core.state = Thread.State.RUNNABLE; // blocked reading a slow disk: no CPU, but not parked
        StuckCheck check = new StuckCheck(core);
        for (int i = 0; i < 20; i++) {
            assertThat(check.stuck(SLICE)).as("slice %d in the system call", i).isFalse();
        }
    }

    @Test
    void withoutCpuTimesNothingIsTakenAsStuck() {
        Core core = new Core();
        core.cpu = -1;
        StuckCheck check = new StuckCheck(core);
        for (int i = 0; i < 5; i++) {
            assertThat(check.stuck(SLICE)).isFalse();
        }
    }

    /**
     * Late11 review MED-P1: the core blocked on the file store's monitor while the store thread
     * writes (and fsyncs) under it is waiting for a slow disk, not stuck.
     */
    @Test
    void aCoreBlockedBehindABusyLockOwnerIsWaitedFor() {
        Core core = new Core();
        core.state = Thread.State.BLOCKED;
        core.owner = new StuckCheck.Owner(42, 7_000, Thread.State.RUNNABLE); // the store thread in fsync
        StuckCheck check = new StuckCheck(core);
        for (int i = 0; i < 20; i++) {
            assertThat(check.stuck(SLICE)).as("slice %d behind the owner's system call", i).isFalse();
        }
    }

    @Test
    void aCoreWaitingOnALockWhoseOwnerUsesCpuIsWaitedFor() {
        Core core = new Core();
        core.state = Thread.State.WAITING; // parked on a ReentrantLock
        core.owner = new StuckCheck.Owner(42, 7_000, Thread.State.TIMED_WAITING);
        StuckCheck check = new StuckCheck(core);
        for (int i = 0; i < 20; i++) {
            core.owner = new StuckCheck.Owner(42, 7_000 + (i + 1) * 1_000_000L, Thread.State.TIMED_WAITING);
            assertThat(check.stuck(SLICE)).as("slice %d, the owner ran", i).isFalse();
        }
    }

    @Test
    void aCoreBlockedBehindAnOwnerStandingStillIsStuck() {
        Core core = new Core();
        core.state = Thread.State.BLOCKED;
        core.owner = new StuckCheck.Owner(42, 7_000, Thread.State.WAITING); // the owner parked for good
        StuckCheck check = new StuckCheck(core);
        for (int i = 1; i < StuckCheck.SLICES; i++) {
            assertThat(check.stuck(SLICE)).isFalse();
        }
        assertThat(check.stuck(SLICE)).isTrue();
    }

    @Test
    void anotherOwnersCpuTimeIsNotTakenForProgress() {
        Core core = new Core();
        core.state = Thread.State.BLOCKED;
        core.owner = new StuckCheck.Owner(42, 7_000, Thread.State.BLOCKED);
        StuckCheck check = new StuckCheck(core);
        core.owner = new StuckCheck.Owner(43, 9_000, Thread.State.BLOCKED); // the lock changed hands, both stand still
        for (int i = 1; i < StuckCheck.SLICES; i++) {
            assertThat(check.stuck(SLICE)).isFalse();
        }
        assertThat(check.stuck(SLICE)).isTrue();
    }
}
