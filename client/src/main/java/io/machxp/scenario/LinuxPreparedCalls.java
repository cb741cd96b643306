package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CPUSET_BYTES;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;

/**
 * The real {@link LinuxScheduler.Prepared} calls: the native memory they pass to the kernel (a
 * sched_param at 0, the CPU mask, the kill message's bytes) is allocated and filled by the
 * constructor, and each call is a direct-mapped JNA native call ({@link LinuxNative}) on those
 * addresses, so a call allocates nothing and takes no Java lock. Used by one thread, the
 * watchdog ({@link LinuxWatchdog}), which keeps it (and so its memory) reachable while it runs.
 */
final class LinuxPreparedCalls implements LinuxScheduler.Prepared {
    private static final long SYS_WRITE = 1;
    private static final long SYS_GETPID = 39;
    private static final long SYS_KILL = 62;
    private static final int SIGKILL = 9;

    /** sched_param (priority 0, for SCHED_OTHER): only the kernel reads it. */
    private final Memory param;
    private final Memory mask;
    private final Memory message;
    private final long paramAt;
    private final long maskAt;
    private final long messageAt;
    private final int messageBytes;

    LinuxPreparedCalls(int[] cpus, String killMessage) {
        param = new Memory(8);
        param.clear();
        mask = LinuxCpus.cpuSet(cpus);
        byte[] b = (killMessage + "\n").getBytes(StandardCharsets.UTF_8);
        message = new Memory(b.length);
        message.write(0, b, 0, b.length);
        messageBytes = b.length;
        paramAt = Pointer.nativeValue(param);
        maskAt = Pointer.nativeValue(mask);
        messageAt = Pointer.nativeValue(message);
    }

    @Override
    public int makeOrdinary(int tid) {
        return LinuxNative.sched_setscheduler(tid, LinuxNative.SCHED_OTHER, paramAt) != 0 ? LinuxNative.errno() : 0;
    }

    @Override
    public int pin(int tid) {
        return LinuxNative.sched_setaffinity(tid, CPUSET_BYTES, maskAt) != 0 ? LinuxNative.errno() : 0;
    }

    /** Straight to file descriptor 2 and the kernel: neither needs another thread of the JVM. */
    @Override
    public void killProcess() {
        LinuxNative.syscall(SYS_WRITE, 2, messageAt, messageBytes, 0, 0, 0);
        LinuxNative.syscall(SYS_KILL, LinuxNative.syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0), SIGKILL, 0, 0, 0, 0);
    }
}
