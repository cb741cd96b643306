package io.machxp.conform.kernel;

import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.conform.ErrorDetails;
import io.machxp.conform.Violation;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskCreateRequest;
import io.machxp.proto.task.TaskTerminateRequest;
import io.machxp.proto.task.ThreadCreateRequest;
import io.machxp.proto.task.VmMapReply;
import io.machxp.proto.task.VmMapRequest;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a kernel case works with: the kit's pager (the kernel's current session on it), the
 * kernel's task interface, objects of its own, the case's deadline. Each case gets its own probe
 * and its own task, terminated when the case ends.
 */
public final class KernelProbe implements AutoCloseable {
    /** What the cases of one run share. */
    static final class Run {
        final FakePager pager;
        final ManagedChannel tasks;
        final String runId;
        final AtomicInteger objects = new AtomicInteger();
        final AtomicLong grants = new AtomicLong();

        Run(FakePager pager, ManagedChannel tasks, String runId) {
            this.pager = pager;
            this.tasks = tasks;
            this.runId = runId;
        }
    }

    /** An object mapped into the case's task: where, and its id on the kernel's current stream. */
    public record Mapping(ServedObject object, long address, long size, int objectId, KernelLink link) {}

    private final Run run;
    private final String caseId;
    private final long deadlineNanos;
    private long task;

    KernelProbe(Run run, String caseId, long deadlineNanos) {
        this.run = run;
        this.caseId = caseId;
        this.deadlineNanos = deadlineNanos;
    }

    public long deadline() {
        return deadlineNanos;
    }

    public FakePager pager() {
        return run.pager;
    }

    public int pageSize() {
        return run.pager.pageSize();
    }

    public long leaseMillis() {
        return run.pager.leaseMillis();
    }

    /** The kernel's current session (waiting for one until the case's deadline). */
    public KernelLink link() {
        return run.pager.awaitSession(null, deadlineNanos);
    }

    /** A blocking stub of the task interface, bound by the case's deadline. */
    public MachTaskGrpc.MachTaskBlockingStub tasks() {
        return MachTaskGrpc.newBlockingStub(run.tasks).withDeadlineAfter(left(), TimeUnit.NANOSECONDS);
    }

    /** A future stub, for calls that block in the kernel (a lock the pager has not granted yet). */
    public MachTaskGrpc.MachTaskFutureStub async() {
        return MachTaskGrpc.newFutureStub(run.tasks).withDeadlineAfter(left(), TimeUnit.NANOSECONDS);
    }

    private long left() {
        return Math.max(1, deadlineNanos - System.nanoTime());
    }

    /** The case's task (created on first use). */
    public long task() {
        if (task == 0) {
            task = tasks().taskCreate(TaskCreateRequest.newBuilder().setName("cf-" + caseId).build()).getTask();
        }
        return task;
    }

    /** A thread of the case's task. */
    public int thread(int priority) {
        return tasks().threadCreate(ThreadCreateRequest.newBuilder().setTask(task()).setPriority(priority).build())
                .getTid();
    }

    /** A new object of {@code pages} pages that the kit serves and no other case uses. */
    public ServedObject serve(int pages) {
        return run.pager.serve("cf-" + run.runId + "-" + run.objects.incrementAndGet(), pages);
    }

    /** Maps {@code o} into the case's task: the kernel's init and its id. */
    public Mapping map(ServedObject o) {
        KernelLink link = link();
        VmMapReply r = tasks().vmMap(VmMapRequest.newBuilder().setTask(task()).setObject(o.name()).build());
        KernelToPager init = link.await("memory_object_init of '" + o.name() + "' (spec 5.1)",
                m -> m.hasMemoryObjectInit() && m.getMemoryObjectInit().getName().equals(o.name()), deadlineNanos);
        return new Mapping(o, r.getAddress(), r.getSize(), init.getMemoryObjectInit().getObjectId(), link);
    }

