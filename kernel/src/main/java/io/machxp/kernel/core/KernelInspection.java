package io.machxp.kernel.core;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.task.MachThread;
import java.util.List;

/**
 * What tools, metrics and tests read of a kernel core: its threads (what KernelThreads shows),
 * resident pages, objects and futexes. Reached by {@link KernelCore#inspect()}. It only reads:
 * no call here sends a message, starts a timer or changes a state. Core thread, but for
 * {@link #residentPages}.
 */
public final class KernelInspection {
    private final KernelCore core;

    KernelInspection(KernelCore core) {
        this.core = core;
    }

    /** Pages resident now (written by the core thread; read by metrics from any thread). */
    public int residentPages() {
        return core.pages.residentCount();
    }

    /** Core thread: the living threads, by TID (what KernelThreads shows). */
    public List<MachThread> threads() {
        core.checkThread();
        return core.tasks.threads();
    }

    /** Core thread: the name of the object a futex this kernel caches is in ("?" if unmapped). */
    public String objectName(FutexEntry futex) {
        return core.futexes.objectName(futex);
    }

    /**
     * How many memory objects the kernel keeps now: mapped, cached after their tasks ended, or
     * retired with a lost secondary pager while a task still maps them; for tests and tools.
     */
    public int objectCount() {
        core.checkThread();
        return core.objects.count();
    }

    /** The futex at a task's address, for tests and tools; null if this kernel has none there. */
    public FutexEntry futexAt(long taskId, long address) {
        core.checkThread();
        return core.tasks.futexAt(taskId, address);
    }
}
