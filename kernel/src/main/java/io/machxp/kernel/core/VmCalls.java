package io.machxp.kernel.core;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.task.Errno;
import java.util.function.BooleanSupplier;

/**
 * A task's calls at an address of its own, at the core: vm_read, vm_write, vm_msync, the word
 * atomics and the futex calls (vm_lock_futex, vm_trylock_futex, vm_unlock_futex,
 * vm_futex_consistent). {@link KernelCore}'s public methods of the same names come here. Part of
 * the kernel core: core thread only.
 *
 * <h2>Overview</h2>
 * Each call takes the same path, in one step on the core thread:
 * <pre>
 *  ARRIVED ──every lease checked when it runs; the session of the object at the address in its
 *     │      grace──▶ PARKED ({@link GraceCalls}) ──grace over──▶ ARRIVED again (a lock's timeout
 *     │                  │                                       counts from its first arrival)
 *     │                  └──a lock's timeout──▶ ETIMEDOUT
 *     ├──the task, thread or address is wrong (ESRCH, EFAULT, EINVAL), a 4-byte CAS's new value
 *     │  wider than its word (EINVAL), a futex of a lost secondary pager (EIO)──▶ FAILED
 *     └──resolved to an object and offset──▶ the part: {@link KernelMemory} (read, write,
 *        atomics), {@link PageSync} (msync), {@link KernelFutexes} (lock, unlock, consistent)
 * </pre>
 * A read, write or atomic that waits for a page acts afterwards only if its task is still there
 * ({@link #stillThere}); one from a task process on this host that maps the shared memory has the
 * page mapped to it afterwards. A futex call of a secondary pager lost here fails at once: its
 * futexes went on with OWNER_DIED there, so an unlock here must not look as if it passed one on.
 */
final class VmCalls {
    private final KernelCore core;
    private final KernelEnv env;
    private final KernelSessions sessions;
    private final KernelTasks tasks;
    private final KernelObjects objects;
    private final KernelMemory memory;
    private final PageSync sync;
    private final KernelFutexes futexes;

    VmCalls(KernelCore core, KernelMemory memory) {
        this.core = core;
        this.env = core.env;
        this.sessions = core.sessions;
        this.tasks = core.tasks;
        this.objects = core.objects;
        this.memory = memory;
        this.sync = core.sync;
        this.futexes = core.futexes;
    }

    /** See {@link KernelCore#vmRead}. */
    void read(long taskId, long address, long length, Reply<byte[]> reply) {
        core.checkThread();
        if (sessions.parkedInGrace(taskId, address, reply, () -> read(taskId, address, length, reply))) {
            return; // checks every lease: a call that waited out the lease in a paused kernel is refused
        }
        KernelObjects.Range r = objects.resolveRange(taskId, address, length, 1, "vm_read", reply);
        if (r != null) {
            memory.read(r.object(), r.offset(), (int) length, core.sharesMemory(taskId), stillThere(taskId, reply),
                    reply);
        }
    }

    /** See {@link KernelCore#vmWrite}. */
    void write(long taskId, long address, byte[] data, Reply<Void> reply) {
        core.checkThread();
        if (sessions.parkedInGrace(taskId, address, reply, () -> write(taskId, address, data, reply))) {
            return;
        }
        KernelObjects.Range r = objects.resolveRange(taskId, address, data.length, 1, "vm_write", reply);
        if (r != null) {
            memory.write(r.object(), r.offset(), data, core.sharesMemory(taskId), stillThere(taskId, reply), reply);
        }
    }

    /** See {@link KernelCore#vmMsync}. */
    void msync(long taskId, long address, long length, Reply<Integer> reply) {
        core.checkThread();
        if (sessions.parkedInGrace(taskId, address, reply, () -> msync(taskId, address, length, reply))) {
            return;
        }
        KernelObjects.Range r = objects.resolveRange(taskId, address, length, 1, "vm_msync", reply);
        if (r != null) {
            sync.msync(r.object(), r.offset(), length, reply);
        }
    }

    /** See {@link KernelCore#vmCompareAndSwap}. */
    void compareAndSwap(long taskId, long address, int width, long expected, long newValue, Reply<CasResult> reply) {
        core.checkThread();
        if (sessions.parkedInGrace(taskId, address, reply,
                () -> compareAndSwap(taskId, address, width, expected, newValue, reply))) {
            return;
        }
        if (width == 4 && (newValue >>> 32) != 0) { // stored cut to its low half, it would change the word unasked
            reply.fail(KernelError.of(Errno.EINVAL,
                    "vm_compare_and_swap of a 4-byte word with new value %s, which does not fit in 32 bits; use WORD64 "
                            + "for a 64-bit value (nothing was written)", Long.toUnsignedString(newValue)));
            return;
        }
        KernelObjects.Range r = objects.wordRange(taskId, address, width, "vm_compare_and_swap", reply);
        if (r != null) {
            memory.compareAndSwap(r.object(), r.offset(), width, expected, newValue, core.sharesMemory(taskId),
                    stillThere(taskId, reply), reply);
        }
    }

    /** See {@link KernelCore#vmFetchAdd}. */
    void fetchAdd(long taskId, long address, int width, long delta, Reply<Long> reply) {
        core.checkThread();
        if (sessions.parkedInGrace(taskId, address, reply, () -> fetchAdd(taskId, address, width, delta, reply))) {
            return;
        }
        KernelObjects.Range r = objects.wordRange(taskId, address, width, "vm_fetch_add", reply);
        if (r != null) {
            memory.fetchAdd(r.object(), r.offset(), width, delta, core.sharesMemory(taskId), stillThere(taskId, reply),
                    reply);
        }
    }

