package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A machxp command in a JVM of its own with a private shared directory ({@code -Dmachxp.shm.dir}),
 * its output in a log, stopped with SIGTERM: the set-up of the tests that SIGTERM a command (with
 * {@link SessionDirectories} for what it leaves). Closing it kills the JVM if it still runs.
 */
final class SigtermJvm implements AutoCloseable {
    /** Deadlines, not figures: a JVM on a loaded 2-core machine has taken over 60 s to start a cluster. */
    static final Duration START = Duration.ofSeconds(180);
    static final Duration EXIT = Duration.ofSeconds(120);

    private final Process process;
    private final Path log;

    private SigtermJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code machxp args...} with the shared directory {@code shm}, its output to {@code log}. */
    static SigtermJvm start(Path shm, Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Dmachxp.shm.dir=" + shm, "-cp", System.getProperty("java.class.path"),
                "io.machxp.cli.Machxp"));
        command.addAll(List.of(args));
        return new SigtermJvm(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start(),
                log);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String output() throws IOException {
        return Files.readString(log);
    }

    /**
     * Asserts that the command still runs ({@code alive}, with its output), stops it with SIGTERM and
     * asserts that it exits ({@code exits}) within {@link #EXIT}.
     */
    void sigterm(String alive, String exits) throws Exception {
        assertThat(process.isAlive()).as(alive + " (its output: %s)", output()).isTrue();

        process.destroy(); // SIGTERM
        assertThat(process.waitFor(EXIT.toSeconds(), TimeUnit.SECONDS)).as(exits).isTrue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
