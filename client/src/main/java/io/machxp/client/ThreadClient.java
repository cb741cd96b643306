package io.machxp.client;

import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.net.IpcMessages;
import io.machxp.proto.task.MachMsgRequest;

import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.ThreadComputeRequest;
import io.machxp.proto.task.ThreadSetPriorityRequest;
import io.machxp.proto.task.ThreadSleepRequest;
import io.machxp.proto.task.ThreadTerminateRequest;
import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.task.VmFutexConsistentReply;
import io.machxp.proto.task.VmFutexConsistentRequest;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmTrylockFutexReply;
import io.machxp.proto.task.VmTrylockFutexRequest;
import io.machxp.proto.task.VmUnlockFutexReply;
import io.machxp.proto.task.VmUnlockFutexRequest;
import java.time.Duration;

/**
 * A thread of a task on a kernel. Its futex calls block the calling Java thread; a thread makes
 * one call at a time (EBUSY otherwise). A lock or trylock that fails because its caller gave up
 * on it over gRPC (the call deadline, an interrupt, a cancelled Context, a broken connection) is
 * undone at the kernel before it throws, in case the kernel granted it anyway: each lock carries
 * a lock_seq of this thread, and the undo names it, so it undoes that lock's grant and nothing
 * else ({@link GivenUpLock}). Only with a kernel that says it knows lock_seq (thread_create's
 * undoes_abandoned_locks); an undo that fails leaves the futex possibly held.
 */
public final class ThreadClient {
    private final KernelClient kernel;
    private final long task;
    private final int tid;
    /** The fast path in memory the kernel shares, or null: every call over gRPC. */
    private final SharedThread fast;

    /** Its task's memory shared with the kernel (its calls through the call file), or null: over gRPC. */
    private final SharedTaskMemory shared;
    private final CallChannel.Slot slot;
    /** The kernel knows lock_seq and abandoned_lock_seq (ThreadCreateReply): given-up locks are undone. */
    private final boolean undoesAbandonedLocks;
    /** The last lock_seq this thread sent (task.proto); locks carry it only if {@link #undoesAbandonedLocks}. */
    private final java.util.concurrent.atomic.AtomicLong lockSeqs = new java.util.concurrent.atomic.AtomicLong();

    /** The fast path of this thread in shared memory, or null (tests: what a stale client would still try). */
    SharedThread sharedThread() {
        return fast;
    }

    /** A thread reached over gRPC only. */
    ThreadClient(KernelClient kernel, long task, int tid) {
        this(kernel, task, tid, false);
    }

    /** A thread reached over gRPC only, of a kernel that does or does not undo given-up locks. */
    ThreadClient(KernelClient kernel, long task, int tid, boolean undoesAbandonedLocks) {
        this(kernel, task, tid, null, null, null, undoesAbandonedLocks);
    }

    ThreadClient(KernelClient kernel, long task, int tid, SharedThread fast, SharedTaskMemory shared,
            CallChannel.Slot slot, boolean undoesAbandonedLocks) {
        this.undoesAbandonedLocks = undoesAbandonedLocks;
        this.kernel = kernel;
        this.task = task;
        this.tid = tid;
        this.fast = fast;
        this.shared = shared;
        this.slot = slot;
    }

    /** The TID: unique across the kernels of one pager; what the futex word holds. */
    public int tid() {
        return tid;
    }

    /**
     * vm_lock_futex, waiting as long as it takes; returns how the kernel got the futex. A futex
     * whose previous owner died holding it throws {@link MachxpException} with EOWNERDEAD (code OK:
     * the call succeeded), as a robust {@code pthread_mutex_lock} returns it and as the in-process
     * {@code LocalThread.lockFutex} throws it: the caller owns the futex all the same and repairs
     * the data ({@link #markConsistent}) before it unlocks, or the futex becomes ENOTRECOVERABLE.
     * {@link #lock} returns the whole answer instead.
     */
    public AcquirePath lockFutex(long address) {
        if (fast != null && fast(() -> fast.lock(address))) {
            return AcquirePath.FAST_PATH;
        }
        return ownerDiedThrown(address, lockCall(request(address).build())).getPath();
    }

    /** vm_lock_futex with a timeout: ETIMEDOUT (DEADLINE_EXCEEDED) when it expires first; EOWNERDEAD as {@link #lockFutex(long)}. */
    public AcquirePath lockFutex(long address, Duration timeout) {
        if (fast != null && fast(() -> fast.lock(address))) {
            return AcquirePath.FAST_PATH;
        }
        return ownerDiedThrown(address, lockCall(request(address).setTimeoutMillis(WireDurations.millis(timeout)).build())).getPath();
    }