    /** vm_lock_futex and vm_trylock_futex ({@code trylock}): see {@link KernelCore#vmLockFutex}. */
    void lock(long taskId, int tid, long address, long timeoutNanos, boolean trylock, Reply<Acquired> reply,
            String call) {
        core.checkThread();
        long arrived = env.nanoTime();
        if (sessions.parkedInGrace(taskId, address, reply, () -> lock(taskId, tid, address,
                timeoutNanos < 0 ? timeoutNanos : Math.max(0, timeoutNanos - (env.nanoTime() - arrived)), trylock, reply,
                call), trylock ? -1 : timeoutNanos, () -> reply.fail(FutexLocks.timedOut(address, tid)))) {
            return; // a lock's timeout counts from when it arrived, parked or not
        }
        KernelObjects.Target t = resolve(taskId, tid, address, reply);
        if (t == null || KernelTasks.busy(t.thread(), reply)) {
            return;
        }
        if (GrantRecording.givenUp(t.thread(), reply)) { // its undo overtook it on the way to the core
            reply.fail(KernelError.of(Errno.EINTR, "thread %d's client gave up on this lock already", tid));
            return;
        }
        VmObject object = t.mapping().object();
        FutexEntry e = object.slot(t.offset()).futex(object.offsetInPage(t.offset()));
        futexes.lockRequest(t.thread(), e, address, timeoutNanos, trylock, reply, call);
    }

    /**
     * See {@link KernelCore#vmUnlockFutex}; with {@code undo} (which names the grant to undo, or
     * null if there is none) {@link KernelCore#vmUndoFutexGrant}.
     */
    void unlock(long taskId, int tid, long address,
            java.util.function.Function<MachThread, io.machxp.kernel.task.FutexGrant> undo, Reply<Void> reply) {
        core.checkThread();
        if (sessions.parkedInGrace(taskId, address, reply, () -> unlock(taskId, tid, address, undo, reply))) {
            return; // a handoff from a kernel paused past its lease, or in its grace, would be stale
        }
        KernelObjects.Target t = resolve(taskId, tid, address, reply);
        if (t == null) {
            return;
        }
        FutexEntry e = t.thread().task.residentFutex(address);
        if (undo != null) {
            futexes.undoGrant(e, tid, address, undo.apply(t.thread()), reply);
        } else {
            t.thread().grants.forget(address); // no undo may name a grant its thread unlocked
            futexes.unlock(e, tid, address, reply);
        }
    }

    /** See {@link KernelCore#vmUndoAbandonedLock}. */
    void undoAbandoned(long taskId, int tid, long address, long lockSeq, Reply<Void> reply) {
        core.checkThread();
        if (sessions.parkedInGrace(taskId, address, reply, () -> undoAbandoned(taskId, tid, address, lockSeq, reply))) {
            return; // behind the lock it names, if that one is parked too
        }
        KernelObjects.Target t = resolve(taskId, tid, address, reply);
        if (t == null) {
            return;
        }
        MachThread thread = t.thread();
        if (thread.abandonedLockSeq < lockSeq) {
            thread.abandonedLockSeq = lockSeq; // before the grant is read: the fast path reads them in the other order
        }
        io.machxp.kernel.task.FutexGrant grant = thread.grants.of(address);
        if (grant == null || !grant.madeBy(address, lockSeq)) {
            io.machxp.kernel.futex.FutexWaiter waiting = GrantRecording.givenUpWait(thread);
            if (waiting != null) {
                futexes.abandon(waiting, KernelError.of(Errno.EINTR, "thread %d's client gave up on this lock "
                        + "(abandoned_lock_seq %d) while it waited", tid, lockSeq));
                reply.complete(null);
                return;
            }
            grant = null;
        }
        futexes.undoGrant(thread.task.residentFutex(address), tid, address, grant, reply);
    }

    /** See {@link KernelCore#vmFutexConsistent}. */
    void consistent(long taskId, int tid, long address, Reply<Void> reply) {
        core.checkThread();
        if (sessions.parkedInGrace(taskId, address, reply, () -> consistent(taskId, tid, address, reply))) {
            return;
        }
        KernelObjects.Target t = resolve(taskId, tid, address, reply);
        if (t != null) {
            futexes.markConsistent(t.thread().task.residentFutex(address), tid, address, reply);
        }
    }

    /** Whether the task can still act after its call waited (else the reply failed: ESRCH, or EIO). */
    private BooleanSupplier stillThere(long taskId, Reply<?> reply) {
        return () -> tasks.connectedTask(taskId, reply) != null;
    }

    /** A futex request's thread and where its address falls; null after failing the reply. */
    private KernelObjects.Target resolve(long taskId, int tid, long address, Reply<?> reply) {
        MachThread thread = tasks.thread(taskId, tid, reply);
        KernelObjects.Target t = thread == null ? null : objects.futexTarget(thread, address, reply);
        if (t != null && core.sessions.pagerLost(t.mapping().object().objectId)) {
            // A secondary pager lost (the primary's loss fails every call before): its futexes went
            // on with OWNER_DIED there, so an unlock here must not look as if it passed one on.
            reply.fail(core.sessions.pagerError(t.mapping().object().objectId));
            return null;
        }
        return t;
    }
}
