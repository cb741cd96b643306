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
}
