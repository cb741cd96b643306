package io.machxp.workbench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** Fairness over nodes: Jain's index over acquisition counts, the longest and the worst p99 wait. */
class FairnessTest {
    private static Histogram waits(long... nanos) {
        Histogram h = new Histogram(3);
        for (long n : nanos) {
            h.recordValue(n);
        }
        return h;
    }

    @Test
    void equalCountsAreFairAndOneNodeDoingAllIsOneOverN() {
        List<Histogram> none = List.of(waits(), waits(), waits());
        assertThat(Fairness.of(new long[] {10, 10, 10}, none).jain()).isEqualTo(1.0);
        assertThat(Fairness.of(new long[] {30, 0, 0}, none).jain()).isCloseTo(1.0 / 3, within(1e-9));
        assertThat(Fairness.of(new long[] {20, 10, 0}, none).jain()).isCloseTo(900.0 / (3 * 500), within(1e-9));
        assertThat(Fairness.of(new long[] {0, 0, 0}, none).jain()).isZero();
    }

    @Test
    void theWaitsAreTheWorstNodes() {
        long[] waitsOfA = new long[100];
        java.util.Arrays.fill(waitsOfA, 1_000);
        waitsOfA[99] = 9_000_000; // one long wait: A's max, not its p99
        Fairness f = Fairness.of(new long[] {100, 100}, List.of(waits(waitsOfA), waits(50_000, 60_000)));
        assertThat(f.maxWaitMicros()).isCloseTo(9_000, within(10.0));
        assertThat(f.worstP99WaitMicros()).as("B's p99, the higher").isCloseTo(60, within(0.1));
    }
}
