package io.machxp.kernel.net;

import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelStats;

/**
 * What the gRPC services need of a running kernel: its core, the thread that runs it, its task
 * handles and counters. The running kernel (io.machxp.kernel.Kernel) implements it, so the
 * services do not depend on the class that serves them: no cycle between it and them.
 */
public interface ServedKernel {
    String name();

    int kernelId();

    /** Call only on the core thread ({@link #execute}). */
    KernelCore core();

    KernelStats stats();

    TaskHandles taskHandles();

    /** Runs an action on the core thread; throws RejectedExecutionException once the kernel is closing. */
    void execute(Runnable action);

    /**
     * Runs work nobody waits on (a task's end, a cancelled wait's abort) on the core thread, unless
     * the kernel is shutting down: its tasks and threads then go with it, and this answers false.
     */
    default boolean executeUnlessClosing(Runnable action) {
        try {
            execute(action);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException kernelClosing) {
            return false;
        }
    }

    /** The latency of vm_lock_futex over gRPC, which the task service records. */
    io.micrometer.core.instrument.Timer lockLatency();

    /** This kernel's IPC id among the kernels its links join; 0 without links. */
    default int ipcKernel() {
        return 0;
    }

    /** Where its IPC links listen, "host:port"; empty without links. */
    default String ipcAddress() {
        return "";
    }
}
