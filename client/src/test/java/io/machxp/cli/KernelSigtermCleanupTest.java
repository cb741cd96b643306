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
 * {@code machxp kernel} told to stop with SIGTERM while it starts - its session directory made, its
 * pager accepting the connection and never answering - leaves nothing in the shared directory: its
 * close at exit, registered before the start, ends the start (which closes the kernel) instead of
 * the JVM exiting in the middle of it. The start would wait the whole --connect-timeout (60 s, beyond
 * the close at exit's 15 s bound), so a hook that only waited for it would give up and leave the
 * directory. A JVM of its own with a private shared directory ({@code -Dmachxp.shm.dir}), as in
 * {@link DemoSigtermCleanupTest}.
 */
class KernelSigtermCleanupTest {
    /** Deadlines, not figures: a JVM on a loaded 2-core machine has taken over 60 s to start a cluster. */
    private static final Duration START = Duration.ofSeconds(180);
    private static final Duration EXIT = Duration.ofSeconds(120);

    @Test
    void sigtermWhileTheKernelWaitsForASilentPagerLeavesNoSessionDirectory(@TempDir Path tmp) throws Exception {
        Path shm = Files.createDirectory(tmp.resolve("shm"));
        Path log = tmp.resolve("kernel.log");
        // a pager that accepts (the connection waits in the backlog) and never answers: the start waits
        // --connect-timeout, long enough that the SIGTERM lands while it waits
        try (ServerSocket silentPager = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            sigtermWhileStarting(shm, log, silentPager.getLocalPort());
        }
    }

    private static void sigtermWhileStarting(Path shm, Path log, int silentPager) throws Exception {
        Process kernel = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dmachxp.shm.dir=" + shm, "-cp", System.getProperty("java.class.path"),
                "io.machxp.cli.Machxp", "kernel", "--name", "A", "--port", "0", "--pager", "127.0.0.1:" + silentPager,
                "--connect-timeout", "60")
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
