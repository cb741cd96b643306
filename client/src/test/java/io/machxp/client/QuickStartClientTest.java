package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.cluster.EmbeddedCluster;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's quick-start Java client, line for line (step 4), against a pager and a kernel on
 * loopback gRPC: if this test needs a change, so does the README.
 */
class QuickStartClientTest {

    @Test
    void theReadmeClientIncrementsTheSharedCounterUnderTheFutex() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("shared", 1L << 20))) {
            String address = cluster.kernelTargets().get(0);

            // --- the README's client, with "127.0.0.1:7071" replaced by the embedded kernel ---
            try (KernelClient kernel = KernelClient.connect(address)) {
                TaskClient task = kernel.taskCreate("hello");
                long base = task.vmMap("shared");            // map the memory object "shared"
                ThreadClient thread = task.threadCreate(10);  // priority 10
                thread.lockFutex(base);                       // the futex word at offset 0
                long counter = task.readLong(base + 8);       // the 8 bytes after it
                task.writeLong(base + 8, counter + 1);
                thread.unlockFutex(base);
                System.out.println("counter = " + (counter + 1));
            }
            // --- end of the README's client ---

            try (KernelClient again = KernelClient.connect(address)) {
                TaskClient task = again.taskCreate("check");
                long base = task.vmMap("shared");
                assertThat(task.readLong(base + 8)).isEqualTo(1);
                assertThat(task.readInt(base)).as("the futex word is free again").isZero();
            }
        }
    }
}
