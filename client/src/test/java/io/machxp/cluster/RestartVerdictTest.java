package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@link RestartVerdict}: a restart test's failure is skipped only when the kernel's log and the
 * timing both say the restart was late; never when the reclaim arrived (refused or taken).
 */
class RestartVerdictTest {
    private static final String BROKE = "kernel A: lost its stream to 127.0.0.1:7070 (UNAVAILABLE); it keeps what it "
            + "holds for the 15000 ms its lease still runs, and reconnects to reclaim it\n";
    private static final String REFUSED = "kernel A: pager p cannot take its reclaim yet (EAGAIN grace); it reclaims "
            + "again in 1000 ms while its lease runs\n";
    private static final String RAN_OUT = "kernel A: its lease ran out: the pager answered no keepalive for 16000 ms "
            + "(lease 20000 ms, the kernel stops 1000 ms early), and it could not reconnect (UNAVAILABLE)\n";
    private static final String RECONNECTED = "kernel A: reconnected to pager p (epoch 2) after losing its stream "
            + "(UNAVAILABLE) and reclaimed what it holds; asked again for 0 futexes\n";

    @Test
    void aRefusedReclaimAfterAQuickRestartIsNotInconclusive() {
        String out = BROKE + REFUSED + RAN_OUT.replace("(UNAVAILABLE)", "(EAGAIN grace)");
        assertThat(RestartVerdict.inconclusive("A", out, "", 250, 0, 15_000)).isFalse();
    }

    @Test
    void aRefusedReclaimIsNotInconclusiveEvenWhenTheRestartWasLate() {
        assertThat(RestartVerdict.inconclusive("A", BROKE + REFUSED + RAN_OUT, "", 14_000, 0, 15_000)).isFalse();
    }

    @Test
    void aLeaseThatRanOutAfterAQuickRestartIsNotInconclusive() {
        // a reclaim never answered, or a kernel that never reconnects: the bug class the test is for
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, "", 250, 0, 15_000)).isFalse();
    }

    @Test
    void aLeaseThatRanOutAfterALateRestartIsInconclusive() {
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, "", 13_000, 0, 15_000)).isTrue();
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, "", 16_000, 0, 15_000)).isTrue();
    }

    @Test
    void aLeaseThatRanOutAfterTheReconnectIsNotInconclusive() {
        // a reclaim welcomed near the old lease's end whose lease then ran out: a kernel bug
        assertThat(RestartVerdict.inconclusive("A", BROKE + RECONNECTED + RAN_OUT, "", 16_000, 0, 15_000)).isFalse();
    }

    @Test
    void aReclaimThePagerLoggedIsNotInconclusive() {
        String pager = "pager p: kernel A reclaims again (its first reclaim's stream broke, perhaps before it read "
                + "the welcome): the new reclaim replaces that session (1 futexes, its pages judged again)";
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, pager, 16_000, 0, 15_000)).isFalse();
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, "pager p: kernel A sent its reclaim in 3 parts "
                + "(9000 bytes)", 16_000, 0, 15_000)).isFalse();
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, "pager p: kernel B reconnected (id 4) and "
                + "reclaimed 0 futexes", 16_000, 0, 15_000)).as("another kernel's reclaim").isTrue();
    }

    @Test
    void aLeaseLeftNotSaidIsNotInconclusive() {
        assertThat(RestartVerdict.leaseLeft(RAN_OUT)).isEqualTo(-1);
        assertThat(RestartVerdict.inconclusive("A", RAN_OUT, "", 60_000, 0, RestartVerdict.leaseLeft(RAN_OUT))).isFalse();
        assertThat(RestartVerdict.leaseLeft(BROKE + RAN_OUT)).isEqualTo(15_000);
    }

    /**
     * The lease left runs from the kernel's sight of the break, not from the kill (review late10,
     * L4): seen 1.5 s after the kill with 8 s left, the lease ran until 9.5 s after the kill, so a
     * restart at 6.2 s (with the 2 s reconnect cadence, 8.2 s) was not late; before, 8.2 >= 8 made it so.
     */
    @Test
    void theLeaseLeftCountsFromWhenTheKernelSawTheBreak() {
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, "", 6_200, 1_500, 8_000))
                .as("a restart within the lease, as counted from the break").isFalse();
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, "", 7_600, 1_500, 8_000))
                .as("a restart after it").isTrue();
    }

    /**
     * Late11 review LOW-P4: when the kernel saw the break is the time in its log line, not when the
     * test's reader read the line: read 9 s after the kill on a loaded host, logged 1.5 s after it,
     * the lease of 8 s ran until 9.5 s, so a restart at 7.6 s (9.6 s with the reconnect cadence) was
     * late; from the reader's time (17 s) it looked in time and the test failed instead of skipping.
     */
    @Test
    void theBreakIsWhenTheKernelLoggedItNotWhenItWasRead() {
        long killed = 12 * 3_600_000L; // 12:00:00.000
        String line = "12:00:01.500 INFO  [grpc-default-executor-1] SessionReclaim - " + BROKE.strip();
        long broke = RestartVerdict.brokeMillis(line, killed, 9_000);
        assertThat(broke).isEqualTo(1_500);
        assertThat(RestartVerdict.inconclusive("A", BROKE + RAN_OUT, "", 7_600, broke, 8_000)).isTrue();
    }

    @Test
    void theLoggedTimeAcrossMidnightAndItsBounds() {
        long killed = 24 * 3_600_000L - 100; // 23:59:59.900
        assertThat(RestartVerdict.brokeMillis("00:00:00.700 INFO  x - " + BROKE.strip(), killed, 2_000))
                .as("across midnight").isEqualTo(800);
        assertThat(RestartVerdict.brokeMillis("23:59:59.800 INFO  x - " + BROKE.strip(), killed, 50))
                .as("logged just before the kill was timed").isEqualTo(-100);
        assertThat(RestartVerdict.brokeMillis("00:00:05.000 INFO  x - " + BROKE.strip(), killed, 3_000))
                .as("never later than it was read (a clock set forward)").isEqualTo(3_000);
        assertThat(RestartVerdict.brokeMillis(BROKE.strip(), killed, 3_000)).as("a line without a time").isEqualTo(3_000);
    }
}
