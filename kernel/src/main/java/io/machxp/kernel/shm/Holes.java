package io.machxp.kernel.shm;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import io.machxp.proto.shm.Futex;
import java.nio.ByteBuffer;

/**
 * Frees the memory behind part of a shared file: Linux's {@code madvise(MADV_REMOVE)} on the
 * kernel's own mapping of it, which punches a hole in the file (the kernel calls
 * {@code fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)} on the mapped range; tmpfs returns
 * the pages). A hole reads as zeros again and is allocated again at its next touch, so only a
 * range nobody touches any more may be freed ({@link SharedPages#release}). Reached through the
 * mapping, so no file descriptor is needed; bound through JNA's direct mapping as {@link Futex}
 * is. Linux on x86_64 or aarch64 only; elsewhere (or for a range not aligned to 4 KiB pages)
 * nothing is freed, and the slot stays allocated until the session ends.
 */
final class Holes {
    private static final int MADV_REMOVE = 9;
    private static final long OS_PAGE = 4096;
    private static final long SYS_MADVISE;
    private static final boolean AVAILABLE;

    static {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        long number = arch.equals("amd64") || arch.equals("x86_64") ? 28 : arch.equals("aarch64") ? 233 : -1;
        boolean bound = false;
        if (os.equals("Linux") && number > 0) {
            try {
                Native.register(Holes.class, NativeLibrary.getInstance("c"));
                bound = true;
            } catch (Throwable cannotBind) {
                bound = false; // nothing is freed before the session ends
            }
        }
        SYS_MADVISE = number;
        AVAILABLE = bound;
    }

    private Holes() {}

    private static native long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    /**
     * Frees {@code length} bytes at {@code offset} of the file {@code mapped} maps (read-write,
     * shared, from the file's start); whether it did. Both must be multiples of 4 KiB.
     */
    static boolean punch(ByteBuffer mapped, long offset, long length) {
        if (!AVAILABLE || offset % OS_PAGE != 0 || length % OS_PAGE != 0 || length <= 0) {
            return false;
        }
        long address = Futex.address(mapped) + offset;
        return address % OS_PAGE == 0 && syscall(SYS_MADVISE, address, length, MADV_REMOVE, 0, 0, 0) == 0;
    }
}
