package io.machxp.proto.shm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * The lease check of task processes on the coarse clock (TaskClock): with clocks given, a coarse
 * clock that lags as Linux's does (up to two ticks, more while the time-keeping CPU stalls) never
 * lets a lease pass that {@code System.nanoTime()} would refuse, and a lease far from its end
 * costs no precise read; and a coarse clock that stops (a stalled time-keeping CPU on a kernel
 * that does not force the update, or a nohz_full CPU) is caught by each thread within
 * {@link TaskClock#CROSS_CHECK_EVERY} checks, after which it reads the precise clock until the two
 * agree again.
 */
class TaskClockTest {
    private static final long TICK = 4_000_000;
    private static final long ALLOWANCE = TaskClock.ALLOWANCE_TICKS * TICK;
    private static final long NOW = 1_000_000_000_000L;

    @Test
    void aLeaseThatEndedIsRefusedThoughTheCoarseClockLagsBehindItsEnd() {
        for (long lag : new long[] {0, 1, TICK - 1, TICK, 2 * TICK, 7 * TICK, ALLOWANCE}) {
            Fine fine = new Fine(NOW);
            assertThat(TaskClock.before(NOW - 1, coarse(NOW - lag), lane(), ALLOWANCE, fine)).as("lag %d", lag).isFalse();
            assertThat(TaskClock.before(NOW, coarse(NOW - lag), lane(), ALLOWANCE, fine)).as("lag %d", lag).isFalse();
        }
    }

    @Test
    void anEndWithinTheAllowanceIsLeftToThePreciseClock() {
        Fine fine = new Fine(NOW);
        assertThat(TaskClock.before(NOW + 1, coarse(NOW - 3 * TICK / 2), lane(), ALLOWANCE, fine)).isTrue();
        assertThat(fine.reads.get()).isEqualTo(1);
        assertThat(TaskClock.before(NOW - 3 * TICK / 2 + ALLOWANCE, coarse(NOW - 3 * TICK / 2), lane(), ALLOWANCE, fine)).isTrue();
        assertThat(fine.reads.get()).as("coarse + allowance = end: not before it").isEqualTo(2);
    }

    @Test
    void anEndBeyondTheAllowanceNeedsNoPreciseRead() {
        Fine fine = new Fine(NOW);
        long coarse = NOW - 3 * TICK / 2;
        assertThat(TaskClock.before(coarse + ALLOWANCE + 1, coarse(coarse), lane(), ALLOWANCE, fine)).isTrue();
        assertThat(TaskClock.before(NOW + 5_000_000_000L, coarse(coarse), lane(), ALLOWANCE, fine)).isTrue();
        assertThat(fine.reads.get()).isZero();
    }

    @Test
    void aClosedLeaseIsRefusedWithoutOverflow() {
        Fine fine = new Fine(NOW);
        assertThat(TaskClock.before(Long.MIN_VALUE, coarse(NOW), lane(), ALLOWANCE, fine)).isFalse();
        assertThat(TaskClock.before(Long.MIN_VALUE, coarse(0), lane(), Long.MAX_VALUE / 2, fine)).isFalse();
    }

    @Test
    void aFailedCoarseReadOrNoCoarseClockAsksThePreciseClock() {
        Fine fine = new Fine(NOW);
        assertThat(TaskClock.before(NOW + 1, coarse(TaskClock.FAILED), lane(), ALLOWANCE, fine)).isTrue();
        assertThat(TaskClock.before(NOW - 1, coarse(TaskClock.FAILED), lane(), ALLOWANCE, fine)).isFalse();
        assertThat(fine.reads.get()).isEqualTo(2);
    }

    @Test
    void onlyAClockBehindThePreciseOneByLessThanTheAllowanceIsTaken() {
        assertThat(TaskClock.sameClock(coarse(NOW - 6_500_000), lane(), ALLOWANCE, new Fine(NOW))).isTrue();
        assertThat(TaskClock.sameClock(coarse(NOW), lane(), ALLOWANCE, new Fine(NOW))).isTrue();
        assertThat(TaskClock.sameClock(coarse(NOW + 1), lane(), ALLOWANCE, new Fine(NOW))).as("ahead").isFalse();
        assertThat(TaskClock.sameClock(coarse(NOW - ALLOWANCE - 1), lane(), ALLOWANCE, new Fine(NOW))).as("another base").isFalse();
        assertThat(TaskClock.sameClock(coarse(TaskClock.FAILED), lane(), ALLOWANCE, new Fine(NOW))).isFalse();
    }

    @Test
    void aFrozenCoarseClockIsCaughtWithinSixtyFourChecks() {
        for (int before = 0; before < 2 * TaskClock.CROSS_CHECK_EVERY; before += 7) {
            Fine fine = new Fine(NOW);
            Scripted coarse = new Scripted(NOW - TICK);
            TaskClock.Lane lane = lane();
            long end = NOW + 1_000_000_000L;
            for (int i = 0; i < before; i++) {
                assertThat(TaskClock.before(end, coarse, lane, ALLOWANCE, fine)).isTrue(); // the clocks agree
            }
            fine.at = end + 1; // the lease ended; the coarse clock stays where it stopped
            int passed = 0;
            while (TaskClock.before(end, coarse, lane, ALLOWANCE, fine)) {
                passed++;
                assertThat(passed).as("after %d checks before the freeze", before).isLessThan(TaskClock.CROSS_CHECK_EVERY);
            }
            for (int i = 0; i < 1000; i++) {
                assertThat(TaskClock.before(end, coarse, lane, ALLOWANCE, fine)).as("caught: precise from now on").isFalse();
            }
        }
    }

    @Test
    void aThreadThatCaughtTheLagReadsThePreciseClockUntilBothAgreeAfterItsRest() {
        Fine fine = new Fine(NOW);
        Scripted coarse = new Scripted(NOW - ALLOWANCE - 1);
        TaskClock.Lane lane = lane();
        long end = NOW + 10_000_000_000L;
        assertThat(TaskClock.before(NOW - ALLOWANCE / 2, coarse, lane, ALLOWANCE, fine)).as("step 2 compares too").isFalse();
        coarse.at = NOW - TICK; // agrees again, but the thread rests on the precise clock first
        for (int i = 0; i < 3 * TaskClock.CROSS_CHECK_EVERY; i++) {
            assertThat(TaskClock.before(end, coarse, lane, ALLOWANCE, fine)).isTrue();
        }
        assertThat(fine.reads.get()).as("every check read the precise clock").isEqualTo(1 + 3 * TaskClock.CROSS_CHECK_EVERY);
        fine.at = NOW + TaskClock.DISTRUST_NANOS;
        coarse.at = fine.at - ALLOWANCE - 1; // still lagging at the retry: another rest
        assertThat(TaskClock.before(end, coarse, lane, ALLOWANCE, fine)).isTrue();
        coarse.at = fine.at - TICK;
        TaskClock.before(end, coarse, lane, ALLOWANCE, fine);
        assertThat(fine.reads.get()).as("resting").isEqualTo(3 + 3 * TaskClock.CROSS_CHECK_EVERY);
        fine.at += TaskClock.DISTRUST_NANOS;
        coarse.at = fine.at - TICK;
        assertThat(TaskClock.before(end, coarse, lane, ALLOWANCE, fine)).isTrue(); // agree: back to the coarse clock
        int reads = fine.reads.get();
        for (int i = 0; i < 2 * TaskClock.CROSS_CHECK_EVERY; i++) {
            assertThat(TaskClock.before(end, coarse, lane, ALLOWANCE, fine)).isTrue();
        }
        assertThat(fine.reads.get() - reads).as("only the cross-checks").isEqualTo(2);
    }

    /**
     * The JVM of this test runs with the module and native access (the build's argLine on Java 17
     * and 18), as ./machxp does; elsewhere (Java 19+, an IDE without the flags) there is nothing to check.
     */
    @Test
    void thisJvmReadsTheCoarseClockOnLinux() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "Linux only");
        assumeTrue(ModuleLayer.boot().findModule(TaskClock.MODULE).isPresent(), "run without --add-modules " + TaskClock.MODULE);
        assertThat(TaskClock.describe()).startsWith("lease check: CLOCK_MONOTONIC_COARSE");
        assertThat(TaskClock.coarse()).isTrue();
        assertThat(TaskClock.allowanceNanos()).isBetween(TaskClock.ALLOWANCE_TICKS * 1_000_000L,
                TaskClock.ALLOWANCE_TICKS * 100_000_000L);
        assertThat(TaskClock.before(Long.MIN_VALUE)).isFalse();
        assertThat(TaskClock.before(System.nanoTime() + 60_000_000_000L)).isTrue();
    }

    private static TaskClock.Lane lane() {
        return new TaskClock.Lane();
    }

    /** A coarse clock standing where the test puts it. */
    private static final class Scripted extends TaskClock.Coarse {
        long at;

        Scripted(long at) {
            this.at = at;
        }

        @Override
        long nanos(TaskClock.Lane lane) {
            return at;
        }

        @Override
        long resolution(TaskClock.Lane lane) {
            return TICK;
        }
    }

    private static TaskClock.Coarse coarse(long at) {
        return new TaskClock.Coarse() {
            @Override
            long nanos(TaskClock.Lane lane) {
                return at;
            }

            @Override
            long resolution(TaskClock.Lane lane) {
                return TICK;
            }
        };
    }

    /** A precise clock standing at one time, counting its reads. */
    private static final class Fine implements LongSupplier {
        long at;
        final AtomicInteger reads = new AtomicInteger();

        Fine(long at) {
            this.at = at;
        }

        @Override
        public long getAsLong() {
            reads.incrementAndGet();
            return at;
        }
    }
}
