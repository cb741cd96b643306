package io.machxp.kernel.ipc.link;

import static io.machxp.kernel.ipc.link.TwoLinkedKernels.await;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review F3 of the renewal: kernel 2 declared kernel 1 dead (its link broke; kernel 2 has the
 * higher id), then lost its pager session and rejoined. The new session owes nothing to the
 * earlier one's view: kernel 2 dials kernel 1 again, kernel 1 takes it back as a rejoin, and the
 * two live kernels reach each other with no renewal. Real links; waits on conditions, never sleeps.
 */
class RejoinAfterADeathTest {
    private static final long LEASE_MS = 2_000;
    private TwoLinkedKernels kernels;
    private LinkedCore k1;
    private LinkedCore k2;

    @BeforeEach
    void start() throws InterruptedException {
        kernels = new TwoLinkedKernels(LEASE_MS);
        k1 = kernels.k1;
        k2 = kernels.k2;
    }

    @AfterEach
    void stop() {
        kernels.close();
    }

    @Test
    void aKernelDeadHereBeforeALeaveIsDialledAgainAtTheRejoin() {
        await(() -> k1.links.admissions.inbound(2) != null && k2.links.admissions.inbound(1) != null);
        k2.links.deaths.diedIn(1, 0, "test: its link broke", false);
        // at once, well within the lease after which kernel 2 would probe kernel 1 and, refused
        // as a broken link with the higher id, renew (it did when this waited for kernel 1 to see
        // the close first: session 2 under load); kernel 1 declares it dead at the leave anyway
        k2.links.leave(); // kernel 2 lost its pager session
        k2.links.rejoin();
        await(() -> !k2.links.dead(1) && !k1.links.dead(2) && k1.links.admissions.inbound(2) != null
                && k2.links.admissions.inbound(1) != null);
        assertThat(k2.links.session()).isEqualTo(1);
        assertThat(k1.links.renewals() + k2.links.renewals()).as("a rejoin, no renewal").isZero();
    }
}
