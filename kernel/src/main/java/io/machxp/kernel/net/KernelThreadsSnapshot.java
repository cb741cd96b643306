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
 * from), and the call it is blocked in, with the futex it waits for. The reply is bounded: past
 * {@link #MAX_REPLY_BYTES} the remaining threads are only counted ({@code threads_omitted}), so
 * that one client's many threads (each with its task's name, up to 255 characters) cannot make
 * the reply too large for every client with gRPC's default 4 MiB limit.
 */
final class KernelThreadsSnapshot {
    /** The listed threads' bytes at most: room under gRPC's default 4 MiB for the rest of the reply. */
    static final int MAX_REPLY_BYTES = 3 << 20;

    private KernelThreadsSnapshot() {}

    static KernelThreadsReply of(String kernelName, int kernelId, KernelCore core) {
        KernelThreadsReply.Builder r = KernelThreadsReply.newBuilder().setKernelName(kernelName)
                .setKernelId(kernelId).setResidentPages(core.inspect().residentPages());
        int bytes = 0;
        int omitted = 0;
        for (MachThread t : core.inspect().threads()) {
            if (bytes > MAX_REPLY_BYTES) {
                omitted++;
                continue;
            }
            ThreadStatus.Builder b = ThreadStatus.newBuilder().setTid(t.tid).setTaskName(t.task.name)
                    .setBasePriority(t.basePriority).setEffectivePriority(t.effectivePriority);
            if (t.blockedIn != null) {
                b.setBlockedIn(t.blockedIn);
            }
            if (t.waiter != null && t.waiter.entry != null) {
                b.setWaitsForObject(core.inspect().objectName(t.waiter.entry)).setWaitsForOffset(t.waiter.entry.offset());
            }
            for (FutexEntry f : t.boostedBy) {
                b.addBoostedBy(FutexRef.newBuilder().setObject(core.inspect().objectName(f)).setOffset(f.offset()));
            }
            ThreadStatus status = b.build();
            bytes += status.getSerializedSize() + 5; // its tag and length
            r.addThreads(status);
        }
        return r.setThreadsOmitted(omitted).build();
    }
}
