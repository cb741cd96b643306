package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The group's apply rate as the leader's budget measures it: over busy time only, on a clock the test moves. */
class DrainRateTest {
    private static final long MS = 1_000_000L;
    private long now;
    private final DrainRate rate = new DrainRate(() -> now);

    @Test
    void unknownUntilASampleOfBusyTimeIsTaken() {
        assertThat(rate.entriesWithin(1_000 * MS)).isZero();
        rate.busy();
        for (int i = 0; i < 49; i++) {
            now += MS;
            rate.released(100, false);
        }
        assertThat(rate.entriesWithin(1_000 * MS)).as("49 ms of busy time: no sample yet").isZero();
        now += MS;
        rate.released(100, false);
        // 50 entries and 5,000 bytes in 50 ms: 1,000 and 100,000 a second.
        assertThat(rate.entriesWithin(1_000 * MS)).isEqualTo(1_000);
        assertThat(rate.bytesWithin(1_000 * MS)).isEqualTo(100_000);
    }

    /** An idle group measures nothing: a second without anything pending does not lower the rate. */
    @Test
    void idleTimeIsNotCounted() {
        rate.busy();
        for (int i = 0; i < 20; i++) {
            now += MS;
            rate.released(10, i == 19);
        }
        now += 1_000 * MS; // idle
        rate.busy();
        for (int i = 0; i < 30; i++) {
            now += MS;
            rate.released(10, false);
        }
        // Old reading of the wall time: 50 entries in 1,050 ms, 47 a second.
        assertThat(rate.entriesWithin(1_000 * MS)).isEqualTo(1_000);
    }

    /** Each sample is averaged with the rate before: a rate that halves is seen at 3/4, then 5/8. */
    @Test
    void eachSampleIsAveragedWithTheRateBefore() {
        rate.busy();
        for (int i = 0; i < 50; i++) {
            now += MS;
            rate.released(1, false);
        }
        for (int i = 0; i < 25; i++) {
            now += 2 * MS;
            rate.released(1, false);
        }
        assertThat(rate.entriesWithin(1_000 * MS)).isEqualTo(750);
        for (int i = 0; i < 25; i++) {
            now += 2 * MS;
            rate.released(1, false);
        }
        assertThat(rate.entriesWithin(1_000 * MS)).isEqualTo(625);
    }

    /** A failed or refused append is no measure of the rate (a lost leadership fails every pending append at once). */
    @Test
    void failedAppendsAreNotCounted() {
        rate.busy();
        for (int i = 0; i < 1_000; i++) {
            rate.released(-1, false); // all at once
        }
        for (int i = 0; i < 50; i++) {
            now += MS;
            rate.released(10, false);
        }
        // Old reading, counting the failed ones: 1,050 entries in 50 ms, 21,000 a second.
        assertThat(rate.entriesWithin(1_000 * MS)).isEqualTo(1_000);
    }
}
