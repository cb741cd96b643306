package io.machxp.scenario;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The C library calls of {@link LinuxPlatform}, bound by JNA's direct mapping: plain JNI native
 * methods, so a call takes no Java lock (a SCHED_FIFO thread must not wait for a lock held by a
 * thread it starves). Pointers are passed as addresses ({@code long}) of native memory allocated
 * before the run; errno is read with {@link Native#getLastError()} right after a call that
 * returned -1. x86_64 only (the syscall numbers).
 */
final class LinuxNative {
    static final long SYS_GETTID = 186;
    static final long SYS_FUTEX = 202;

    static final int FUTEX_LOCK_PI = 6;
    static final int FUTEX_UNLOCK_PI = 7;
    static final int FUTEX_TRYLOCK_PI = 8;
    static final int FUTEX_PRIVATE_FLAG = 128;

    static final int SCHED_OTHER = 0;
    static final int SCHED_FIFO = 1;
    static final int CLOCK_REALTIME = 0;
    static final int CLOCK_MONOTONIC = 1;
    static final int CLOCK_THREAD_CPUTIME_ID = 3;
    static final int TIMER_ABSTIME = 1;
    static final int O_RDONLY = 0;

    static final int PTHREAD_MUTEX_ERRORCHECK = 2;
    static final int PTHREAD_PRIO_INHERIT = 1;
    static final int PTHREAD_MUTEX_ROBUST = 1;
    /** sizeof(pthread_mutex_t) and sizeof(pthread_mutexattr_t) on x86_64 with glibc. */
    static final int MUTEX_SIZE = 40;
    static final int MUTEXATTR_SIZE = 4;
    /** Bytes of the cpu_set_t passed to sched_setaffinity: 1024 CPUs. */
    static final int CPUSET_BYTES = 128;

    /** Null when the library is bound, else why not. */
    static final String UNAVAILABLE;

    static {
        String why = null;
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            why = "linux mode needs Linux on x86_64, and this is " + os + " on " + arch;
        } else {
            try {
                Native.register(LinuxNative.class, NativeLibrary.getInstance("c"));
            } catch (Throwable e) {
                why = "linux mode cannot bind the C library through JNA (" + e + ")";
            }
        }
        UNAVAILABLE = why;
    }

    private LinuxNative() {}

    static native long syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    static native int sched_setscheduler(int pid, int policy, long param);

    static native int sched_setparam(int pid, long param);

    static native int sched_getscheduler(int pid);

    static native int setrlimit(int resource, long rlimit);

    static native int getrlimit(int resource, long rlimit);

    static native int sched_setaffinity(int pid, long size, long mask);

    static native int sched_getaffinity(int pid, long size, long mask);

    static native int clock_gettime(int clock, long timespec);

    static native int clock_nanosleep(int clock, int flags, long request, long remain);

    static native int open(long path, int flags);

    static native long read(int fd, long buffer, long count);

    static native int close(int fd);

    static native int pthread_mutexattr_init(long attr);

    static native int pthread_mutexattr_settype(long attr, int type);

    static native int pthread_mutexattr_setprotocol(long attr, int protocol);

    static native int pthread_mutexattr_setrobust(long attr, int robust);

    static native int pthread_mutex_init(long mutex, long attr);

    static native int pthread_mutex_lock(long mutex);

    static native int pthread_mutex_timedlock(long mutex, long abstime);

    static native int pthread_mutex_trylock(long mutex);

    static native int pthread_mutex_unlock(long mutex);

    static native int pthread_mutex_consistent(long mutex);

    static int gettid() {
        return (int) syscall(SYS_GETTID, 0, 0, 0, 0, 0, 0);
    }

    static int errno() {
        return Native.getLastError();
    }
}
