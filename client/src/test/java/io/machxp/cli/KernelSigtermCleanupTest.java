package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code machxp kernel} told to stop with SIGTERM while it starts - its session directory made, the
 * pager not answering - leaves nothing in the shared directory: its close at exit, registered before
 * the start, waits for the start to end (here it fails at --connect-timeout, cleaning up after
 * itself) instead of the JVM exiting in the middle of it. A JVM of its own with a private shared
 * directory ({@code -Dmachxp.shm.dir}), as in {@link DemoSigtermCleanupTest}.
 */
class KernelSigtermCleanupTest {
    /** Deadlines, not figures: a JVM on a loaded 2-core machine has taken over 60 s to start a cluster. */
    private static final Duration START = Duration.ofSeconds(180);
    private static final Duration EXIT = Duration.ofSeconds(120);

    @Test
    void sigtermWhileTheKernelWaitsForItsPagerLeavesNoSessionDirectory(@TempDir Path tmp) throws Exception {
        Path shm = Files.createDirectory(tmp.resolve("shm"));
        Path log = tmp.resolve("kernel.log");
        int noPager;
        try (ServerSocket free = new ServerSocket(0)) {
            noPager = free.getLocalPort(); // closed again: nothing answers there
        }
        Process kernel = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dmachxp.shm.dir=" + shm, "-cp", System.getProperty("java.class.path"),
                "io.machxp.cli.Machxp", "kernel", "--name", "A", "--port", "0", "--pager", "127.0.0.1:" + noPager,
                "--connect-timeout", "5")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await().atMost(START).pollInterval(Duration.ofMillis(10))
                    .until(() -> !kernel.isAlive() || !SessionDirectories.locked(shm).isEmpty());
            assertThat(kernel.isAlive()).as("the kernel starts (its output: %s)", Files.readString(log)).isTrue();

            kernel.destroy(); // SIGTERM
            assertThat(kernel.waitFor(EXIT.toSeconds(), TimeUnit.SECONDS)).as("the kernel exits").isTrue();

            assertThat(SessionDirectories.all(shm)).as("left in the shared directory after SIGTERM (output: %s)",
                    Files.readString(log)).isEmpty();
        } finally {
            kernel.destroyForcibly();
        }
    }
}