    /** {@code reply}, or EOWNERDEAD thrown if the futex's previous owner died (the caller owns it all the same). */
    private static VmLockFutexReply ownerDiedThrown(long address, VmLockFutexReply reply) {
        if (reply.getOwnerDied()) {
            throw MachxpException.ownerDied(address);
        }
        return reply;
    }

    /**
     * vm_lock_futex with the whole answer: how it was acquired, and owner_died (EOWNERDEAD) when
     * its previous owner died holding it. {@code timeout} null waits as long as it takes.
     */
    public VmLockFutexReply lock(long address, Duration timeout) {
        long[] token = new long[1];
        if (fast != null && fast(() -> fast.lock(address) && withToken(token))) {
            return VmLockFutexReply.newBuilder().setPath(AcquirePath.FAST_PATH).setFencingToken(token[0]).build();
        }
        VmLockFutexRequest.Builder r = request(address);
        if (timeout != null) {
            r.setTimeoutMillis(WireDurations.millis(timeout));
        }
        return lockCall(r.build());
    }

    /** A lock: one given up on over gRPC is undone before it fails (task.proto, {@link GivenUpLock}). */
    private VmLockFutexReply lockCall(VmLockFutexRequest r) {
        long seq = nextLockSeq();
        VmLockFutexRequest q0 = seq == 0 ? r : r.toBuilder().setLockSeq(seq).build();
        return kernel.call(shared, slot, CallLayout.VM_LOCK_FUTEX, q0, VmLockFutexReply.parser(),
                q -> kernel.stub().vmLockFutex(q), abandon(r.getAddress(), seq));
    }

    /** A new lock_seq for this thread's next lock or trylock; 0 (none) with a kernel that predates it. */
    private long nextLockSeq() {
        return undoesAbandonedLocks ? lockSeqs.incrementAndGet() : 0;
    }

    /**
     * vm_unlock_futex with abandoned_lock_seq: undoes the grant of the lock {@code seq} of
     * {@code address}, if it got one; null (no undo) for a lock without a lock_seq, which an old
     * kernel would take as a plain unlock. Its deadline is bounded ({@link KernelClient#undoStub}).
     */
    private java.util.function.Supplier<VmUnlockFutexReply> abandon(long address, long seq) {
        return seq == 0 ? null : () -> kernel.undoStub().vmUnlockFutex(VmUnlockFutexRequest.newBuilder().setTask(task)
                .setThread(tid).setAddress(address).setAbandonedLockSeq(seq).build());
    }

    /** vm_trylock_futex: true if the futex is now this thread's; EOWNERDEAD thrown as by {@link #lockFutex(long)}. */
    public boolean tryLockFutex(long address) {
        VmTrylockFutexReply reply = trylock(address);
        if (reply.getAcquired() && reply.getOwnerDied()) {
            throw MachxpException.ownerDied(address);
        }
        return reply.getAcquired();
    }

    /** vm_trylock_futex with the whole answer (acquired, path, owner_died). */
    public VmTrylockFutexReply trylock(long address) {
        long[] token = new long[1];
        if (fast != null && fast(() -> fast.tryLock(address) && withToken(token))) {
            return VmTrylockFutexReply.newBuilder().setAcquired(true).setPath(AcquirePath.FAST_PATH)
                    .setFencingToken(token[0]).build();
        }
        long seq = nextLockSeq();
        VmTrylockFutexRequest.Builder r = VmTrylockFutexRequest.newBuilder().setTask(task).setThread(tid).setAddress(address);
        if (seq != 0) {
            r.setLockSeq(seq);
        }
        return kernel.call(shared, slot, CallLayout.VM_TRYLOCK_FUTEX, r.build(),
                VmTrylockFutexReply.parser(), q -> kernel.stub().vmTrylockFutex(q), abandon(address, seq));
    }

    /** vm_futex_consistent: after owner_died, the data is repaired and the futex usable again. */
    public void markConsistent(long address) {
        kernel.call(shared, slot, CallLayout.VM_FUTEX_CONSISTENT,
                VmFutexConsistentRequest.newBuilder().setTask(task).setThread(tid).setAddress(address).build(),
                VmFutexConsistentReply.parser(), q -> kernel.stub().vmFutexConsistent(q));
    }

    /** thread_compute: uses {@code cpu} of simulated CPU under the kernel's priority scheduler. */
    public void compute(Duration cpu) {
        kernel.call(() -> kernel.stub().threadCompute(
                ThreadComputeRequest.newBuilder().setTask(task).setThread(tid).setNanos(WireDurations.nanos(cpu)).build()));
    }

