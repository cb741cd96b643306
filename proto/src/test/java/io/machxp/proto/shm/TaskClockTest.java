package io.machxp.proto.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * The lease check of task processes on the coarse clock (TaskClock): with clocks given, a coarse
 * clock that lags as Linux's does (up to two ticks, more while the time-keeping CPU stalls) never
 * lets a lease pass that {@code System.nanoTime()} would refuse, and a lease far from its end
 * costs no precise read.
 */
class TaskClockTest {
    private static final long TICK = 4_000_000;
    private static final long ALLOWANCE = TaskClock.ALLOWANCE_TICKS * TICK;
    private static final long NOW = 1_000_000_000_000L;

    @Test
    void aLeaseThatEndedIsRefusedThoughTheCoarseClockLagsBehindItsEnd() {
        for (long lag : new long[] {0, 1, TICK - 1, TICK, 2 * TICK, 7 * TICK, ALLOWANCE}) {
            Fine fine = new Fine(NOW);
            assertThat(TaskClock.before(NOW - 1, coarse(NOW - lag), ALLOWANCE, fine)).as("lag %d", lag).isFalse();
            assertThat(TaskClock.before(NOW, coarse(NOW - lag), ALLOWANCE, fine)).as("lag %d", lag).isFalse();
        }
    }

    @Test
    void anEndWithinTheAllowanceIsLeftToThePreciseClock() {
        Fine fine = new Fine(NOW);
        assertThat(TaskClock.before(NOW + 1, coarse(NOW - 3 * TICK / 2), ALLOWANCE, fine)).isTrue();
        assertThat(fine.reads.get()).isEqualTo(1);
        assertThat(TaskClock.before(NOW - 3 * TICK / 2 + ALLOWANCE, coarse(NOW - 3 * TICK / 2), ALLOWANCE, fine)).isTrue();
        assertThat(fine.reads.get()).as("coarse + allowance = end: not before it").isEqualTo(2);
    }

    @Test
    void anEndBeyondTheAllowanceNeedsNoPreciseRead() {
        Fine fine = new Fine(NOW);
        long coarse = NOW - 3 * TICK / 2;
        assertThat(TaskClock.before(coarse + ALLOWANCE + 1, coarse(coarse), ALLOWANCE, fine)).isTrue();
        assertThat(TaskClock.before(NOW + 5_000_000_000L, coarse(coarse), ALLOWANCE, fine)).isTrue();
        assertThat(fine.reads.get()).isZero();
    }

    @Test
    void aClosedLeaseIsRefusedWithoutOverflow() {
        Fine fine = new Fine(NOW);
        assertThat(TaskClock.before(Long.MIN_VALUE, coarse(NOW), ALLOWANCE, fine)).isFalse();
        assertThat(TaskClock.before(Long.MIN_VALUE, coarse(0), Long.MAX_VALUE / 2, fine)).isFalse();
    }

    @Test
    void aFailedCoarseReadOrNoCoarseClockAsksThePreciseClock() {
        Fine fine = new Fine(NOW);
        assertThat(TaskClock.before(NOW + 1, coarse(TaskClock.FAILED), ALLOWANCE, fine)).isTrue();
        assertThat(TaskClock.before(NOW - 1, coarse(TaskClock.FAILED), ALLOWANCE, fine)).isFalse();
        assertThat(TaskClock.before(NOW + 1, null, 0, fine)).isTrue();
        assertThat(TaskClock.before(NOW, null, 0, fine)).isFalse();
        assertThat(fine.reads.get()).isEqualTo(4);
    }

    @Test
    void onlyAClockBehindThePreciseOneByLessThanTheAllowanceIsTaken() {
        assertThat(TaskClock.sameClock(coarse(NOW - 6_500_000), ALLOWANCE, new Fine(NOW))).isTrue();
        assertThat(TaskClock.sameClock(coarse(NOW), ALLOWANCE, new Fine(NOW))).isTrue();
        assertThat(TaskClock.sameClock(coarse(NOW + 1), ALLOWANCE, new Fine(NOW))).as("ahead").isFalse();
        assertThat(TaskClock.sameClock(coarse(NOW - ALLOWANCE - 1), ALLOWANCE, new Fine(NOW))).as("another base").isFalse();
        assertThat(TaskClock.sameClock(coarse(TaskClock.FAILED), ALLOWANCE, new Fine(NOW))).isFalse();
    }

    /** The JVM of this test runs with the module and native access (the build's argLine), as ./machxp does. */
    @Test
    void thisJvmReadsTheCoarseClockOnLinux() {
        if (!System.getProperty("os.name").startsWith("Linux")) {
            return;
        }
        assertThat(TaskClock.coarse()).isTrue();
        assertThat(TaskClock.allowanceNanos()).isBetween(TaskClock.ALLOWANCE_TICKS * 1_000_000L,
                TaskClock.ALLOWANCE_TICKS * 100_000_000L);
        assertThat(TaskClock.before(Long.MIN_VALUE)).isFalse();
        assertThat(TaskClock.before(System.nanoTime() + 60_000_000_000L)).isTrue();
    }

    private static TaskClock.Coarse coarse(long at) {
        return new TaskClock.Coarse() {
            @Override
            long nanos() {
                return at;
            }

            @Override
            long resolution() {
                return TICK;
            }
        };
    }

    /** A precise clock standing at one time, counting its reads. */
    private static final class Fine implements LongSupplier {
        final long at;
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
