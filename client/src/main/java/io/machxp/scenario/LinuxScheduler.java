package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CPUSET_BYTES;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;

/**
 * The calls by which linux mode changes how Linux schedules a thread other than the caller, or
 * ends the process: what stops a run ({@link LinuxPlatform#stopThreads}, {@link LinuxWatchdog})
 * does through it, so that its tests replace it by a fake and need no SCHED_FIFO. {@link #NATIVE}
 * makes the real calls. Each returns 0 or the errno.
 */
interface LinuxScheduler {
    /** SCHED_OTHER for the thread {@code tid} (0: the caller). */
    int makeOrdinary(int tid);

    /** SCHED_FIFO at {@code priority} for the calling thread. */
    int makeRealTime(int priority);

    /** The thread {@code tid} may run on {@code cpus}. */
    int pin(int tid, int[] cpus);

    /** The thread's policy (SCHED_OTHER 0, SCHED_FIFO 1, ...), or -1 if it has none (it ended). */
    int policy(int tid);

    /** Writes {@code why} and a newline to standard error, then ends the process with SIGKILL. */
    void killProcess(String why);

    LinuxScheduler NATIVE = new Native();

    /** The real calls, through {@link LinuxNative}. */
    final class Native implements LinuxScheduler {
        private static final long SYS_WRITE = 1;
        private static final long SYS_GETPID = 39;
        private static final long SYS_KILL = 62;
        private static final int SIGKILL = 9;

        @Override
        public int makeOrdinary(int tid) {
            Memory param = new Memory(4);
            param.setInt(0, 0);
            return LinuxNative.sched_setscheduler(tid, LinuxNative.SCHED_OTHER, Pointer.nativeValue(param)) != 0
                    ? LinuxNative.errno() : 0;
        }

        @Override
        public int makeRealTime(int priority) {
            Memory param = new Memory(4);
            param.setInt(0, priority);
            return LinuxNative.sched_setscheduler(0, LinuxNative.SCHED_FIFO, Pointer.nativeValue(param)) != 0
                    ? LinuxNative.errno() : 0;
        }

        @Override
        public int pin(int tid, int[] cpus) {
            return LinuxNative.sched_setaffinity(tid, CPUSET_BYTES, Pointer.nativeValue(LinuxCpus.cpuSet(cpus))) != 0
                    ? LinuxNative.errno() : 0;
        }

        @Override
        public int policy(int tid) {
            return LinuxNative.sched_getscheduler(tid);
        }

        /** Straight to file descriptor 2 and the kernel: neither needs another thread of the JVM. */
        @Override
        public void killProcess(String why) {
            byte[] b = (why + "\n").getBytes(StandardCharsets.UTF_8);
            Memory m = new Memory(b.length);
            m.write(0, b, 0, b.length);
            LinuxNative.syscall(SYS_WRITE, 2, Pointer.nativeValue(m), b.length, 0, 0, 0);
            LinuxNative.syscall(SYS_KILL, LinuxNative.syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0), SIGKILL, 0, 0, 0, 0);
        }
    }
}
