package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** `machxp pager --store DIR`: page data that reached the pager survives a pager restart. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PagerStoreOverGrpcTest {
    @TempDir
    Path dir;

    private static PagerConfig config(Path dir) {
        return PagerConfig.loopback(Map.of("obj", 4L * 4096)).withStoreDir(dir);
    }

    @Test
    void returnedPagesSurviveAPagerRestart() throws Exception {
        try (Pager pager = Pager.start(config(dir));
                Kernel a = Kernel.start(KernelConfig.loopback("A", pager.target()));
                KernelClient client = KernelClient.connect("127.0.0.1:" + a.port())) {
            TaskClient task = client.taskCreate("writer");
            long base = task.vmMap("obj");
            task.writeLong(base + 4096 + 24, 0x1234_5678_9abcL);
            task.writeLong(base + 3 * 4096, -7);
            a.close(); // returns its dirty pages before memory_object_terminate
        }
        try (Pager pager = Pager.start(config(dir));
                Kernel b = Kernel.start(KernelConfig.loopback("B", pager.target()));
                KernelClient client = KernelClient.connect("127.0.0.1:" + b.port())) {
            TaskClient task = client.taskCreate("reader");
            long base = task.vmMap("obj");
            assertThat(task.readLong(base + 4096 + 24)).isEqualTo(0x1234_5678_9abcL);
            assertThat(task.readLong(base + 3 * 4096)).isEqualTo(-7);
            assertThat(task.readLong(base)).as("never written").isZero();
        }
    }
}
