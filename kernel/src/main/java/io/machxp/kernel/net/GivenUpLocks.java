package io.machxp.kernel.net;

import static io.machxp.kernel.net.Answers.fail;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.KernelStats;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexFastPath;
import io.machxp.kernel.task.FutexGrant;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task service's side of locks their callers gave up on (task.proto, VmLockFutex). Every
 * grant is recorded on its thread as a {@link FutexGrant}, with the call's lock_seq: the core
 * records its own (KernelCore.vmLockFutex), the fast path here. A grant that meets a cancelled
 * call, or whose lock_seq the client has already given up on (abandoned_lock_seq), is not
 * answered but undone: by a core call that names this grant, so it changes nothing if the
 * client's own undo (vm_unlock_futex abandoned_lock_seq) got there first and the thread has been
 * granted the futex again since. Until that undo runs, the thread's locks skip the fast path and
 * queue on the core behind it.
 *
 * <pre>
 *   lock(seq 7) --grant--> record FutexGrant(F, #n, 7) --cancelled?--> undo(#n) queued on the core
 *   client: abandoned_lock_seq 7 --> core: undo if the thread's grant is (F, seq 7) and it owns F
 *   undo(#n) on the core: F's recorded grant is still #n and the thread owns F? undo : EPERM (no change)
 * </pre>
 */
final class GivenUpLocks {
    private static final Logger log = LoggerFactory.getLogger(GivenUpLocks.class);
    private final ServedKernel kernel;
    private final KernelStats stats;

    GivenUpLocks(ServedKernel kernel, KernelStats stats) {
        this.kernel = kernel;
        this.stats = stats;
    }

    /** The request's lock_seq, or 0. */
    static long lockSeq(boolean has, long seq) {
        return has ? seq : 0;
    }

    /**
     * True (and the call failed with EINTR) if the client has already given up on this lock:
     * it sent abandoned_lock_seq for it, or a later one, before the lock arrived.
     */
    boolean refused(KernelCore core, long taskId, int tid, long lockSeq, StreamObserver<?> out) {
        MachThread thread = thread(core, taskId, tid);
        if (lockSeq == 0 || thread == null || lockSeq > thread.abandonedLockSeq) {
            return false;
        }
        fail(out, KernelError.of(Errno.EINTR, "thread %d's client gave up on its lock %d already", tid, lockSeq));
        return true;
    }

    /**
     * The fast path of a lock or trylock: the grant, or null if the core must decide - also for a
     * thread blocked in another call, which the core answers EBUSY (a thread makes one call at a
     * time, whether or not the futex it asks for is cached and free), and for a thread with an
     * undo of its own queued on the core (it must run first). The grant is recorded after the CAS.
     */
    FutexGrant fastLock(KernelCore core, long taskId, int tid, long address, long lockSeq, FutexEntry[] entry) {
        MachTask task = core.task(taskId);
        MachThread thread = task == null ? null : task.thread(tid);
        if (thread == null || thread.blockedIn != null || thread.undosPending.get() > 0) {
            return null;
        }
        FutexEntry e = FutexFastPath.tryLock(task, tid, address, stats, core.leaseGate());
        if (e == null) {
            return null;
        }
        entry[0] = e;
        FutexGrant grant = FutexGrant.next(address, lockSeq);
        thread.grants.record(grant);
        return grant;
    }

    /**
     * The grant of the futex at {@code address} the core just made to {@code tid} (read on the
     * core, in the grant's own turn; a grant of another futex meanwhile, by the fast path, is
     * recorded beside it, not over it).
     */
    static FutexGrant justGranted(KernelCore core, long taskId, int tid, long address) {
        MachThread thread = thread(core, taskId, tid);
        return thread == null ? null : thread.grants.of(address);
    }

    /**
     * Answers a lock that got the futex by {@code grant}. A caller that has gone away (its call
     * cancelled, also at the moment of the grant, before the cancel handler could run), or whose
     * client gave up on this lock_seq already, never learns it owns the futex, so nobody may own it
     * on its behalf: this grant is undone - unlocked as that thread, or, for a grant with
     * owner_died, passed on as a death (KernelCore.vmUndoFutexGrant) - and nothing else. (A
     * caller that cancels after the answer left may still miss it: task.proto tells clients to
     * send vm_unlock_futex with abandoned_lock_seq after a lock they gave up on, and the client
     * library does over gRPC; through the call file exactly one of the cancel and the answer wins.)
     */
    <T> void grant(StreamObserver<T> out, T answer, KernelCore core, long taskId, int tid, long address,
            FutexGrant grant) {
        MachThread thread = thread(core, taskId, tid);
        // read after the grant was recorded: a client undo on the core sets abandonedLockSeq first
        boolean abandoned = grant != null && grant.lockSeq() != 0 && thread != null
                && grant.lockSeq() <= thread.abandonedLockSeq;
        if (abandoned) {
            fail(out, KernelError.of(Errno.EINTR, "thread %d's client gave up on its lock %d", tid, grant.lockSeq()));
        } else if (!((ServerCallStreamObserver<T>) out).isCancelled() && answered(out, answer)) {
            return;
        }
        if (grant == null || thread == null) {
            return; // the thread ended as it was granted: its death passes the futex on
        }
        thread.undosPending.incrementAndGet();
        Reply<Void> done = new Reply<>() {
            @Override
            public void complete(Void value) {
                thread.undosPending.decrementAndGet();
                log.debug("kernel {}: thread {} gave up its lock of 0x{} as it was granted; undone",
                        kernel.name(), tid, Long.toHexString(address));
            }

            @Override
            public void fail(KernelError error) {
                thread.undosPending.decrementAndGet();
                log.debug("kernel {}: the lock thread {} gave up was not undone here: {}", kernel.name(), tid,
                        error.message());
            }
        };
        if (!kernel.executeUnlessClosing(() -> core.vmUndoFutexGrant(taskId, tid, address, grant, done))) {
            thread.undosPending.decrementAndGet(); // the kernel is shutting down: its threads go with it
        }
    }

    private static MachThread thread(KernelCore core, long taskId, int tid) {
        MachTask task = core.task(taskId);
        return task == null ? null : task.thread(tid);
    }

    /** Answers a call; false if the caller has gone away (cancelled or closed meanwhile). */
    private static <T> boolean answered(StreamObserver<T> out, T value) {
        try {
            out.onNext(value);
            out.onCompleted();
            return true;
        } catch (RuntimeException callGone) {
            return false;
        }
    }
}
