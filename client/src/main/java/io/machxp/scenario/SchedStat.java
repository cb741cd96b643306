package io.machxp.scenario;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * The calling thread's cumulative wait for a CPU, from {@code /proc/thread-self/schedstat}, whose
 * three fields are: nanoseconds on a CPU, nanoseconds runnable but waiting on a run queue, and
 * timeslices. Read without a Java lock and without allocating (a path and buffer in native memory
 * made beforehand, parsed in place), so a SCHED_FIFO scenario thread reads it on its way.
 *
 * <p>Only the wait is taken from here. The kernel brings a running thread's first field up to date
 * only at a tick or a switch, so the CPU time comes from {@code CLOCK_THREAD_CPUTIME_ID}, which is
 * exact; the wait is added when the thread gets its CPU, so it is exact whenever the thread reads it.
 */
final class SchedStat {
    private final Memory path;
    private final Memory buffer = new Memory(128);
    private final byte[] bytes = new byte[128];

    SchedStat() {
        this.path = LinuxPlatform.cString("/proc/thread-self/schedstat");
    }

    /** The calling thread's run-queue wait so far in nanoseconds, or -1 if the file cannot be read. */
    long waited() {
        int fd = LinuxNative.open(Pointer.nativeValue(path), LinuxNative.O_RDONLY);
        if (fd < 0) {
            return -1;
        }
        long n = LinuxNative.read(fd, Pointer.nativeValue(buffer), bytes.length);
        LinuxNative.close(fd);
        if (n <= 0) {
            return -1;
        }
        buffer.read(0, bytes, 0, (int) n);
        return field(bytes, (int) n, 1);
    }

    /** The {@code index}th (from 0) space-separated decimal field of {@code b[0..n)}, or -1. */
    static long field(byte[] b, int n, int index) {
        int i = 0;
        for (int f = 0; f < index; f++) {
            while (i < n && b[i] != ' ') {
                i++;
            }
            while (i < n && b[i] == ' ') {
                i++;
            }
        }
        if (i >= n || b[i] < '0' || b[i] > '9') {
            return -1;
        }
        long v = 0;
        while (i < n && b[i] >= '0' && b[i] <= '9') {
            v = v * 10 + (b[i] - '0');
            i++;
        }
        return v;
    }
}
