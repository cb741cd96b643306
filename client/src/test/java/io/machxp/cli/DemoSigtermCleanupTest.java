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
 * {@code machxp demo} told to stop with SIGTERM (as by Ctrl-C or a service manager) closes its
 * embedded cluster: its kernels' session directories leave the shared directory with it, rather
 * than waiting for the next kernel's start to find them dead (docs/shared-memory.md). The demo
 * runs in a JVM of its own with a private shared directory ({@code -Dmachxp.shm.dir}), so that
 * parallel runs never see each other's sessions.
 */
class DemoSigtermCleanupTest {
    /** Deadlines, not figures: a JVM on a loaded 2-core machine has taken over 60 s to start a cluster. */
    private static final Duration START = Duration.ofSeconds(180);
    private static final Duration EXIT = Duration.ofSeconds(120);

    @Test
    void sigtermRemovesTheDemosSessionDirectories(@TempDir Path tmp) throws Exception {
        Path shm = Files.createDirectory(tmp.resolve("shm"));
        Path log = tmp.resolve("demo.log");
        Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dmachxp.shm.dir=" + shm, "-cp", System.getProperty("java.class.path"),
                "io.machxp.cli.Machxp", "demo", "--threads", "1", "--warmup", "10m")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            // the 3 kernels' session directories, each with its lock: the cluster is up
            await().atMost(START).until(() -> !demo.isAlive() || SessionDirectories.locked(shm).size() == 3);
            assertThat(demo.isAlive()).as("the demo runs (its output: %s)", Files.readString(log)).isTrue();

            demo.destroy(); // SIGTERM
            assertThat(demo.waitFor(EXIT.toSeconds(), TimeUnit.SECONDS)).as("the demo exits").isTrue();

            assertThat(SessionDirectories.locked(shm)).as("session directories left after SIGTERM (output: %s)",
                    Files.readString(log)).isEmpty();
        } finally {
            demo.destroyForcibly();
        }
    }
}
