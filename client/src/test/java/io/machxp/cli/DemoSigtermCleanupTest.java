package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code machxp demo} told to stop with SIGTERM (as by Ctrl-C or a service manager) closes its
 * embedded cluster: its kernels' session directories leave the shared directory with it, rather
 * than waiting for the next kernel's start to find them dead (docs/shared-memory.md). The demo
 * runs in a JVM of its own with a private shared directory ({@code -Dmachxp.shm.dir}), so that
 * parallel runs never see each other's sessions.
 */
class DemoSigtermCleanupTest {

    @Test
    void sigtermRemovesTheDemosSessionDirectories(@TempDir Path tmp) throws Exception {
        Path shm = Files.createDirectory(tmp.resolve("shm"));
        Path log = tmp.resolve("demo.log");
        try (SigtermJvm demo = SigtermJvm.start(shm, log, "demo", "--threads", "1", "--warmup", "10m")) {
            // the 3 kernels' session directories, each with its lock: the cluster is up
            await().atMost(SigtermJvm.START).until(() -> !demo.isAlive() || SessionDirectories.locked(shm).size() == 3);
            demo.sigterm("the demo runs", "the demo exits");

            assertThat(SessionDirectories.locked(shm)).as("session directories left after SIGTERM (output: %s)",
                    demo.output()).isEmpty();
        }
    }
}
