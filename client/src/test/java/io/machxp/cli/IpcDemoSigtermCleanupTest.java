package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code machxp demo --ipc} told to stop with SIGTERM as soon as its kernels' session directories
 * exist - while the linked cluster may still be starting - closes the cluster once started: nothing
 * of the run is left in the shared directory. The demo runs in a JVM of its own with a private
 * shared directory ({@code -Dmachxp.shm.dir}), as in {@link DemoSigtermCleanupTest}.
 */
class IpcDemoSigtermCleanupTest {
    /** Deadlines, not figures: a JVM on a loaded 2-core machine has taken over 60 s to start a cluster. */
    private static final Duration START = Duration.ofSeconds(180);
    private static final Duration EXIT = Duration.ofSeconds(120);
    private static final int KERNELS = 2;

    @Test
    void sigtermWhileTheClusterStartsRemovesItsSessionDirectories(@TempDir Path tmp) throws Exception {
        Path shm = Files.createDirectory(tmp.resolve("shm"));
        Path log = tmp.resolve("ipc-demo.log");
        Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dmachxp.shm.dir=" + shm, "-cp", System.getProperty("java.class.path"),
                "io.machxp.cli.Machxp", "demo", "--ipc", "--kernels", Integer.toString(KERNELS),
                "--calls", "100000000")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            // every kernel's session directory, each with its lock: SIGTERM at once, the start may not be done
            await().atMost(START).pollInterval(Duration.ofMillis(10))
                    .until(() -> !demo.isAlive() || SessionDirectories.locked(shm).size() == KERNELS);
            assertThat(demo.isAlive()).as("the IPC demo runs (its output: %s)", Files.readString(log)).isTrue();

            demo.destroy(); // SIGTERM
            assertThat(demo.waitFor(EXIT.toSeconds(), TimeUnit.SECONDS)).as("the IPC demo exits").isTrue();

            assertThat(SessionDirectories.all(shm)).as("left in the shared directory after SIGTERM (output: %s)",
                    Files.readString(log)).isEmpty();
        } finally {
            demo.destroyForcibly();
        }
    }
}
