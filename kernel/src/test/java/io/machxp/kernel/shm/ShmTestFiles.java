package io.machxp.kernel.shm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import org.junit.jupiter.api.Assumptions;

/**
 * The shared-memory files of one test: a directory of the test's own under {@code /dev/shm}
 * (other test forks and runs use {@code /dev/shm} at the same time), a session's shared memory
 * made there as in production, its page files, and a task process's view of a file; all of it
 * removed at {@link #close}. A test is skipped where {@code /dev/shm} is not a writable directory
 * ({@link #make}), or, for a test that looks at holes, not a tmpfs with OS pages of {@link #PAGE}
 * bytes ({@link #punchable}).
 */
public final class ShmTestFiles implements AutoCloseable {
    /** The page size of the tests' objects (a slot is one OS page where holes are looked at). */
    public static final int PAGE = 4096;

    private final Path dir;
    private SharedMemory memory;

    private ShmTestFiles(Path dir) {
        this.dir = dir;
    }

    /** A fresh directory named {@code prefix...} under {@code /dev/shm}; the test is skipped without one. */
    public static ShmTestFiles make(String prefix) throws IOException {
        Path tmpfs = Path.of("/dev/shm");
        Assumptions.assumeTrue(Files.isDirectory(tmpfs) && Files.isWritable(tmpfs), "no /dev/shm");
        return new ShmTestFiles(Files.createTempDirectory(tmpfs, prefix));
    }

    /** This, where holes punched in a slot can be seen: a tmpfs with OS pages of {@link #PAGE} bytes; else skipped. */
    public ShmTestFiles punchable() throws IOException {
        String why = !"tmpfs".equals(Files.getFileStore(dir).type()) ? "/dev/shm is not a tmpfs"
                : Holes.OS_PAGE != PAGE ? "OS pages of " + Holes.OS_PAGE + " bytes" : null;
        if (why != null) {
            close();
        }
        Assumptions.assumeTrue(why == null, why);
        return this;
    }

    public Path dir() {
        return dir;
    }

    /** The session's shared memory here (kernel A, session 1), made at the first call. */
    public SharedMemory memory() {
        if (memory == null) {
            memory = SharedMemory.create(dir, "A", 1);
        }
        return memory;
    }

    /** The page file of object {@code objectId}, of {@code pages} pages of {@link #PAGE} bytes, made as in production. */
    public SharedPages pageFile(int objectId, int pages) {
        SharedPages p = memory().objectFiles(objectId, PAGE, (long) pages * PAGE).pages();
        assertThat(p).as("the page file of object %d", objectId).isNotNull();
        return p;
    }

    /** File {@code f} mapped read-write, as a task process maps it. */
    public static ByteBuffer taskView(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
        }
    }

    /** The session's shared memory closed, and the directory removed with everything in it. */
    @Override
    public void close() throws IOException {
        if (memory != null) {
            memory.close();
            memory = null;
        }
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
