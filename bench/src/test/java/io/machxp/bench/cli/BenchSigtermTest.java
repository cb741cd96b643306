package io.machxp.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code machxp bench --api process} told to stop with SIGTERM while its worker processes run: the
 * bench's close at exit kills them before its JVM is gone (none outlives it, still a client of the
 * servers) and removes the board's directory and the kernels' session directories. The bench runs
 * in a JVM of its own with a private shared directory ({@code -Dmachxp.shm.dir}).
 */
class BenchSigtermTest {
    /** Deadlines, not figures: a JVM on a loaded 2-core machine has taken over 60 s to start a cluster. */
    private static final Duration START = Duration.ofSeconds(180);
    private static final Duration EXIT = Duration.ofSeconds(120);
    private static final int KERNELS = 2;

    @Test
    void sigtermKillsTheWorkerProcessesAndLeavesNothingShared(@TempDir Path tmp) throws Exception {
        Path shm = Files.createDirectory(tmp.resolve("shm"));
        Path log = tmp.resolve("bench.log");
        Process bench = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-Dmachxp.shm.dir=" + shm, "-cp", System.getProperty("java.class.path"),
                BenchMain.class.getName(), "bench", "--api", "process", "--systems", "machxp",
                "--kernels", Integer.toString(KERNELS), "--threads", "1", "--warmup", "10m", "--duration", "1s",
                "--no-chart", "--no-progress")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        List<ProcessHandle> workers = List.of();
        try {
            await().atMost(START).until(() -> !bench.isAlive() || workers(bench).size() == KERNELS);
            assertThat(bench.isAlive()).as("the bench runs (its output: %s)", Files.readString(log)).isTrue();
            workers = workers(bench);

            bench.destroy(); // SIGTERM
            assertThat(bench.waitFor(EXIT.toSeconds(), TimeUnit.SECONDS)).as("the bench exits").isTrue();

            assertThat(workers).as("worker processes alive after the bench's exit (output: %s)",
                    Files.readString(log)).noneMatch(ProcessHandle::isAlive);
            try (Stream<Path> left = Files.list(shm)) {
                assertThat(left.toList()).as("left in the shared directory (output: %s)", Files.readString(log))
                        .isEmpty();
            }
        } finally {
            workers.forEach(ProcessHandle::destroyForcibly);
            bench.destroyForcibly();
        }
    }

    /** The bench's worker processes (WorkerMain JVMs), started so far: by their command line (Linux's /proc). */
    private static List<ProcessHandle> workers(Process bench) {
        return bench.children().filter(p -> {
            try {
                return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline")),
                        java.nio.charset.StandardCharsets.UTF_8).contains("io.machxp.bench.process.WorkerMain");
            } catch (java.io.IOException gone) {
                return false;
            }
        }).toList();
    }
}
