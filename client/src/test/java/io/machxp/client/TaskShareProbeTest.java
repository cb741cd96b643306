package io.machxp.client;

import static io.machxp.client.RawKernel.fails;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review kreview HIGH-1 over real gRPC: a client that creates tasks without a TaskWatch until
 * the kernel refuses took every task slot of the kernel and kept them after it disconnected.
 * Now it stops at its peer's share (all loopback clients are one peer, "loopback"), told so with
 * EAGAIN, and the kernel keeps creating tasks for others after it left (here in-process ones;
 * another host's client gets a share of its own, {@code ClientSharesTest} in the kernel module).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TaskShareProbeTest {
    private static final long PAGE = 4096;
    /** A kernel bound of 65 tasks: clients 57 together, a peer 7. */
    private static final int BOUND = 65;
    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4 * PAGE));
    private final Kernel kernel = cluster.kernel(0);

    TaskShareProbeTest() throws Exception {}

    @AfterEach
    void close() {
        cluster.close();
    }

    @Test
    void aClientThatTakesAllItCanHoldsItsPeersShareAndLeavesTheRest() {
        kernel.<Void>call(r -> {
            kernel.core().limitClientShares(BOUND, 1_000, 1_000);
            r.complete(null);
        });
        int made = 0;
        try (RawKernel hog = new RawKernel(cluster.kernelTargets().get(0))) {
            try {
                for (; made < BOUND; made++) {
                    hog.task("hog " + made);
                }
            } catch (StatusRuntimeException refused) {
                // its share; checked below
            }
            assertThat(made).as("a loopback client's tasks: its peer's share, an eighth of the clients' 57")
                    .isEqualTo(7);
            StatusRuntimeException e = fails(() -> hog.task("one more"), Status.Code.RESOURCE_EXHAUSTED, "EAGAIN");
            assertThat(e.getStatus().getDescription()).contains("client peer loopback", "holds 7 tasks", "its share");
        }
        // the client disconnected, leaving its unwatched tasks: the kernel still creates tasks for others
        for (int i = 0; i < BOUND - 8; i++) {
            assertThat(kernel.taskCreate("in process " + i)).isNotNull();
        }
    }
}
