package io.machxp.proto.shm;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;

/**
 * Linux's futex system call on a word of a shared file mapping: the doorbell of shared-memory
 * calls ({@link CallLayout}). FUTEX_WAIT and FUTEX_WAKE without FUTEX_PRIVATE_FLAG key the word
 * by its file and offset, so a process waiting on it is woken by another process that maps the
 * same file. Bound through JNA's direct mapping (a plain native method: no Java lock, no
 * allocation per call). Linux on x86_64 or aarch64 only; elsewhere {@link #AVAILABLE} is false
 * and every call goes over gRPC.
 */
public final class Futex {
    private static final int FUTEX_WAIT = 0;
    private static final int FUTEX_WAKE = 1;
    private static final long SYS_FUTEX;
    /** Whether the system call is bound here. */
    public static final boolean AVAILABLE;
    /** A timespec per thread, in native memory, for FUTEX_WAIT's relative timeout. */
    private static final ThreadLocal<Memory> TIMESPEC = ThreadLocal.withInitial(() -> new Memory(16));

    static {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        long number = arch.equals("amd64") || arch.equals("x86_64") ? 202 : arch.equals("aarch64") ? 98 : -1;
        boolean bound = false;
        if (os.equals("Linux") && number > 0) {
            try {
                Native.register(Futex.class, NativeLibrary.getInstance("c"));
                bound = true;
            } catch (Throwable cannotBind) {
                bound = false; // no JNA native part for this platform: gRPC
            }
        }
        SYS_FUTEX = number;
        AVAILABLE = bound;
    }

    private Futex() {}

    private static native long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    /** The address of a mapped buffer's first byte. */
    public static long address(ByteBuffer mapped) {
        return Pointer.nativeValue(Native.getDirectBufferPointer(mapped));
    }

    /**
     * Sleeps while the int at {@code address} holds {@code expected}, for at most {@code nanos}
     * (a wake, a changed word, the timeout, or a signal end it: the caller looks again).
     */
    public static void await(long address, int expected, long nanos) {
        Memory ts = TIMESPEC.get();
        long n = Math.max(0, nanos);
        ts.setLong(0, n / 1_000_000_000L);
        ts.setLong(8, n % 1_000_000_000L);
        syscall(SYS_FUTEX, address, FUTEX_WAIT, expected, Pointer.nativeValue(ts), 0, 0);
    }

    /** Wakes up to {@code count} processes or threads sleeping on the int at {@code address}. */
    public static void wake(long address, int count) {
        syscall(SYS_FUTEX, address, FUTEX_WAKE, count, 0, 0, 0);
    }
}
