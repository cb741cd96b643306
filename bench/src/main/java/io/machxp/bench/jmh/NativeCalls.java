package io.machxp.bench.jmh;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * Two libc functions bound by JNA direct mapping (the cheapest way JNA calls native code), for the
 * claim that a cached uncontended futex costs no more than a local system call: {@code syscall}
 * with {@link #SYS_GETPID}, a real system call that enters the kernel every time, and {@code abs},
 * which makes none, so the cost of the Java-to-native call itself is visible beside it.
 *
 * <p>Not {@code ProcessHandle.current().pid()}: the JDK reads the pid once and caches it, so it
 * makes no system call. Not libc's {@code getpid()} either: glibc has not cached the pid since
 * 2.25, but other C libraries may; {@code syscall(SYS_getpid)} always enters the kernel.
 */
final class NativeCalls {
    /** {@code SYS_getpid} on x86-64 Linux ({@code asm/unistd_64.h}); 172 on aarch64. */
    static final long SYS_GETPID = "aarch64".equals(System.getProperty("os.arch")) ? 172 : 39;

    static {
        Native.register(NativeCalls.class, NativeLibrary.getInstance("c"));
    }

    private NativeCalls() {}

    /** libc's {@code syscall(2)} wrapper with the number alone (getpid takes no argument). */
    static native long syscall(long number);

    /** libc's {@code abs(3)}: a native call that does no system call. */
    static native int abs(int value);
}
