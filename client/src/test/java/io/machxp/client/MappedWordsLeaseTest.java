package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Words of a page mapped to tasks outlive no lease (docs/shared-memory.md, review H2): a kernel
 * whose core is stalled past its lease takes nothing back, yet once the pager gave the page to
 * another kernel, whose write completed, the stalled kernel's tasks neither read the old value
 * nor get a write acknowledged, through shared memory (task processes) or the in-process mapping.
 * The pager gives the page away only after the lease ran out, so the other kernel's write
 * returning is the condition each test waits on.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MappedWordsLeaseTest {
    private static final long W = 4096 + 8; // a word of a page without futexes

    @Test
    void aTaskProcessServesNoWordOfAPageThePagerGaveAway() throws Exception {
        try (ClusterFixture c = new ClusterFixture(2)) {
            TaskClient a = c.tasks.get(0);
            TaskClient b = c.tasks.get(1);
            a.writeLong(c.base[0] + W, 1);
            a.readLong(c.base[0] + W);
            SharedWords words = a.sharedWords();
            long[] out = new long[1];
            assertThat(words.read(c.base[0] + W, 8, out)).as("mapped to the process").isTrue();
            assertThat(out[0]).isEqualTo(1);

            CoreBlocked.during(c.kernel(0), () -> {
                b.writeLong(c.base[1] + W, 2); // returns once the pager gave the page to kernel 1
                long served = words.served.sum();
                assertThat(words.read(c.base[0] + W, 8, out)).as("a read after the lease: the kernel's").isFalse();
                assertThat(words.write(c.base[0] + W, 8, 3)).as("a write after the lease: the kernel's").isFalse();
                assertThat(words.served.sum()).isEqualTo(served);
            });
            assertThat(b.readLong(c.base[1] + W)).isEqualTo(2);
        }
    }

    @Test
    void anInProcessTaskServesNoWordOfAPageThePagerGaveAway() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, true, Map.of("obj", 2 * 4096L))) {
            LocalTask a = cluster.kernel(0).taskCreate("a");
            LocalTask b = cluster.kernel(1).taskCreate("b");
            long baseA = a.vmMap("obj");
            long baseB = b.vmMap("obj");
            a.vmWrite(baseA + W, word(1));
            a.vmRead(baseA + W, 8);
            assertThat(a.tryVmRead(baseA + W, 8)).as("mapped in process").isEqualTo(word(1));

            CoreBlocked.during(cluster.kernel(0), () -> {
                b.vmWrite(baseB + W, word(2)); // returns once the pager gave the page to kernel 1
                assertThat(a.tryVmRead(baseA + W, 8)).as("a read after the lease: the core's").isNull();
                assertThat(a.tryVmWrite(baseA + W, word(3))).as("a write after the lease: the core's").isFalse();
            });
            assertThat(b.vmRead(baseB + W, 8)).isEqualTo(word(2));
        }
    }

    private static byte[] word(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
