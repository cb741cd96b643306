package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
        try (SigtermJvm kernel = SigtermJvm.start(shm, log, "kernel", "--name", "A", "--port", "0",
                "--pager", "127.0.0.1:" + silentPager, "--connect-timeout", "60")) {
            await().atMost(SigtermJvm.START).pollInterval(Duration.ofMillis(10))
                    .until(() -> !kernel.isAlive() || !SessionDirectories.locked(shm).isEmpty());
            kernel.sigterm("the kernel starts", "the kernel exits");

            assertThat(SessionDirectories.all(shm)).as("left in the shared directory after SIGTERM (output: %s)",
                    kernel.output()).isEmpty();
        }
    }
}