    /** Waits for a kernel message on the mapping's stream. */
    public KernelToPager await(Mapping m, String what, java.util.function.Predicate<KernelToPager> match) {
        return m.link().await(what, match, deadlineNanos);
    }

    /** Waits for the kernel's lock_futex (not an update) of the futex at {@code offset}. */
    public MemoryObjectLockFutex lockFutex(Mapping m, long offset, String why) {
        return await(m, "memory_object_lock_futex at 0x" + Long.toHexString(offset) + ": " + why,
                x -> x.hasMemoryObjectLockFutex() && !x.getMemoryObjectLockFutex().getUpdate()
                        && x.getMemoryObjectLockFutex().getOffset() == offset
                        && x.getMemoryObjectLockFutex().getObjectId() == m.objectId()).getMemoryObjectLockFutex();
    }

    /** A fencing token above every one the kit gave before (spec 8.5). */
    public long nextToken() {
        return run.pager.token(run.grants.incrementAndGet());
    }

    /** Grants the futex at {@code offset}; its token. */
    public long grant(Mapping m, long offset, boolean ownerDied, boolean relinquish) {
        long token = nextToken();
        m.link().send(KernelMessages.granted(m.objectId(), offset, token, ownerDied, relinquish));
        return token;
    }

    /** A grant without owner_died naming stale heir {@code staleHeirTid} (spec 8.4); returns its token. */
    public long grantNamingStaleHeir(Mapping m, long offset, int staleHeirTid) {
        long token = nextToken();
        m.link().send(io.machxp.proto.xp.PagerToKernel.newBuilder().setMemoryObjectFutexGranted(
                io.machxp.proto.xp.MemoryObjectFutexGranted.newBuilder().setObjectId(m.objectId()).setOffset(offset)
                        .setFencingToken(token).setStaleHeirTid(staleHeirTid)).build());
        return token;
    }

    /**
     * A barrier: a lock_request with reply for the object's last page (which no case touches) and
     * its lock_completed. The kernel handles the pager's messages in order (spec 10.1), so once it
     * answers, it has handled everything sent before, and sent what that made it send.
     */
    public void sync(Mapping m) {
        long last = m.size() - pageSize();
        m.link().send(KernelLink.lockRequest(m.objectId(), last, pageSize(), ReturnPolicy.RETURN_NONE, false,
                VmProt.VM_PROT_WRITE, true));
        await(m, "lock_completed answering a lock_request with reply (spec 6.4)",
                x -> x.hasMemoryObjectLockCompleted() && x.getMemoryObjectLockCompleted().getObjectId() == m.objectId()
                        && x.getMemoryObjectLockCompleted().getOffset() == last);
    }

    /**
     * The call fails with this gRPC code and an ErrorInfo of domain machxp with this errno, and a
     * sentence (spec 11.1).
     */
    public static void fails(Runnable call, Status.Code code, String errno, String what) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            if (s.getCode() != code) {
                throw new Violation(what + " must fail with " + code + " / " + errno + " (spec 11.1); it failed with "
                        + ErrorDetails.describe(s));
            }
            ErrorInfo info = ErrorDetails.errorInfo(e);
            if (info == null || !"machxp".equals(info.getDomain()) || !errno.equals(info.getReason())) {
                throw new Violation(what + " must carry ErrorInfo domain machxp, reason " + errno + " (spec 11.1); it "
                        + "carries " + (info == null ? "none" : info.getDomain() + " / " + info.getReason()));
            }
            if (s.getDescription() == null || s.getDescription().isBlank()) {
                throw new Violation(what + ": the status must carry a sentence for a person (spec 11.1)");
            }
            return;
        }
        throw new Violation(what + " must fail with " + code + " / " + errno + " (spec 11.1); it succeeded");
    }

    @Override
    public void close() {
        if (task != 0) {
            try {
                MachTaskGrpc.newBlockingStub(run.tasks).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .taskTerminate(TaskTerminateRequest.newBuilder().setTask(task).build());
            } catch (StatusRuntimeException e) {
                // the task is gone already (its session ended): nothing is left to end
            }
        }
    }
}
