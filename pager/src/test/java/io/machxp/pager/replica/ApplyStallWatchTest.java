package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ApplyStallWatchTest {
    private final ApplyStallWatch watch = new ApplyStallWatch(10_000);

    @Test
    void aReplicaThatAppliesWhatItsLogHoldsIsNeverReported() {
        for (long t = 0, applied = 0; t < 60_000; t += 1_000, applied += 5) {
            assertThat(watch.observe(t, applied, applied + 1)).isFalse(); // next entry is the log's first
            assertThat(watch.observe(t + 500, applied, 1)).isFalse();     // the log reaches back further
        }
    }

    @Test
    void aGapThatLastsIsReportedOnceAfterThePatience() {
        assertThat(watch.observe(0, 99, 201)).isFalse();
        assertThat(watch.observe(9_999, 99, 201)).isFalse();
        assertThat(watch.observe(10_000, 99, 201)).isTrue();
        assertThat(watch.observe(20_000, 99, 201)).isFalse();
        assertThat(watch.observe(90_000, 99, 201)).isFalse();
    }

    @Test
    void anInstallThatReloadsInTimeIsNotReported() {
        assertThat(watch.observe(0, 99, 201)).isFalse();      // the log reset past the snapshot
        assertThat(watch.observe(3_000, 200, 201)).isFalse(); // reloaded: applied is the snapshot's index
        assertThat(watch.observe(13_000, 205, 201)).isFalse();
    }

    @Test
    void aMovingGapStartsThePatienceAgain() {
        assertThat(watch.observe(0, 99, 201)).isFalse();
        assertThat(watch.observe(8_000, 150, 301)).isFalse(); // a reload came, and the next install began
        assertThat(watch.observe(17_999, 150, 301)).isFalse();
        assertThat(watch.observe(18_000, 150, 301)).isTrue();
    }

    @Test
    void aReplicaThatRecoversAndStallsAgainIsReportedAgain() {
        watch.observe(0, 99, 201);
        assertThat(watch.observe(10_000, 99, 201)).isTrue();
        assertThat(watch.observe(11_000, 300, 301)).isFalse();
        assertThat(watch.observe(12_000, 300, 401)).isFalse();
        assertThat(watch.observe(22_000, 300, 401)).isTrue();
    }

    @Test
    void patienceMustBePositive() {
        assertThatThrownBy(() -> new ApplyStallWatch(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
