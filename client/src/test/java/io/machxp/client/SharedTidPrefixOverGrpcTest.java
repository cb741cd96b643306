package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.PagerDirectory;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * docs/multi-pager.md, "Kernel ids and TIDs": kernels with different primary pagers may get the
 * same kernel id from each and would share TIDs in the futex words of a pager they both use. That
 * pager refuses the second one's hello (xp-spec 2.9), and its start fails naming the pager, both
 * kernels and the fix.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedTidPrefixOverGrpcTest {

    @Test
    void aKernelWhoseTidsAnotherKernelOfItsPagersHasDoesNotStart() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(0, Duration.ofSeconds(5));
                // C's only pager, hence its primary, is pager1: it gets kernel id 1 there
                EmbeddedCluster c = EmbeddedCluster.startKernels(Map.of("C",
                        CoreOptions.DEFAULT.withPagers(PagerDirectory.of(1, Map.of()))), cluster.pager(1).target())) {
            assertThat(c.kernel(0).kernelId()).isEqualTo(1);
            // A's primary is pager0, which gives it kernel id 1 too: its TIDs would be C's at pager1
            assertThatThrownBy(() -> EmbeddedCluster.startKernels(Map.of("A",
                            CoreOptions.DEFAULT.withPagers(TwoPagers.DIRECTORY)), cluster.pagerTargets()).close())
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("kernel A: cannot open a session with pager 1 at " + cluster.pager(1).target())
                    .hasMessageContaining("kernel 'A' cannot use TID prefix 1 at pager pager1")
                    .hasMessageContaining("kernel 'C'")
                    .hasMessageContaining("give every kernel the same --pager list in the same order");
            LocalTask task = c.kernel(0).taskCreate("c");
            assertThat(task.vmMap(TwoPagers.ONE)).as("C goes on").isPositive();
            // With the same primary, kernels get distinct ids and start.
            try (EmbeddedCluster b = EmbeddedCluster.startKernels(Map.of("B",
                    CoreOptions.DEFAULT.withPagers(TwoPagers.DIRECTORY)), cluster.pagerTargets())) {
                assertThat(b.kernel(0).kernelId()).isEqualTo(2); // pager0's id 1 rests after A's refusal
            }
        }
    }
}
