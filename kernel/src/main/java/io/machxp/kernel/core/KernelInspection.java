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

    /**
     * Core thread: the futexes the kernel asks for or holds counted to client peers, all together
     * (FutexShares; 0 once every task a client created has ended).
     */
    public int futexesOfPeers() {
        core.checkThread();
        return core.futexes.shares().heldByPeers();
    }

    /** Core thread: a futex counted to a peer that is neither asked for nor held, or to an ended task; null if none. */
    public String futexShareViolation() {
        core.checkThread();
        for (FutexEntry e : core.futexes.shares().charged()) {
            if (e.chargedTask == null || core.tasks.task(e.chargedTask.id) != e.chargedTask) {
                return "futex " + e + " counted to a client peer's task that ended (" + e.chargedTask + ")";
            }
            if (io.machxp.kernel.futex.FutexWord.isAbsent(e.state()) && e.request == FutexEntry.Request.NONE) {
                return "futex " + e + " counted to a client peer although the kernel neither asks for it nor holds it";
            }
        }
        return null;
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

    /** Core thread: how many mappings of tasks the object named {@code name} has (0 if the kernel keeps none of that name). */
    public int mappingsOf(String name) {
        core.checkThread();
        io.machxp.kernel.vm.VmObject o = core.objects.objectNamed(name);
        return o == null ? 0 : o.mappings;
    }

    /** Core thread: the mappings the kernel counts (every task's, and places held by vm_maps under way). */
    public int mappingsCounted() {
        core.checkThread();
        return core.tasks.shares.mappings.used();
    }
}
