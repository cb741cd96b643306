package io.machxp.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The kernels' session directories in a shared directory, for the tests that SIGTERM a command. */
final class SessionDirectories {
    private SessionDirectories() {}

    /** The session directories in {@code shm} whose lock file is there. */
    static List<Path> locked(Path shm) throws IOException {
        try (Stream<Path> entries = Files.list(shm)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("machxp-")
                    && Files.exists(p.resolve("lock"))).toList();
        }
    }

    /** Everything left in {@code shm}. */
    static List<Path> all(Path shm) throws IOException {
        try (Stream<Path> entries = Files.list(shm)) {
            return entries.toList();
        }
    }
}
