package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code machxp demo --ipc} told to stop with SIGTERM as soon as its kernels' session directories
 * exist - while the linked cluster may still be starting - closes the cluster once started: nothing
 * of the run is left in the shared directory. The demo runs in a JVM of its own with a private
 * shared directory ({@code -Dmachxp.shm.dir}), as in {@link DemoSigtermCleanupTest}.
 */
class IpcDemoSigtermCleanupTest {
    private static final int KERNELS = 2;

    @Test
    void sigtermWhileTheClusterStartsRemovesItsSessionDirectories(@TempDir Path tmp) throws Exception {
        Path shm = Files.createDirectory(tmp.resolve("shm"));
        Path log = tmp.resolve("ipc-demo.log");
        try (SigtermJvm demo = SigtermJvm.start(shm, log, "demo", "--ipc", "--kernels", Integer.toString(KERNELS),
                "--calls", "100000000")) {
            // every kernel's session directory, each with its lock: SIGTERM at once, the start may not be done
            await().atMost(SigtermJvm.START).pollInterval(Duration.ofMillis(10))
                    .until(() -> !demo.isAlive() || SessionDirectories.locked(shm).size() == KERNELS);
            demo.sigterm("the IPC demo runs", "the IPC demo exits");

            assertThat(SessionDirectories.all(shm)).as("left in the shared directory after SIGTERM (output: %s)",
                    demo.output()).isEmpty();
        }
    }
}
