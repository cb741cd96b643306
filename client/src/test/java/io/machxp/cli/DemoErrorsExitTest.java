package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.transport.Transport;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * machxp demo exits 2 and says what failed when calls of its workers failed, not only on a
 * violation or a silent loss (front-door review L7: against a futex made not recoverable,
 * `demo --connect` reported `errors {ENOTRECOVERABLE=...}` and exited 0).
 */
class DemoErrorsExitTest {
    @Test
    void aRunWhoseLocksFailExitsTwoAndNamesTheErrors() throws Exception {
        long page = PagerConfig.DEFAULT_PAGE_SIZE;
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("shared", 4 * page))) {
            String kernel = cluster.kernelTargets().get(0);
            try (KernelClient client = KernelClient.connect(kernel, Transport.LOOPBACK_PLAINTEXT, Duration.ofSeconds(10),
                    KernelClient.Memory.GRPC_ONLY)) {
                // the demo's futex 0 (offset 0): its owner dies, the next unlocks it without
                // vm_futex_consistent, and it is not recoverable from then on
                TaskClient dies = client.taskCreate("dies");
                long base = dies.vmMap("shared");
                dies.threadCreate().lock(base, Duration.ofSeconds(10));
                dies.terminate();
                TaskClient next = client.taskCreate("next");
                long at = next.vmMap("shared");
                ThreadClient t = next.threadCreate();
                assertThat(t.lock(at, Duration.ofSeconds(10)).getOwnerDied()).isTrue();
                t.unlockFutex(at);
                next.terminate();
            }
            ExitCodesTest.Run r = ExitCodesTest.run("demo", "--connect", kernel, "--pager", cluster.pager().target(),
                    "--object", "shared", "--futexes", "1", "--threads", "1", "--ops", "5", "--warmup", "0");
            assertThat(r.exit()).as(r.err()).isEqualTo(ExitCodes.CHECK_FAILED);
            assertThat(r.err()).contains("machxp demo: ").contains("calls of the workers failed")
                    .contains("ENOTRECOVERABLE");
        }
    }
}
