package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CPUSET_BYTES;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * The calls by which linux mode changes how Linux schedules a thread other than the caller, or
 * ends the process: what stops a run ({@link LinuxPlatform#stopThreads}, {@link LinuxWatchdog})
 * does through it, so that its tests replace it by a fake and need no SCHED_FIFO. {@link #NATIVE}
 * makes the real calls. Each returns 0 or the errno. The watchdog, at SCHED_FIFO 99 in a JVM whose
 * ordinary threads may be starved, uses {@link #prepare}d calls that allocate nothing.
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

    /**
     * The calls of {@link Prepared}, with everything they need (native memory for sched_param and
     * the CPU mask, the kill message's bytes) allocated now, by the caller.
     *
     * @param cpus what {@link Prepared#pin} pins to
     * @param killMessage what {@link Prepared#killProcess} writes to standard error, before a newline
     */
    Prepared prepare(int[] cpus, String killMessage);

    /**
     * Calls prepared in advance for one thread (the watchdog) that makes them at SCHED_FIFO 99
     * where the JVM's ordinary threads may be starved: they allocate nothing, so they take no lock
     * that such a thread can hold (a JNA Memory registers with JNA's cleaner, whose lock the
     * ordinary "JNA Cleaner" thread takes). Not for two threads at once (the memory is shared).
     */
    interface Prepared {
        /** SCHED_OTHER for the thread {@code tid} (0: the caller). */
        int makeOrdinary(int tid);

        /** The thread {@code tid} may run on the prepared CPUs. */
        int pin(int tid);

        /** Writes the prepared message and a newline to standard error, then ends the process with SIGKILL. */
        void killProcess();
    }

    LinuxScheduler NATIVE = new Native();

    /** The real calls, through {@link LinuxNative}. */
    final class Native implements LinuxScheduler {
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

        @Override
        public Prepared prepare(int[] cpus, String killMessage) {
            return new LinuxPreparedCalls(cpus, killMessage);
        }
    }
}
