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
 * is. Linux on x86_64 or aarch64 only; elsewhere nothing is freed, and a slot stays allocated
 * until its page is mapped and released again.
 *
 * <p>{@code madvise} works in whole OS pages, and rounds a length up to one: a punch of part of an
 * OS page would free the rest of it too, the neighbouring slots with it, which may be mapped and
 * live (on aarch64 with 16 or 64 KiB pages, under 4 KiB object pages). So only the OS pages that
 * lie entirely inside the range are punched ({@link #wholePages}), with the OS's real page size
 * ({@code getpagesize()}, read once); a slot smaller than an OS page keeps its memory.
 */
final class Holes {
    private static final int MADV_REMOVE = 9;
    /** The OS's page size ({@code getpagesize()}); 0 where unknown (nothing is punched). */
    static final long OS_PAGE;
    private static final long SYS_MADVISE;
    private static final boolean AVAILABLE;

    static {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        long number = arch.equals("amd64") || arch.equals("x86_64") ? 28 : arch.equals("aarch64") ? 233 : -1;
        boolean bound = false;
        long osPage = 0;
        if (os.equals("Linux") && number > 0) {
            try {
                Native.register(Holes.class, NativeLibrary.getInstance("c"));
                osPage = getpagesize();
                bound = osPage > 0 && Long.bitCount(osPage) == 1;
            } catch (Throwable cannotBind) {
                bound = false; // nothing is freed
            }
        }
        SYS_MADVISE = number;
        OS_PAGE = bound ? osPage : 0;
        AVAILABLE = bound;
    }

    private Holes() {}

    private static native long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    private static native int getpagesize();

    /**
     * The OS pages ({@code osPage} bytes each, a power of two) entirely inside {@code length} bytes
     * at {@code offset}: {start, end} with both multiples of {@code osPage}, or null if there are
     * none (the range covers no whole OS page: nothing may be punched).
     */
    static long[] wholePages(long offset, long length, long osPage) {
        if (osPage <= 0 || length <= 0 || offset < 0) {
            return null;
        }
        long start = (offset + osPage - 1) / osPage * osPage;
        long end = (offset + length) / osPage * osPage;
        return start < end ? new long[] {start, end} : null;
    }

    /**
     * Frees the whole OS pages inside {@code length} bytes at {@code offset} of the file
     * {@code mapped} maps (read-write, shared, from the file's start, so at an OS page's start);
     * whether it freed any. Nothing outside the range is touched.
     */
    static boolean punch(ByteBuffer mapped, long offset, long length) {
        long[] pages = AVAILABLE ? wholePages(offset, length, OS_PAGE) : null;
        if (pages == null) {
            return false;
        }
        long address = Futex.address(mapped) + pages[0];
        return address % OS_PAGE == 0 && syscall(SYS_MADVISE, address, pages[1] - pages[0], MADV_REMOVE, 0, 0, 0) == 0;
    }
}