    /** thread_sleep: blocks for {@code time} without a CPU. */
    public void sleep(Duration time) {
        kernel.call(() -> kernel.stub().threadSleep(
                ThreadSleepRequest.newBuilder().setTask(task).setThread(tid).setNanos(WireDurations.nanos(time)).build()));
    }

    /** thread_set_priority: a new base priority, 1-99. */
    public void setPriority(int priority) {
        kernel.call(() -> kernel.stub().threadSetPriority(
                ThreadSetPriorityRequest.newBuilder().setTask(task).setThread(tid).setPriority(priority).build()));
    }

    /** thread_terminate: futexes the thread holds pass on with OWNER_DIED. */
    public void terminate() {
        kernel.call(() -> kernel.stub().threadTerminate(
                ThreadTerminateRequest.newBuilder().setTask(task).setThread(tid).build()));
    }

    /** vm_unlock_futex. */
    public void unlockFutex(long address) {
        if (fast != null && fast(() -> fast.tryUnlock(address))) {
            return;
        }
        kernel.call(shared, slot, CallLayout.VM_UNLOCK_FUTEX,
                VmUnlockFutexRequest.newBuilder().setTask(task).setThread(tid).setAddress(address).build(),
                VmUnlockFutexReply.parser(), q -> kernel.stub().vmUnlockFutex(q));
    }

    private VmLockFutexRequest.Builder request(long address) {
        return VmLockFutexRequest.newBuilder().setTask(task).setThread(tid).setAddress(address);
    }

    /**
     * mach_msg (docs/mach-ipc.md): sends {@code msg} with MACH_SEND_MSG and/or receives on
     * {@code rcvName} with MACH_RCV_MSG, blocking the calling Java thread while the Mach thread
     * blocks. Mach's outcome is the returned code, not an exception.
     */
    public MsgReturn machMsg(MachMessage msg, int option, int rcvSize, int rcvName, long timeoutMillis) {
        MachMsgRequest.Builder r = MachMsgRequest.newBuilder().setTask(task).setThread(tid).setOption(option)
                .setRcvSize(rcvSize).setRcvName(rcvName).setTimeoutMillis(WireDurations.machMsgMillis(timeoutMillis));
        if (msg != null) {
            r.setMsg(IpcMessages.toProto(msg));
        }
        return IpcMessages.fromProto(kernel.call(() -> kernel.ipc.machMsg(r.build())));
    }

    /**
     * mach_msg receiving again and again on {@code rcvName} (one gRPC stream): each message as it
     * comes, until a receive that is not a message (the last item, e.g. MACH_RCV_TIMED_OUT with
     * a {@code timeoutMillis} > 0, or MACH_RCV_PORT_DIED). Closing the iteration early: cancel
     * with a {@link io.grpc.Context}, or let the port die. The kernel dequeues a message only when
     * {@code hasNext} asks for it (MachMsgReceiveOnDemand): a cancel leaves the unread ones queued.
     */
    public java.util.Iterator<MsgReturn> machMsgReceive(int rcvName, int rcvSize, long timeoutMillis) {
        int option = io.machxp.kernel.ipc.Mach.MACH_RCV_MSG
                | (timeoutMillis > 0 ? io.machxp.kernel.ipc.Mach.MACH_RCV_TIMEOUT : 0);
        MachMsgRequest r = MachMsgRequest.newBuilder().setTask(task).setThread(tid).setOption(option)
                .setRcvSize(rcvSize).setRcvName(rcvName).setTimeoutMillis(WireDurations.machMsgMillis(timeoutMillis))
                .build();
        java.util.Iterator<io.machxp.proto.task.MachMsgReply> replies = kernel.call(() -> kernel.receiveOnDemand(r));
        return new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return kernel.call(replies::hasNext);
            }

            @Override
            public MsgReturn next() {
                return IpcMessages.fromProto(kernel.call(replies::next));
            }
        };
    }

    /** Inside a fast step: the fencing token of the futex just taken, read under the step's guard. */
    private boolean withToken(long[] token) {
        token[0] = fast.fencingToken();
        return true;
    }

    /**
     * A step of the fast path; false: ask the kernel. A fault of the shared memory (SIGBUS) becomes
     * a {@link MachxpException} (EIO: the step may have taken effect), and the task makes every
     * call over gRPC from then on (review F8).
     */
    private boolean fast(java.util.function.BooleanSupplier step) {
        if (!shared.usable()) {
            return false;
        }
        try {
            return step.getAsBoolean();
        } catch (InternalError fault) {
            throw shared.fault(kernel.target(), fault);
        }
    }
}
