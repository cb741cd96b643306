package io.machxp.kernel.shm;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.CallLayout;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a session's files are (review L5): in a directory of its own under the shared directory,
 * made owner-only with a name nobody can guess, so that another user can neither make one of its
 * files first (predictable names in the world-writable {@code /dev/shm}) nor connect to its bell
 * in the moment between its bind and its chmod; the session's end deletes the directory with
 * whatever is in it, and a later kernel deletes the directories (and the flat files of before)
 * of kernels that no longer run.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedMemoryFilesTest {
    @TempDir
    Path dir;

    @Test
    void aSessionsFilesAndBellAreInADirectoryOnlyItsOwnerCanEnter() throws Exception {
        SharedMemory memory = SharedMemory.create(dir, "A", 1, new CallLoop());
        memory.objectFiles(3, 4096, 4 * 4096L);
        List<Path> entries;
        try (var list = Files.list(dir)) {
            entries = list.toList();
        }
        assertThat(entries).as("one entry in the shared directory").hasSize(1);
        Path own = entries.get(0);
        assertThat(Files.isDirectory(own, LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(own))).isEqualTo("rwx------");
        assertThat(own.getFileName().toString()).startsWith("machxp-A-" + ProcessHandle.current().pid() + "-1.");
        assertThat(memory.kernelFile().getParent()).isEqualTo(own);
        assertThat(memory.calls().file().getParent()).isEqualTo(own);
        assertThat(Path.of(CallLayout.bellFile(memory.calls().file().toString())).getParent()).isEqualTo(own);
        try (var inside = Files.list(own)) {
            assertThat(inside.map(f -> f.getFileName().toString()).toList())
                    .containsExactlyInAnyOrder("kernel", "calls", "bell", "obj3", "obj3-pages");
        }

        Files.writeString(own.resolve("obj4-pages"), "a file made partway (review L7)");
        memory.close();
        try (var list = Files.list(dir)) {
            assertThat(list.toList()).as("the directory went with everything in it").isEmpty();
        }
    }

    /** Two sessions of one name, pid and number (as in two processes' views of a reused pid) never share a directory. */
    @Test
    void eachSessionHasADirectoryOfItsOwn() {
        try (SharedMemory a = SharedMemory.create(dir, "A", 1); SharedMemory b = SharedMemory.create(dir, "A", 1)) {
            assertThat(a.kernelFile().getParent()).isNotEqualTo(b.kernelFile().getParent());
            assertThat(a.kernelFile().getParent().getParent()).isEqualTo(dir);
        }
    }

    @Test
    void aDeadKernelsDirectoryAndOldFilesAreRemovedALiveOnesKept() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor(10, TimeUnit.SECONDS);
        long dead = ended.pid();
        Path deadDir = Files.createDirectory(dir.resolve("machxp-B-" + dead + "-1.1-123456789"));
        Files.writeString(deadDir.resolve("kernel"), "left by SIGKILL");
        Files.writeString(deadDir.resolve("obj1-pages"), "left by SIGKILL");
        Path oldFlat = Files.writeString(dir.resolve("machxp-B-" + dead + "-1.1-kernel"), "before directories");
        Path oldPages = Files.writeString(dir.resolve("machxp-B-" + dead + "-1.1-obj1-pages"), "before directories");
        Path live = Files.createDirectory(dir.resolve("machxp-C-" + ProcessHandle.current().pid() + "-1.1-42"));
        Files.writeString(live.resolve("kernel"), "a running kernel's");
        Path other = Files.writeString(dir.resolve("someone-elses-file"), "not ours");

        try (SharedMemory memory = SharedMemory.create(dir, "A", 1)) {
            assertThat(deadDir).doesNotExist();
            assertThat(oldFlat).doesNotExist();
            assertThat(oldPages).doesNotExist();
            assertThat(live.resolve("kernel")).exists();
            assertThat(other).exists();
        }
    }
}
