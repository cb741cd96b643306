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
                    .containsExactlyInAnyOrder("lock", "kernel", "calls", "bell", "obj3", "obj3-pages");
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
        long dead = deadPid();
        Path deadDir = sessionDirectory("machxp-B-" + dead + "-1.1-123456789");
        Files.writeString(deadDir.resolve("kernel"), "left by SIGKILL");
        Files.writeString(deadDir.resolve("obj1-pages"), "left by SIGKILL");
        Path oldFlat = Files.writeString(dir.resolve("machxp-B-" + dead + "-1.1-kernel"), "before directories");
        Path oldPages = Files.writeString(dir.resolve("machxp-B-" + dead + "-1.1-obj1-pages"), "before directories");
        Path other = Files.writeString(dir.resolve("someone-elses-file"), "not ours");

        try (SharedMemory memory = SharedMemory.create(dir, "A", 1)) {
            assertThat(deadDir).doesNotExist();
            assertThat(oldFlat).doesNotExist();
            assertThat(oldPages).doesNotExist();
            assertThat(other).exists();
        }
    }

    /**
     * Review M1: liveness is the session's lock, not a pid (a live kernel in another PID namespace
     * has a pid that names no process here). A directory whose lock another process holds is kept,
     * whatever its name's pid; one without a lock file (a kernel making it right now) too.
     */
    @Test
    void aDirectoryWhoseLockIsHeldIsKeptWhateverItsPid() throws Exception {
        Path live = sessionDirectory("machxp-C-" + deadPid() + "-1.1-42");
        Files.writeString(live.resolve("kernel"), "a running kernel's, in another PID namespace");
        Path beingMade = Files.createDirectory(dir.resolve("machxp-D-" + deadPid() + "-1.1-43"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Process holder = java(LockHolder.class, live.resolve(SessionDirectory.LOCK).toString());
        try {
            assertThat(firstLine(holder)).isEqualTo("locked");
            SharedMemory.create(dir, "A", 1).close();
            assertThat(live.resolve("kernel")).as("a live kernel's directory").exists();
            assertThat(beingMade).as("a directory without its lock file yet").exists();
        } finally {
            holder.getOutputStream().close();
            holder.waitFor(20, TimeUnit.SECONDS);
            holder.destroyForcibly();
        }
        SharedMemory.create(dir, "A", 1).close();
        assertThat(live).as("its holder ended: stale").doesNotExist();
    }

    /** Review S1: a stale-looking name that is a symlink, or a directory not owner-only, is left alone. */
    @Test
    void whatIsNotAnOwnerOnlyDirectoryOfTheKernelsUserIsLeftAlone() throws Exception {
        Path victim = victim();
        Path link = Files.createSymbolicLink(dir.resolve("machxp-E-" + deadPid() + "-1.1-7"), victim);
        Path open = Files.createDirectory(dir.resolve("machxp-F-" + deadPid() + "-1.1-8"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));
        Files.createFile(open.resolve(SessionDirectory.LOCK));
        Files.writeString(open.resolve("kernel"), "made by someone who could let others in");
        Path inner = sessionDirectory("machxp-G-" + deadPid() + "-1.1-9");
        Files.createSymbolicLink(inner.resolve("kernel"), victim.resolve("file0"));

        SharedMemory.create(dir, "A", 1).close();

        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(open.resolve("kernel")).exists();
        assertThat(inner).as("a dead session's directory: removed").doesNotExist();
        assertVictimIntact(victim);
    }

    /**
     * Review S1: the entry is swapped for a symlink to a victim directory after it was opened
     * and checked (the seam runs there; a local user can do it at any moment): what is deleted is
     * in the directory that was opened, never in the victim.
     */
    @Test
    void aDirectorySwappedForASymlinkMidRemovalDeletesNothingOfItsTarget() throws Exception {
        Path victim = victim();
        Path stale = sessionDirectory("machxp-H-" + deadPid() + "-1.1-10");
        for (int i = 0; i < VICTIM_FILES; i++) {
            Files.writeString(stale.resolve("file" + i), "left by SIGKILL");
        }
        Path moved = dir.resolve("moved-away");
        List<String> swapped = new java.util.concurrent.CopyOnWriteArrayList<>();
        SessionDirectory.beforeEmptying = name -> {
            if (name.equals(stale.getFileName().toString())) {
                try {
                    Files.move(stale, moved);
                    Files.createSymbolicLink(stale, victim);
                    swapped.add(name);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        try {
            SharedMemory.create(dir, "A", 1).close();
        } finally {
            SessionDirectory.beforeEmptying = null;
        }
        assertThat(swapped).as("the swap happened").hasSize(1);
        assertVictimIntact(victim);
        try (var left = Files.list(moved)) {
            assertThat(left.toList()).as("the opened directory was emptied").isEmpty();
        }
    }

    /**
     * Review N2(a): another kernel's process removes dead kernels' directories while this one is
     * between making its lock file and locking it. The directory has no session's name yet, so
     * it is left alone, and the session gets its files.
     */
    @Test
    void aDirectoryBeingMadeIsNotRemovedByAnotherKernel() throws Exception {
        List<String> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
        SessionDirectory.beforeLocking = making -> {
            try {
                Process remover = java(StaleRemover.class, dir.toString());
                ran.add(firstLine(remover));
                remover.waitFor(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        try (SharedMemory memory = SharedMemory.create(dir, "A", 1, new CallLoop())) {
            assertThat(ran).as("the other kernel's removal ran in the gap").containsExactly("removed");
            assertThat(memory.kernelFile()).exists();
            assertThat(memory.kernelFile().getParent().resolve(SessionDirectory.LOCK)).exists();
        } finally {
            SessionDirectory.beforeLocking = null;
        }
    }

    /**
     * Review N2(b)/N5: a removal in this process never opens the lock file of a session this
     * process holds (closing that descriptor would drop this process's lock on it): with two live
     * sessions (the second's start removes dead kernels' directories), another process still
     * cannot lock the first's.
     */
    @Test
    void twoSessionsOfOneProcessKeepEachOthersLocks() throws Exception {
        try (SharedMemory a = SharedMemory.create(dir, "A", 1); SharedMemory b = SharedMemory.create(dir, "A", 2)) {
            for (SharedMemory m : List.of(a, b)) {
                Process probe = java(LockHolder.class, m.kernelFile().getParent().resolve(SessionDirectory.LOCK).toString(),
                        "try");
                assertThat(firstLine(probe)).as("another process's tryLock").isEqualTo("held");
            }
        }
    }

    /**
     * Review N1: the session's own directory is swapped for a symlink to a victim directory while
     * it lives (possible in a shared directory others can rename in): its end deletes its own
     * files, through the directory it opened, and nothing of the victim.
     */
    @Test
    void theOwnDirectorySwappedForASymlinkDeletesNothingOfItsTargetAtTheEnd() throws Exception {
        Path victim = victim();
        SharedMemory memory = SharedMemory.create(dir, "A", 1);
        Path own = memory.kernelFile().getParent();
        Path moved = dir.resolve("moved-away");
        Files.move(own, moved);
        Files.createSymbolicLink(own, victim);
        memory.close();
        assertVictimIntact(victim);
        try (var left = Files.list(moved)) {
            assertThat(left.toList()).as("the session's own files were deleted").isEmpty();
        }
    }

    /** Review L3: a long kernel name does not push the bell's path past a socket address's length. */
    @Test
    void aLongKernelNameStillGivesACallFile() {
        String name = "k".repeat(100);
        try (SharedMemory memory = SharedMemory.create(dir, name, 1, new CallLoop())) {
            assertThat(memory.calls()).isNotNull();
            assertThat(memory.kernelFile().getParent().getFileName().toString())
                    .startsWith("machxp-" + "k".repeat(SessionDirectory.NAME_PART) + "-");
        }
    }

    @Test
    void aBellPathTooLongForASocketSaysSoAndWhatToDo() {
        assertThat(SharedMemory.bellPathTooLong(Path.of("/dev/shm/machxp-A-1-1.1-abcdefghij/bell"))).isNull();
        Path longPath = Path.of("/" + "d".repeat(120) + "/bell");
        assertThat(SharedMemory.bellPathTooLong(longPath))
                .contains("too long for a Unix socket address").contains("--shm-dir").contains("126 bytes");
    }

    private static final int VICTIM_FILES = 50;

    /** A directory of files that no removal may touch. */
    private Path victim() throws Exception {
        Path victim = Files.createDirectory(dir.resolve("victim"));
        for (int i = 0; i < VICTIM_FILES; i++) {
            Files.writeString(victim.resolve("file" + i), "precious");
        }
        return victim;
    }

    private void assertVictimIntact(Path victim) throws Exception {
        try (var files = Files.list(victim)) {
            assertThat(files.count()).as("the victim's files").isEqualTo(VICTIM_FILES);
        }
        assertThat(Files.readString(victim.resolve("file0"))).isEqualTo("precious");
    }

    /** A session's directory as a kernel makes it (owner-only, with its lock file) that nobody holds. */
    private Path sessionDirectory(String name) throws Exception {
        Path d = Files.createDirectory(dir.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createFile(d.resolve(SessionDirectory.LOCK));
        return d;
    }

    private static Process java(Class<?> main, String... args) throws java.io.IOException {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        // stderr not merged: a "Picked up JAVA_TOOL_OPTIONS" banner goes there (review N5)
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** The first line the child prints on its standard output. */
    private static String firstLine(Process child) throws java.io.IOException {
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()));
        return out.readLine();
    }

    private static long deadPid() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor(10, TimeUnit.SECONDS);
        return ended.pid();
    }
}
