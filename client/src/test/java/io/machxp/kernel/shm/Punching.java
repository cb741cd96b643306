package io.machxp.kernel.shm;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Tests only (in the kernel's package, for {@link Holes}): how many bytes a file has allocated
 * ({@code st_blocks} of {@code fstatat}, through JNA: no {@code stat} binary, GNU or other), and
 * whether a hole punched in a directory's file frees memory there (a tmpfs without huge pages).
 */
public final class Punching {
    private Punching() {}

    private interface C extends Library {
        long syscall(long number, Object... args);
    }

    private static final long SYS_NEWFSTATAT = switch (System.getProperty("os.arch", "")) {
        case "amd64", "x86_64" -> 262;
        case "aarch64" -> 79;
        default -> -1;
    };
    private static final long AT_FDCWD = -100;
    /** st_blocks (512-byte units) in struct stat: at 64 on both x86_64 and aarch64 (the generic layout). */
    private static final long ST_BLOCKS = 64;

    /** Bytes allocated to {@code file}; -1 where it cannot be known. */
    public static long allocatedBytes(Path file) {
        if (SYS_NEWFSTATAT < 0 || !System.getProperty("os.name", "").equals("Linux")) {
            return -1;
        }
        try {
            C c = Native.load("c", C.class);
            try (Memory stat = new Memory(256)) {
                stat.clear();
                long r = c.syscall(SYS_NEWFSTATAT, AT_FDCWD, file.toString(), stat, 0L);
                return r == 0 ? stat.getLong(ST_BLOCKS) * 512 : -1;
            }
        } catch (Throwable cannot) {
            return -1;
        }
    }

    /** The OS page size the kernel punches holes in (0: it punches none). */
    public static long osPage() {
        return Holes.OS_PAGE;
    }

    /** Whether a page written in a file of {@code dir} and punched again gives its memory back there. */
    public static boolean holesFreeMemoryIn(Path dir) throws IOException {
        long os = Holes.OS_PAGE;
        if (os <= 0) {
            return false;
        }
        Path probe = Files.createTempFile(dir, "punch-probe-", "");
        try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            SharedMemory.writeZeros(ch, 0, 2 * os);
            ByteBuffer mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, 2 * os);
            long before = allocatedBytes(probe);
            boolean punched = Holes.punch(mapped, 0, os);
            long after = allocatedBytes(probe);
            return punched && before > 0 && after >= 0 && after <= before - os;
        } finally {
            Files.deleteIfExists(probe);
        }
    }
}
