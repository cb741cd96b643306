package io.machxp.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.ThreadClient;
import org.junit.jupiter.api.Test;

/**
 * The early ask over Ratis (xp-spec 13.6): three replicas in this JVM and two kernels; a futex
 * cached at kernel 0 is asked for by kernel 1, and the leader's hint reaches kernel 0, which acts
 * on it (the futex is held there under the hint's grant), and kernel 1 gets the futex.
 */
class EarlyAskRatisTest {
    @Test
    void aHandoffThroughTheGroupHintsTheHolder() throws Exception {
        try (ReplicaGroup group = new ReplicaGroup(3);
                FailoverKernels kernels = new FailoverKernels(2, name -> io.machxp.kernel.KernelConfig.loopback(name,
                        group.kernelTarget()))) {
            ThreadClient a = kernels.tasks.get(0).threadCreate(10);
            ThreadClient b = kernels.tasks.get(1).threadCreate(10);
            for (int i = 0; i < 3; i++) {
                a.lockFutex(kernels.bases.get(0));
                a.unlockFutex(kernels.bases.get(0)); // cached at kernel 0
                b.lockFutex(kernels.bases.get(1));
                b.unlockFutex(kernels.bases.get(1)); // handed to kernel 1, cached there
            }
            long acted = kernels.kernels.get(0).stats().hintsActed.sum() + kernels.kernels.get(1).stats().hintsActed.sum();
            assertThat(acted).as("holders acted on the leader's hints").isPositive();
        }
    }
}
