package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelException;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.proto.task.Errno;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * docs/multi-pager.md, "Which pager serves an object": a kernel configured unlike the others (its
 * assignments, or the order of its pagers) is refused, at its vm_map, each object a connected
 * kernel uses at a pager its directory does not send it to (xp-spec 2.8); alone, it asks a pager that does
 * not serve the object, and its vm_map fails with an error that says which pager it asked and why -
 * never a second copy.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PagerMisconfigurationOverGrpcTest {

    @Test
    void aKernelThatAsksTheWrongPagerGetsAnErrorNamingItsChoice() throws Exception {
        // Alone at the pagers (no kernel connected with another directory, xp-spec 2.8), X starts, and
        // its vm_map of the object its directory sends elsewhere fails at the pager it asked.
        try (TwoPagers cluster = TwoPagers.start(0, Duration.ofSeconds(5));
                EmbeddedCluster odd = EmbeddedCluster.startKernels(Map.of("X",
                        CoreOptions.DEFAULT.withPagers(PagerDirectory.of(2, Map.of(TwoPagers.ONE, 0)))),
                        cluster.pagerTargets())) {
            LocalTask task = odd.kernel(0).taskCreate("x");
            assertThatThrownBy(() -> task.vmMap(TwoPagers.ONE))
                    .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL))
                    .hasMessageContaining("memory object 'one' cannot be mapped: pager pager0 serves no memory object "
                            + "named 'one'")
                    .hasMessageContaining("this kernel asked its pager 0, as its --object-pagers says")
                    .hasMessageContaining("the same --pager list and --object-pagers");
            assertThat(task.vmMap(TwoPagers.ZERO)).as("what it agrees on still maps").isPositive();
        }
    }

    @Test
    void aKernelWhoseDirectoryDiffersFromAConnectedKernelsIsRefusedTheObjectInDispute() throws Exception {
        // With A connected (the CRC-32 rule sends 'one' to pager1, which serves it), X's directory sends
        // 'one' to pager0: pager1's welcome lists 'one' as in dispute (multipager review M3; until
        // xpdir-review H1 it refused X's hello and X's start failed), so X maps 'one' at no pager
        // instead of each kernel using its own copy of it, and maps everything else.
        try (TwoPagers cluster = TwoPagers.start(1, Duration.ofSeconds(5))) {
            cluster.kernel(0).taskCreate("first").vmMap(TwoPagers.ONE); // A uses 'one' at pager1
            try (EmbeddedCluster odd = EmbeddedCluster.startKernels(Map.of("X",
                    CoreOptions.DEFAULT.withPagers(PagerDirectory.of(2, Map.of(TwoPagers.ONE, 0)))),
                    cluster.pagerTargets())) {
                LocalTask task = odd.kernel(0).taskCreate("x");
                assertThatThrownBy(() -> task.vmMap(TwoPagers.ONE))
                        .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL))
                        .hasMessageContaining("kernel 'X' was given another pager directory than kernel 'A'")
                        .hasMessageContaining("so two copies of it would be used");
                assertThat(task.vmMap(TwoPagers.ZERO)).as("what it agrees on still maps").isPositive();
            }
            // The well-configured kernel maps both.
            LocalTask good = cluster.kernel(0).taskCreate("a");
            good.vmMap(TwoPagers.ONE);
            good.vmMap(TwoPagers.ZERO);
        }
    }

    @Test
    void aKernelWithItsPagersInAnotherOrderGetsAnErrorNamingTheRule() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(0, Duration.ofSeconds(5));
                EmbeddedCluster swapped = EmbeddedCluster.startKernels(Map.of("S",
                        CoreOptions.DEFAULT.withPagers(PagerDirectory.of(2, Map.of()))),
                        cluster.pager(1).target() + "," + cluster.pager(0).target())) {
            LocalTask task = swapped.kernel(0).taskCreate("s");
            assertThat(PagerDirectory.ruleFor(TwoPagers.ZERO, 2)).as("the rule's pager for 'zero'").isZero();
            // S's pager 0 is pager1, which serves "one" only
            assertThatThrownBy(() -> task.vmMap(TwoPagers.ZERO))
                    .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL))
                    .hasMessageContaining("pager pager1 serves no memory object named 'zero'")
                    .hasMessageContaining("this kernel asked its pager 0, by the rule CRC-32 of the name mod 2, as no "
                            + "--object-pagers names it");
        }
    }
}
