package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CPUSET_BYTES;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The CPUs of a linux-mode run ({@link LinuxPlatform}): the CPUs this process may use, CPU masks
 * for sched_setaffinity, a trial of the pinning and SCHED_FIFO a run needs, and the pinning of the
 * JVM's own threads away from the scenario's CPUs.
 */
final class LinuxCpus {
    private LinuxCpus() {}

    /** The CPUs this process may run on (its affinity mask), ascending. */
    static int[] allowedCpus() {
        Memory mask = new Memory(CPUSET_BYTES);
        mask.clear();
        if (LinuxNative.sched_getaffinity(0, CPUSET_BYTES, Pointer.nativeValue(mask)) != 0) {
            int n = Runtime.getRuntime().availableProcessors();
            return java.util.stream.IntStream.range(0, n).toArray();
        }
        List<Integer> cpus = new ArrayList<>();
        for (int i = 0; i < CPUSET_BYTES * 8; i++) {
            if ((mask.getByte(i / 8) & (1 << (i % 8))) != 0) {
                cpus.add(i);
            }
        }
        return cpus.stream().mapToInt(Integer::intValue).toArray();
    }

    static Memory cpuSet(int[] cpus) {
        Memory mask = new Memory(CPUSET_BYTES);
        mask.clear();
        for (int c : cpus) {
            mask.setByte(c / 8, (byte) (mask.getByte(c / 8) | (1 << (c % 8))));
        }
        return mask;
    }

    /** Tries, on a thread of its own, the pinning and SCHED_FIFO the run needs: {fifo errno, affinity errno}. */
    static int[] probe(int[] cpus) {
        int[] errnos = new int[2];
        Memory mask = cpuSet(cpus);
        Memory param = new Memory(4);
        param.setInt(0, 1);
        Thread t = new Thread(() -> {
            if (LinuxNative.sched_setaffinity(0, CPUSET_BYTES, Pointer.nativeValue(mask)) != 0) {
                errnos[1] = LinuxNative.errno();
            }
            if (LinuxNative.sched_setscheduler(0, LinuxNative.SCHED_FIFO, Pointer.nativeValue(param)) != 0) {
                errnos[0] = LinuxNative.errno();
            }
        }, "linux-probe");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return errnos;
    }

    /** Pins every thread of this process but {@code scenarioTids} to {@code cpus}. */
    static void pinAllBut(Set<Integer> scenarioTids, int[] cpus) {
        Memory mask = cpuSet(cpus);
        String[] tasks = new File("/proc/self/task").list();
        if (tasks == null) {
            return;
        }
        for (String t : tasks) {
            int tid = Integer.parseInt(t);
            if (!scenarioTids.contains(tid)) {
                LinuxNative.sched_setaffinity(tid, CPUSET_BYTES, Pointer.nativeValue(mask)); // a thread may have ended
            }
        }
    }
}
