package io.machxp.kernel.core;

import io.machxp.kernel.ipc.IpcSched;
import io.machxp.kernel.task.MachThread;

/**
 * Priority donation through Mach RPC on this kernel's scheduler (see {@link IpcSched}): a thread
 * that received a request from a client blocked for the reply runs at least at the client's
 * priority until its reply right goes; the boost is computed with the futex boosts
 * ({@link FutexInheritance}) and traced as "boost"/"deboost". Only with priority inheritance on:
 * --no-pi attaches nothing. Part of the kernel core: core thread only.
 */
final class IpcDonations implements IpcSched {
    private final KernelCore core;

    IpcDonations(KernelCore core) {
        this.core = core;
    }

    @Override
    public int priority(int tid) {
        MachThread t = core.tasks.livingThread(tid);
        return t == null ? 0 : t.effectivePriority;
    }

    @Override
    public void donate(int tid, Object key, int priority) {
        MachThread t = core.tasks.livingThread(tid);
        if (t != null) {
            t.ipcDonations.put(key, priority);
            core.futexes.ipcDonationsChanged(t);
        }
    }

    @Override
    public void endDonation(int tid, Object key) {
        MachThread t = core.tasks.livingThread(tid);
        if (t != null && t.ipcDonations.remove(key) != null) {
            core.futexes.ipcDonationsChanged(t);
        }
    }
}
