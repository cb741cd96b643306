package io.machxp.bench.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A board directory of a bench run from before they were locked ({@code machxp-bench-<number>}):
 * removed when no process maps its board (its run was killed), kept while one does (its run lives).
 */
class LegacyBoardsTest {
    @TempDir
    Path shared;

    @Test
    void anUnmappedBoardsDirectoryIsRemovedAMappedOnesKept() throws Exception {
        Path dead = legacy("machxp-bench-3292428519966336480");
        Path live = legacy("machxp-bench-42");
        Path other = Files.createDirectory(shared.resolve("machxp-benchmark-notes"));
        try (FileChannel board = FileChannel.open(live.resolve("board"), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            var mapped = board.map(FileChannel.MapMode.READ_WRITE, 0, 128); // as a live run maps it
            LegacyBoards.removeDead(shared, Files.getOwner(shared));
            assertThat(mapped.get(0)).isEqualTo((byte) 0);
        }
        assertThat(dead).as("nobody maps its board: a killed run's").doesNotExist();
        assertThat(live.resolve("board")).as("a live run's board").exists();
        assertThat(other).as("not a bench run's name").exists();
    }

    private Path legacy(String name) throws Exception {
        Path d = Files.createDirectory(shared.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.write(d.resolve("board"), new byte[128]);
        Files.writeString(d.resolve("worker-0.log"), "");
        Files.writeString(d.resolve("worker-1.log"), "");
        return d;
    }
}
