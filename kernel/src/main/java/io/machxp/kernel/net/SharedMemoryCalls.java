package io.machxp.kernel.net;

import static io.machxp.kernel.net.Answers.fail;
import static io.machxp.kernel.net.Answers.respond;

import io.grpc.stub.StreamObserver;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.shm.SharedMemory;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.ShmMapping;
import io.machxp.proto.task.TaskShmAttachReply;
import io.machxp.proto.task.TaskShmAttachRequest;

/**
 * The task interface's side of shared memory (docs/shared-memory.md): TaskShmAttach (which
 * has the core serve the session's call file, {@link SlotCalls}), and the revocation of a task
 * process's fast path before the kernel ends one of its threads or the task. A client shares
 * memory only on this host and boot (boot_id) and on the kernel's clock ({@link SameClock}).
 */
final class SharedMemoryCalls {
    private static final String HOST = ShmLayout.bootId();

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SharedMemoryCalls.class);

    private final ServedKernel kernel;
    /** Whether a client on another clock was refused yet (warned once, then at debug). */
    private final java.util.concurrent.atomic.AtomicBoolean toldOtherClock = new java.util.concurrent.atomic.AtomicBoolean();
    /** Where calls through the call file go: the task interface's own handlers. */
    private final SlotCalls slotCalls;

    SharedMemoryCalls(ServedKernel kernel, SlotCalls slotCalls) {
        this.kernel = kernel;
        this.slotCalls = slotCalls;
    }

    /** TaskShmAttach: the files of the task's mappings, or why there are none. */
    void attach(KernelCore core, long taskId, TaskShmAttachRequest request, StreamObserver<TaskShmAttachReply> out) {
        SharedMemory memory = core.sharedMemory();
        if (memory == null) {
            respond(out, unavailable("kernel " + kernel.name() + " shares no memory (started with --shm-dir none)"));
            return;
        }
        if (HOST.isEmpty() || !HOST.equals(request.getBootId())) {
            respond(out, unavailable("the client is not on kernel " + kernel.name() + "'s host (or not in its boot)"));
            return;
        }
        String otherClock = SameClock.refusal(request); // on receipt: not after a wait for the core
        if (otherClock != null) {
            String why = "kernel " + kernel.name() + " shares no memory with process " + request.getPid() + ": "
                    + otherClock;
            if (toldOtherClock.compareAndSet(false, true)) {
                log.warn("{}; its tasks make their calls over gRPC (logged once; later ones at debug)", why);
            } else {
                log.debug(why);
            }
            respond(out, unavailable(why));
            return;
        }
        kernel.execute(() -> {
            MachTask task = core.task(taskId);
            if (task == null) {
                fail(out, KernelError.of(Errno.ESRCH, "kernel %s has no such task; create one with task_create",
                        kernel.name()));
                return;
            }
            // a pid from another PID namespace names another process here, or none: unknown (0)
            long pid = ShmLayout.samePidNamespace(request.getPidNamespace()) ? request.getPid() : 0;
            int slot = memory.attach(taskId, pid, request.getAttacher());
            if (slot == SharedMemory.OTHER_PROCESS) {
                fail(out, KernelError.of(Errno.EBUSY, "task %d is attached to kernel %s's shared memory by process %d%s; "
                        + "a task is one address space, attached from one process: this process makes the task's "
                        + "calls over gRPC", taskId, kernel.name(), memory.attacher(taskId),
                        pid == 0 ? " (a pid not known here: another attacher name)" : ""));
                return;
            }
            TaskShmAttachReply.Builder reply = TaskShmAttachReply.newBuilder().setAvailable(true)
                    .setKernelFile(memory.kernelFile().toString()).setTaskSlot(slot + 1);
            io.machxp.kernel.shm.CallReader calls = memory.serveCalls(slotCalls);
            if (calls != null) {
                reply.setCallFile(calls.file().toString());
            }
            for (VmMapping m : task.mappings()) {
                if (m.object().sharedFutexes != null) {
                    ShmMapping.Builder b = ShmMapping.newBuilder().setAddress(m.start()).setSize(m.size())
                            .setFutexFile(m.object().sharedFutexes.file().toString());
                    if (m.object().sharedPages != null && slot >= 0) {
                        b.setPageFile(m.object().sharedPages.file().toString());
                    }
                    reply.addMappings(b);
                }
            }
            respond(out, reply.build());
        });
    }

    /** Core thread: the new thread's slot plus 1 if its task is attached, else 0. */
    static int threadSlot(KernelCore core, long taskId, int tid) {
        SharedMemory memory = core.sharedMemory();
        return memory == null ? 0 : memory.threadSlot(taskId, tid) + 1;
    }

    /**
     * Runs {@code end} (the core's termination of thread {@code tid}, or of the task when 0) once
     * the task's process makes no fast call for it any more; at once if it shares no memory.
     */
    void afterRevoke(KernelCore core, long taskId, int tid, Runnable end) {
        SharedMemory memory = core.sharedMemory();
        if (memory == null || !memory.attached(taskId)) {
            end.run();
            return;
        }
        memory.revoke(taskId, tid, end);
    }

    private static TaskShmAttachReply unavailable(String why) {
        return TaskShmAttachReply.newBuilder().setAvailable(false).setReason(why).build();
    }
}
