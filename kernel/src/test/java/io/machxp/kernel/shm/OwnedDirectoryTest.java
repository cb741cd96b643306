package io.machxp.kernel.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The board directory of {@code bench --api process} ({@link OwnedDirectory}): a run killed before
 * its {@code finally} leaves its directory, and the next run removes it once its process is dead
 * (nobody holds its lock), never one of a live process.
 */
class OwnedDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void aDeadRunsDirectoryIsRemovedALiveOnesKept() throws Exception {
        Path dead = benchDirectory("machxp-bench-" + deadPid() + "-0.1-aaaaaaaaaa");
        Path making = benchDirectory(SessionDirectory.MAKING + "bench");
        Process holder = java(LockHolder.class, making.resolve(SessionDirectory.LOCK).toString());
        try {
            assertThat(firstLine(holder)).isEqualTo("locked");
            // named with its holder's pid, as a live run's directory is
            Path live = Files.move(making, dir.resolve("machxp-bench-" + holder.pid() + "-0.1-bbbbbbbbbb"));
            Path own;
            try (OwnedDirectory made = OwnedDirectory.make(dir, "bench")) {
                own = made.path();
                assertThat(own.getFileName().toString()).startsWith("machxp-bench-" + ProcessHandle.current().pid() + "-0.");
                Files.writeString(own.resolve("board"), "this run's");
                assertThat(dead).as("a killed run's directory").doesNotExist();
                assertThat(live.resolve("board")).as("a live run's board").exists();
            }
            assertThat(own).as("closed: removed with its files").doesNotExist();
        } finally {
            holder.getOutputStream().close();
            holder.waitFor(20, TimeUnit.SECONDS);
            holder.destroyForcibly();
        }
    }

    /** A bench run's directory as {@link OwnedDirectory} makes it (owner-only, a lock file, a board). */
    private Path benchDirectory(String name) throws Exception {
        Path d = Files.createDirectory(dir.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createFile(d.resolve(SessionDirectory.LOCK));
        Files.writeString(d.resolve("board"), "left by its run");
        Files.writeString(d.resolve("worker-0.log"), "");
        return d;
    }

    private static Process java(Class<?> main, String... args) throws java.io.IOException {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static String firstLine(Process child) throws java.io.IOException {
        return new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    private static long deadPid() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor(10, TimeUnit.SECONDS);
        return ended.pid();
    }
}
