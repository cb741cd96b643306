package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review late13 MED-1: each linked kernel could be charged a quarter of the link pool (16,384 of
 * 65,536 names) with no other bound, so four kernels at their share - busy in-process servers
 * here keeping reply rights, or one client of each of four kernels - left every other kernel
 * nothing: every right it sent to an in-process receiver here was destroyed or refused. Now a
 * linked kernel's share is an eighth of the link pool and no more than the link pool still has
 * free, the peers' rule ({@link NameBudget}). The numbers are the default budget's: 2^20 names,
 * a reserve of 131,072, a link pool of 65,536, a linked kernel's share 8,192.
 */
class LinkPoolShareTest {
    private static final int RESERVE = (1 << 20) / 8;
    private static final int LINK_POOL = RESERVE / 2;
    private static final int SHARE = LINK_POOL / 8;

    /** Charges names to {@code kernel} until refused; returns how many. */
    private static int takeAll(NameBudget b, int kernel) {
        LinkedKernel k = new LinkedKernel(kernel);
        int n = 0;
        while (!b.exhausted(k)) {
            b.taken(k);
            n++;
        }
        return n;
    }

    @Test
    void theDefaultSharesAreAnEighthOfHalfTheReserve() {
        NameBudget b = new NameBudget();
        assertThat(b.linkPool()).isEqualTo(LINK_POOL);
        assertThat(b.linkMax()).isEqualTo(SHARE);
    }

    @Test
    void fourKernelsAtTheirShareLeaveAFifthItsShare() {
        NameBudget b = new NameBudget();
        for (int k = 1; k <= 4; k++) {
            takeAll(b, k);
        }
        assertThat(b.exhausted(new LinkedKernel(5))).as("a fifth linked kernel, holding nothing").isFalse();
        assertThat(takeAll(b, 5)).isEqualTo(SHARE);
    }

    /**
     * With k greedy linked kernels, a kernel holding nothing can take min(share, (8 - k) shares /
     * 2): its whole share for k up to 6, half of it for k = 7; and never more than its share.
     */
    @Test
    void aKernelGetsItsStatedShareBesideKGreedyKernels() {
        for (int k = 0; k < 8; k++) {
            NameBudget b = new NameBudget();
            for (int i = 1; i <= k; i++) {
                assertThat(takeAll(b, i)).as("greedy kernel %d", i).isLessThanOrEqualTo(SHARE);
            }
            assertThat(takeAll(b, 100)).as("a kernel beside %d greedy ones", k)
                    .isGreaterThanOrEqualTo(Math.min(SHARE, (8 - k) * SHARE / 2)).isLessThanOrEqualTo(SHARE);
        }
    }

    @Test
    void greedyKernelsNeverTakeTheInProcessHalfOfTheReserve() {
        NameBudget b = new NameBudget();
        int kernels = 0;
        while (!b.exhausted(new LinkedKernel(++kernels))) { // not promised: enough kernels use up the link pool
            takeAll(b, kernels);
        }
        assertThat(kernels - 1).as("greedy kernels that use up the link pool").isEqualTo(21);
        assertThat(b.linkedUsed()).isEqualTo(LINK_POOL);
        for (int i = 0; i < RESERVE - LINK_POOL; i++) {
            assertThat(b.exhausted(null)).as("in-process tasks make their %dth name", i + 1).isFalse();
            b.taken(null);
        }
    }

    @Test
    void aKernelsNamesGivenBackAreTheLinkPoolsAgain() {
        NameBudget b = new NameBudget();
        for (int k = 1; k <= 30; k++) {
            takeAll(b, k);
        }
        LinkedKernel first = new LinkedKernel(1);
        assertThat(b.exhausted(new LinkedKernel(31))).isTrue();
        b.given(first);
        assertThat(b.exhausted(new LinkedKernel(31))).as("a name given back makes room for a kernel holding none").isFalse();
        b.taken(first);
        assertThat(b.exhaustedOnceGiven(new LinkedKernel(32), new LinkedKernel(2))).isFalse();
        assertThat(b.exhausted(new LinkedKernel(32))).as("nothing changed by asking").isTrue();
    }
}
