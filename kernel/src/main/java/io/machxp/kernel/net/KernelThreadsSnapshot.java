package io.machxp.kernel.net;

import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.FutexRef;
import io.machxp.proto.task.KernelThreadsReply;
import io.machxp.proto.task.ThreadStatus;

/**
 * What KernelThreads answers, read on the kernel's core thread: each living thread's task name,
 * base and effective priority (a boost shows as effective above base, with the futexes it comes
 * from), and the call it is blocked in, with the futex it waits for.
 */
final class KernelThreadsSnapshot {
    private KernelThreadsSnapshot() {}

    static KernelThreadsReply of(String kernelName, int kernelId, KernelCore core) {
        KernelThreadsReply.Builder r = KernelThreadsReply.newBuilder().setKernelName(kernelName)
                .setKernelId(kernelId).setResidentPages(core.residentPages());
        for (MachThread t : core.threads()) {
            ThreadStatus.Builder b = ThreadStatus.newBuilder().setTid(t.tid).setTaskName(t.task.name)
                    .setBasePriority(t.basePriority).setEffectivePriority(t.effectivePriority);
            if (t.blockedIn != null) {
                b.setBlockedIn(t.blockedIn);
            }
            if (t.waiter != null && t.waiter.entry != null) {
                b.setWaitsForObject(core.objectName(t.waiter.entry)).setWaitsForOffset(t.waiter.entry.offset());
            }
            for (FutexEntry f : t.boostedBy) {
                b.addBoostedBy(FutexRef.newBuilder().setObject(core.objectName(f)).setOffset(f.offset()));
            }
            r.addThreads(b);
        }
        return r.build();
    }
}
