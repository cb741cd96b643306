package io.machxp.kernel.core;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.LeaseGate;
import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.sched.Priority;
import io.machxp.kernel.sched.Scheduler;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.kernel.vm.VmObject;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel as a single-threaded state machine: tasks, threads, mappings, the page cache and the
 * futex cache, speaking XP to its pagers (one, or several: each object is served by one). No I/O,
 * clock or thread inside: inputs are method calls (a task request, an XP message, a timer firing) made on one thread, the core thread; outputs go
 * through {@link KernelEnv} (XP messages, timers) and {@link Reply} (answers to tasks).
 *
 * <h2>Overview</h2>
 * This class builds the parts and is the tasks' side of the facade: the Mach calls of tasks and
 * threads (task_create ... task_terminate, vm_map, vm_read, vm_write, vm_msync, the atomics, the
 * futex calls), each checked to come on the core thread and passed to the part that owns it. The
 * other sides: {@link KernelXp} ({@link #xp()}: the runtime's - session start and clean end,
 * pager messages, stream events), {@link KernelIpc} ({@link #ipc()}: Mach IPC, over
 * {@link IpcCore}) and {@link KernelInspection} ({@link #inspect()}: what tools and tests read).
 * The parts, each with its own overview:
 * <ul>
 *   <li>{@link VmCalls}: a task's vm_* calls at an address - leases checked, parked in a grace,
 *       task, thread and address resolved, then passed on;
 *   <li>{@link KernelSessions}: one {@link KernelSession} per pager (hello, welcome, lease,
 *       reclaim, rejoin, clean end), which serves each object, and the lease gate;
 *   <li>{@link KernelTasks}: tasks and threads under the kernel's {@link Scheduler}; its part
 *       {@link ThreadCalls}: thread_compute, thread_sleep and the cancel of a blocked call;
 *   <li>{@link KernelObjects}: memory objects - vm_map, memory_object_init, where an address falls;
 *   <li>{@link XpDispatch}: each pager message checked and passed on;
 *   <li>{@link PageCache}, {@link KernelMemory}, {@link RetainedReturns}: pages, their access and
 *       contents, dirty pages kept for a reclaim;
 *   <li>{@link KernelFutexes}: the futex state machine (Parts II-IV of the seed mail, priority
 *       inheritance, robust futexes).
 * </ul>
 * Pages are held with the access the pager allows and faulted in with the access a call needs; a
 * futex held here is changed only with its page writable, a futex not held here is asked for
 * first and usually comes with its page ({@link KernelFutexes} and {@link PageCache} say how; Part
 * II, {@code cacheFutexes == false}, faults the page in first and releases every futex at unlock).
 *
 * <p>A pager message that breaks the protocol is a violation: logged and otherwise ignored, so
 * that the kernel's state never depends on its pager behaving ({@link XpDispatch} lists them).
 *
 * <p>Fairness: local waiters are served by priority (arrival order among equals, and with
 * --no-pi), the pager grants the same way and relinquishes a granted futex at once if another
 * kernel waits, and a kernel always lets one local waiter have a futex it was granted before
 * giving it back, so nobody of the top priority starves.
 */
public final class KernelCore {
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);
    /** Live tasks at once: a bound on what clients can make a kernel keep (threads are bounded by TIDs). */
    static final int MAX_TASKS = 1 << 16;

    private final String name;
    private final boolean cacheFutexes;
    final KernelPlants plants;
    final RetainedReturns returns;
    final PageCache pages;
    final PageSync sync;
    final KernelSessions sessions;
    final PagerDirectory directory; // which pager serves each object
    /** The objects a pager's welcome said are in dispute: mapped at no pager (xp-spec 2.8). */
    final DirectoryDisputes disputes;
    final KernelEnv env; // the world: effects such as file I/O go through it
    /**
     * This boot's boot_nonce, in every reclaim it sends (xp-spec 9.4, Again): random, never 0; a
     * pager takes a reclaim again only from the same boot, and only a newer attempt.
     */
    final long bootNonce = KernelCore.drawBootNonce();
    /** The reclaims this boot has sent, to any pager: each reclaim's attempt is one more. */
    long reclaimAttempts;
    final KernelTasks tasks;
    private final ThreadCalls threadCalls;
    final KernelObjects objects;
    final KernelFutexes futexes;
    private final VmCalls vm;
    final IpcCore ipcCore;
    private final KernelIpc ipc;
    private final KernelXp xp;
    private final KernelInspection inspection;
    private Thread coreThread;

    /**
     * @param cacheFutexes Part III/IV (true): keep futexes after unlock until the pager asks;
     *     Part II only (false): every lock and unlock goes to the pager.
     */
    private static final java.security.SecureRandom NONCES = new java.security.SecureRandom();

    private static long drawBootNonce() {
        long n;
        do {
            n = NONCES.nextLong();
        } while (n == 0);
        return n;
    }

    public KernelCore(String name, KernelEnv env, KernelStats stats, boolean cacheFutexes) {
        this(name, env, stats, CoreOptions.DEFAULT.withCacheFutexes(cacheFutexes));
    }

    public KernelCore(String name, KernelEnv env, KernelStats stats, CoreOptions options) {
        this.name = name;
        this.cacheFutexes = options.cacheFutexes();
        this.plants = options.plants();
        this.env = env;
        this.directory = options.pagers();
        this.disputes = new DirectoryDisputes(name);
        this.sessions = new KernelSessions(this, name, env, stats, directory.count());
        this.returns = new RetainedReturns(directory.count(), id -> sessions.forObject(id).pager);
        PageCache.Link pageLink = new CoreLink(this);
        this.pages = new PageCache(pageLink, returns, options.maxResidentPages());
        this.sync = new PageSync(pages, pageLink);
        KernelMemory memory = new KernelMemory(pages);
        Scheduler scheduler = new Scheduler(options.cpus(), env);
        this.tasks = new KernelTasks(this, name, env, scheduler);
        this.threadCalls = new ThreadCalls(this, env, scheduler);
        this.objects = new KernelObjects(this);
        this.futexes = new KernelFutexes(this, env, stats, pages, scheduler, options.futexPolicy(),
                options.priorityInheritance());
        this.xp = new KernelXp(this, new XpDispatch(this, stats));
        this.vm = new VmCalls(this, memory);
        this.ipcCore = new IpcCore((delay, action) -> env.schedule(delay, action)::cancel);
        this.ipc = new KernelIpc(this, ipcCore);
        this.inspection = new KernelInspection(this);
        ipcCore.plant(options.plants().ipc());
        if (options.priorityInheritance()) {
            ipcCore.attachSched(new IpcDonations(this));
        }
    }

    /** The runtime's side: opening and ending the sessions, pager messages, stream events (core thread). */
    public KernelXp xp() {
        return xp;
    }

    /** What tools, metrics and tests read of this kernel: threads, pages, objects, futexes. */
    public KernelInspection inspect() {
        return inspection;
    }

    /** Mach IPC: mach_port_* and mach_msg for tasks of this kernel (core thread). */
    public KernelIpc ipc() {
        return ipc;
    }

    /** The IPC core itself, to join it to other kernels' ({@link IpcCore#attachNet}); core thread only. */
    public IpcCore ipcCore() {
        return ipcCore;
    }

    public String name() {
        return name;
    }

    private volatile io.machxp.kernel.shm.SharedMemory sharedMemory;

    /**
     * Before the session opens: futex states of the objects mapped from now on live in
     * {@code memory}, shared with task processes on this host, and it follows the lease.
     */
    public void shareMemory(io.machxp.kernel.shm.SharedMemory memory) {
        sharedMemory = memory;
        sessions.gates.gate().mirrorTo(end -> {
            memory.leaseUntil(end);
            memory.restoreFutexBits(); // each renewal (the core thread): what task processes forged in the tables
            memory.punchDue(); // and the page slots due whose accesses drained since (an object gone quiet too)
        });
    }

    /** Whether task {@code taskId} runs in a process on this host that maps the shared memory. */
    boolean sharesMemory(long taskId) {
        io.machxp.kernel.shm.SharedMemory m = sharedMemory;
        return m != null && m.attached(taskId);
    }

    /** The memory this session shares with task processes, or null. Any thread. */
    public io.machxp.kernel.shm.SharedMemory sharedMemory() {
        return sharedMemory;
    }

    /** What the futex fast path reads of the lease (of every pager's); any thread. */
    public LeaseGate leaseGate() {
        return sessions.gates.gate();
    }

    /** The kernel id its primary pager gave it (its TIDs'); 0 until pager_welcome arrived. */
    public int kernelId() {
        return sessions.primary().kernelId();
    }

    /**
     * The longest lease its pagers welcomed it with, in ms (0: none, or before the welcome): its IPC
     * links' lease is made longer than this, so that a pause its pagers forgive does not end its IPC.
     */
    public long pagerLeaseMillis() {
        return sessions.longestLeaseMillis();
    }

    /** The page size of its primary pager; 0 until pager_welcome arrived. */
    public int pageSize() {
        return sessions.primary().pageSize();
    }

    public boolean cachesFutexes() {
        return cacheFutexes;
    }

    /** Any thread: the task with this id, or null. */
    public MachTask task(long id) {
        return tasks.task(id);
    }

    // ---- tasks and threads --------------------------------------------------------------------

    public void taskCreate(String taskName, Reply<MachTask> reply) {
        checkThread();
        tasks.taskCreate(taskName, reply);
    }

    /**
     * task_create for a client: {@code owner} identifies it (a gRPC connection), and its tasks'
     * port names together count in that client's part of the kernel's budget.
     */
    public void taskCreate(String taskName, Object owner, Reply<MachTask> reply) {
        checkThread();
        tasks.taskCreate(taskName, owner, reply);
    }

    /**
     * Sets the kernel's bounds of live tasks, live threads and mappings of all tasks together
     * (default {@link #MAX_TASKS}, the thread numbers, {@link ClientShares#MAX_MAPPINGS}); clients'
     * peers share 7/8 of each ({@link ClientShares}). Tests use small ones; a thread bound above
     * the thread numbers has no effect beyond them.
     */
    public void limitClientShares(int tasks, int threads, int mappings) {
        checkThread();
        this.tasks.shares.tasks.limit(tasks);
        this.tasks.shares.threads.limit(threads);
        this.tasks.shares.mappings.limit(mappings);
    }

    public void threadCreate(long taskId, Reply<MachThread> reply) {
        threadCreate(taskId, Priority.DEFAULT, reply);
    }

    /** thread_create with a base priority (1-99). */
    public void threadCreate(long taskId, int priority, Reply<MachThread> reply) {
        checkThread();
        tasks.threadCreate(taskId, priority, reply);
    }

    /** thread_compute: the thread uses {@code nanos} of CPU under the priority scheduler. */
    public void threadCompute(long taskId, int tid, long nanos, Reply<Void> reply) {
        checkThread();
        threadCalls.threadCompute(taskId, tid, nanos, reply);
    }

    /** thread_sleep: the thread blocks for {@code nanos} without a CPU. */
    public void threadSleep(long taskId, int tid, long nanos, Reply<Void> reply) {
        checkThread();
        threadCalls.threadSleep(taskId, tid, nanos, reply);
    }

    /** thread_set_priority: a new base priority; boosts it inherits stay. */
    public void threadSetPriority(long taskId, int tid, int priority, Reply<Void> reply) {
        checkThread();
        tasks.threadSetPriority(taskId, tid, priority, reply);
    }

    /** thread_terminate: the thread ends; futexes it holds pass on with OWNER_DIED. */
    public void threadTerminate(long taskId, int tid, Reply<Void> reply) {
        checkThread();
        tasks.threadTerminate(taskId, tid, reply);
    }

    /** task_terminate: every thread of the task ends as with thread_terminate; then the task. */
    public void taskTerminate(long taskId, String why, Reply<Void> reply) {
        checkThread();
        tasks.taskTerminate(taskId, why, reply);
    }

    // ---- memory: vm_map, vm_read, vm_write, atomics ---------------------------------------------

    public void vmMap(long taskId, String objectName, Reply<VmMapping> reply) {
        checkThread();
        objects.vmMap(taskId, objectName, reply);
    }

    /**
     * The vm_map of task {@code taskId} answered by {@code reply}, if it still waits for its
     * object, fails with {@code why} and gives back the place it held; false if none waits.
     */
    public boolean vmMapWithdraw(long taskId, Reply<?> reply, KernelError why) {
        checkThread();
        MachTask task = tasks.task(taskId);
        return task != null && objects.vmMapWithdraw(task, reply, why);
    }

    /**
     * Undoes mapping {@code m} of task {@code taskId}, made by a vm_map whose caller never heard of
     * it: gone from the address space, and given back to its object, its task and its peer; false
     * if the task no longer has it.
     */
    public boolean vmUnmap(long taskId, VmMapping m) {
        checkThread();
        MachTask task = tasks.task(taskId);
        return task != null && objects.vmUnmap(task, m);
    }

    /**
     * vm_read: {@code length} bytes at {@code address} of the task, as every kernel sees them
     * ({@code length} as the caller sent it, refused outside 1 byte to 1 MiB). This call and the
     * other vm_* calls at an address take the path {@link VmCalls} describes.
     */
    public void vmRead(long taskId, long address, long length, Reply<byte[]> reply) {
        vm.read(taskId, address, length, reply);
    }

    /** vm_write: {@code data} at {@code address} of the task. */
    public void vmWrite(long taskId, long address, byte[] data, Reply<Void> reply) {
        vm.write(taskId, address, data, reply);
    }

    /** vm_msync: the range's dirty pages go back to the pager, then synchronize (XP spec 6.9); answers how many. */
    public void vmMsync(long taskId, long address, long length, Reply<Integer> reply) {
        vm.msync(taskId, address, length, reply);
    }

    /**
     * vm_compare_and_swap on the aligned word of {@code width} (4 or 8) bytes at {@code address}; a
     * new value wider than a 4-byte word is EINVAL.
     */
    public void vmCompareAndSwap(long taskId, long address, int width, long expected, long newValue,
            Reply<CasResult> reply) {
        vm.compareAndSwap(taskId, address, width, expected, newValue, reply);
    }

    /** vm_fetch_add on the aligned word of {@code width} (4 or 8) bytes at {@code address}. */
    public void vmFetchAdd(long taskId, long address, int width, long delta, Reply<Long> reply) {
        vm.fetchAdd(taskId, address, width, delta, reply);
    }

    // ---- futexes: requests from tasks (the state machine is in KernelFutexes) -------------------

    /**
     * vm_lock_futex: lock the futex at {@code address} for thread {@code tid}, waiting at most
     * {@code timeoutNanos} (negative: no limit). Answers how it was acquired, and whether its
     * previous owner died (EOWNERDEAD).
     */
    public void vmLockFutex(long taskId, int tid, long address, long timeoutNanos, Reply<Acquired> reply) {
        vmLockFutex(taskId, tid, address, timeoutNanos, 0, reply);
    }

    /**
     * vm_lock_futex with the client's {@code lockSeq} (task.proto lock_seq; 0: none): a grant is
     * recorded on the thread as made by that call ({@link io.machxp.kernel.task.FutexGrant}).
     */
    public void vmLockFutex(long taskId, int tid, long address, long timeoutNanos, long lockSeq, Reply<Acquired> reply) {
        vm.lock(taskId, tid, address, timeoutNanos, false,
                GrantRecording.recording(tasks, tid, address, lockSeq, reply), "vm_lock_futex");
    }

    /** vm_trylock_futex: like vm_lock_futex, but answers null instead of waiting for an owner. */
    public void vmTrylockFutex(long taskId, int tid, long address, Reply<Acquired> reply) {
        vmTrylockFutex(taskId, tid, address, 0, reply);
    }

    /** vm_trylock_futex with the client's {@code lockSeq}, as {@link #vmLockFutex(long, int, long, long, long, Reply)}. */
    public void vmTrylockFutex(long taskId, int tid, long address, long lockSeq, Reply<Acquired> reply) {
        vm.lock(taskId, tid, address, -1, true,
                GrantRecording.recording(tasks, tid, address, lockSeq, reply), "vm_trylock_futex");
    }

    /** vm_unlock_futex by thread {@code tid}. */
    public void vmUnlockFutex(long taskId, int tid, long address, Reply<Void> reply) {
        vm.unlock(taskId, tid, address, null, reply);
    }

    /**
     * Undoes {@code grant}, a grant of the futex at {@code address} to thread {@code tid} whose
     * caller gave up (its call was cancelled as it came): unlocked, or, if the grant said
     * owner_died (nobody heard EOWNERDEAD), passed on with OWNER_DIED as a death passes it on.
     * Only while the thread still owns the futex by that grant: otherwise (it was undone already,
     * or unlocked, and maybe granted again) EPERM and nothing changes.
     */
    public void vmUndoFutexGrant(long taskId, int tid, long address, io.machxp.kernel.task.FutexGrant grant,
            Reply<Void> reply) {
        vm.unlock(taskId, tid, address, thread -> grant, reply);
    }

    /**
     * vm_unlock_futex with abandoned_lock_seq: the client gave up on its lock (or trylock) of
     * {@code address} with {@code lockSeq} without an answer. Undoes that lock's grant as
     * {@link #vmUndoFutexGrant} if the thread still owns the futex by it. If the lock still waits
     * instead (this undo overtook it, or its cancel never came), the wait is withdrawn as at a
     * cancel (the lock answers EINTR) and the undo answers OK: nothing is held on its behalf, and
     * the thread is free for its next call. EPERM otherwise, changing nothing (the lock never got
     * it, or it was undone, or the futex was held before it). From now on a lock of the thread with
     * this lock_seq or a lower one is refused, withdrawn while it waits, or undone as it is granted.
     */
    public void vmUndoAbandonedLock(long taskId, int tid, long address, long lockSeq, Reply<Void> reply) {
        vm.undoAbandoned(taskId, tid, address, lockSeq, reply);
    }

    /** vm_futex_consistent: the owner that got the futex with EOWNERDEAD repaired it. */
    public void vmFutexConsistent(long taskId, int tid, long address, Reply<Void> reply) {
        vm.consistent(taskId, tid, address, reply);
    }

    /**
     * The caller of a blocked call went away (the call answered by {@code call} was cancelled):
     * a futex wait stops as on a timeout. A thread that already got the futex keeps it, and a
     * later call of the same thread is not touched.
     */
    public void abortWait(long taskId, int tid, Reply<?> call) {
        checkThread();
        sessions.parked.cancel(call); // a call parked in a grace is not run again
        threadCalls.abortWait(taskId, tid, call);
    }

    // ---- for the parts ------------------------------------------------------------------------

    /** Every futex this kernel caches, but those of objects retired with a lost session. */
    void forEachFutex(Consumer<FutexEntry> action) {
        for (VmObject o : objects.all()) {
            if (sessions.lost.retired(o)) {
                continue; // forgotten with its lost session
            }
            o.forEachPage(page -> page.forEachFutex(action));
        }
    }

    void violation(String what, int objectId, long offset) {
        log.warn("kernel {}: protocol violation from the pager: {} (object {}, offset 0x{}); ignored",
                name, what, objectId, Long.toHexString(offset));
    }

    void checkThread() {
        assert coreThread == null || coreThread == Thread.currentThread()
                : "kernel core entered from " + Thread.currentThread() + ", its thread is " + coreThread;
        if (coreThread == null) {
            coreThread = Thread.currentThread();
        }
    }
}
