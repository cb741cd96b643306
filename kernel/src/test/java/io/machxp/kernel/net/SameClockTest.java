package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link SameClock}: a client shares memory only in the kernel's time namespace and on its clock. */
class SameClockTest {
    private static final String NS = "time:[4026531834]";
    private static final long NOW = 5_000_000_000_000L;

    @Test
    void theSameNamespaceAndAClockSampleJustBeforeIsTheSameClock() {
        assertThat(SameClock.refusal(NS, NOW, NS, NOW - 3_000_000_000L)).isNull();
        assertThat(SameClock.refusal("", NOW, "", NOW)).as("no time namespaces on either side").isNull();
    }

    @Test
    void anotherTimeNamespaceIsRefusedWhateverTheSample() {
        assertThat(SameClock.refusal(NS, NOW, "time:[4026532999]", NOW))
                .contains("time namespace (time:[4026532999]) is not the kernel's (time:[4026531834])");
        assertThat(SameClock.refusal(NS, NOW, "", NOW)).as("the client's unknown").contains("(unknown)");
        assertThat(SameClock.refusal("", NOW, NS, NOW)).as("the kernel's unknown").contains("(unknown)");
    }

    @Test
    void aClockSampleOffByMoreThanTheBoundIsRefusedEitherWay() {
        assertThat(SameClock.refusal(NS, NOW, NS, NOW - 300_000_000_000L))
                .as("the client 300 s behind (unshare -T --monotonic=-300)").contains("300000 ms apart");
        assertThat(SameClock.refusal(NS, NOW, NS, NOW + 300_000_000_000L)).as("ahead").contains("300000 ms apart");
        assertThat(SameClock.refusal(NS, NOW, NS, NOW - SameClock.BOUND)).as("at the bound").isNull();
        assertThat(SameClock.refusal(NS, NOW, NS, NOW - SameClock.BOUND - 1)).as("past it").isNotNull();
    }

    @Test
    void aClientThatSendsNoSampleIsRefused() {
        assertThat(SameClock.refusal(NS, NOW, NS, null)).contains("no clock sample");
    }
}
