package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.FREE;
import static io.machxp.kernel.futex.FutexWord.WAITERS;
import static io.machxp.kernel.futex.FutexWord.hasWaiters;
import static io.machxp.kernel.futex.FutexWord.NOPAGE;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.Tids;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel as a single-threaded state machine: tasks, threads, mappings, the page cache and the
 * futex cache, speaking XP to one pager. No I/O, clock or thread inside: inputs are method calls
 * (a task request, an XP message, a timer firing) made on one thread, the core thread; outputs go
 * through {@link KernelEnv} (XP messages, timers) and {@link Reply} (answers to tasks).
 *
 * <h2>Overview</h2>
 * Session: {@code start} sends kernel_hello; pager_welcome gives the kernel id (TIDs) and page
 * size. Objects: vm_map of a new object sends memory_object_init and waits for ready/destroy.
 * Pages: {@link PageCache} holds them with the access the pager allows (read-only or writable)
 * and obeys memory_object_lock_request; vm_read / vm_write and the atomics ({@link KernelMemory})
 * fault pages in with the access they need. A futex call pages its page in writable first
 * (memory_object_data_request), except with piggyback, where a futex the kernel does not hold is
 * asked for first and its page usually comes with the grant.
 *
 * <p>Futexes (Parts II-IV of the seed mail; the states are in {@link FutexEntry}):
 * <pre>
 *  vm_lock_futex    FREE             -> TID                      (fast path, or here after a race)
 *                   held by another  -> enqueue, set WAITERS
 *                   ABSENT           -> enqueue; lock_futex to the pager unless one is out
 *  futex_granted    ABSENT           -> first waiter's TID (PAGER_GRANT), or FREE if none waits
 *  vm_unlock_futex  TID              -> FREE                     (fast path)
 *                   TID|WAITERS      -> relinquish pending or Part II: released to the pager,
 *                                       re-asked for if local waiters remain
 *                                    -> else next local waiter (LOCAL_HANDOFF) or FREE
 *  relinquish       FREE             -> ABSENT, futex_released at once
 *                   held             -> relinquish pending, WAITERS set: released on unlock,
 *                                       not handed to a local waiter (Part IV)
 * </pre>
 * With {@code cacheFutexes == false} (Part II only) a futex is never kept FREE: each unlock
 * releases it to the pager, so every lock and unlock costs messages.
 *
 * <p>Every change of a futex word made here needs the page writable: a futex this kernel holds
 * whose page is elsewhere is NOPAGE, and a lock, unlock or grant on it first faults the page in
 * (see {@link PageCache} for how the word moves between the futex state and the page).
 *
 * <p>Fairness: local waiters are served in arrival order; the pager grants in arrival order and
 * relinquishes a granted futex at once if another kernel waits, and a kernel always lets one
 * local waiter have a futex it was granted before giving it back, so nobody starves.
 */
public final class KernelCore {
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);
    private static final int PROTOCOL_VERSION = 1;
    private static final int MAX_OBJECT_NAME = 255;

    private final String name;
    private final KernelEnv env;
    private final KernelStats stats;
    private final boolean cacheFutexes;
    private final boolean piggyback;
    private final PageCache pages;
    private final KernelMemory memory;
    /** Read by the fast path from any thread; written here. */
    private final Map<Long, MachTask> tasks = new ConcurrentHashMap<>();
    private final Map<String, VmObject> objectsByName = new HashMap<>();
    private final Map<Integer, VmObject> objectsById = new HashMap<>();
    private int kernelId;
    private int pageSize;
    private long nextTaskId = 1;
    private int nextThreadNumber = 1;
    private int nextObjectId = 1;
    private String pagerLost;
    private Thread coreThread;

    /**
     * @param cacheFutexes Part III/IV (true): keep futexes after unlock until the pager asks;
     *     Part II only (false): every lock and unlock goes to the pager.
     */
    public KernelCore(String name, KernelEnv env, KernelStats stats, boolean cacheFutexes) {
        this(name, env, stats, cacheFutexes, false, 0);
    }

    /**
     * @param piggyback entry consistency: a futex release carries the pages dirtied under the futex
     * @param maxResidentPages evict pages beyond this many; 0 = no limit
     */
    public KernelCore(String name, KernelEnv env, KernelStats stats, boolean cacheFutexes, boolean piggyback,
            int maxResidentPages) {
        this.name = name;
        this.env = env;
        this.stats = stats;
        this.cacheFutexes = cacheFutexes;
        this.piggyback = piggyback;
        this.pages = new PageCache(new PageCache.Link() {
            @Override
            public void send(KernelToPager message) {
                KernelCore.this.send(message);
            }

            @Override
            public KernelError pagerError() {
                return pagerLost == null ? null : KernelCore.this.pagerError();
            }

            @Override
            public void violation(String what, int objectId, long offset) {
                KernelCore.this.violation(what, objectId, offset);
            }
        }, maxResidentPages);
        this.memory = new KernelMemory(pages);
    }

    public String name() {
        return name;
    }

    /** 0 until pager_welcome arrived. */
    public int kernelId() {
        return kernelId;
    }

    public int pageSize() {
        return pageSize;
    }

    public boolean cachesFutexes() {
        return cacheFutexes;
    }

    /** Any thread: the task with this id, or null. */
    public MachTask task(long id) {
        return tasks.get(id);
    }

    // ---- session ------------------------------------------------------------------------------

    /** Opens the XP session: kernel_hello. */
    public void start() {
        checkThread();
        send(KernelToPager.newBuilder().setKernelHello(
                KernelHello.newBuilder().setKernelName(name).setProtocolVersion(PROTOCOL_VERSION)).build());
    }

    /**
     * The stream to the pager is gone. Everything waiting for the pager fails with EIO, cached
     * futexes stop being handed out (the pager counts them as released), and so does every later
     * request that needs the pager.
     */
    public void onPagerLost(String reason) {
        checkThread();
        if (pagerLost != null) {
            return;
        }
        log.warn("kernel {}: lost its pager: {}", name, reason);
        stopUsingPager(reason);
    }

    private void stopUsingPager(String reason) {
        pagerLost = reason;
        KernelError error = pagerError();
        for (VmObject o : objectsById.values()) {
            failAll(o.pendingMaps, error);
            o.forEachPage(page -> {
                pages.failWaiting(page, error);
                page.forEachFutex(e -> forgetFutex(e, error));
            });
        }
    }

    /**
     * The kernel is shutting down: dirty pages go back to the pager and every object is
     * terminated (memory_object_terminate), which releases every futex it held.
     */
    public void shutdown() {
        checkThread();
        if (pagerLost != null || kernelId == 0) {
            return;
        }
        for (VmObject o : objectsById.values()) {
            if (o.state == VmObject.State.READY) {
                pages.returnAll(o);
                send(KernelToPager.newBuilder().setMemoryObjectTerminate(
                        MemoryObjectTerminate.newBuilder().setObjectId(o.objectId)).build());
            }
        }
        log.info("kernel {}: returned its pages and terminated its objects", name);
        stopUsingPager("the kernel is shutting down");
    }

    private void forgetFutex(FutexEntry e, KernelError error) {
        for (FutexWaiter w; (w = e.waiters.poll()) != null; ) {
            w.fail(error);
        }
        e.request = FutexEntry.Request.NONE;
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return;
            }
            if (s == FREE) {
                if (e.compareAndSetState(FREE, ABSENT)) {
                    return;
                }
                continue;
            }
            if (owner(s) == 0) { // FREE | NOPAGE: the fast path cannot act on it
                e.setState(ABSENT);
                return;
            }
            // Held: the owner's unlock must come here, where it finds the futex gone.
            e.relinquishPending = true;
            if (hasWaiters(s) || e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                return;
            }
        }
    }

    // ---- tasks and threads --------------------------------------------------------------------

    public void taskCreate(String taskName, Reply<MachTask> reply) {
        checkThread();
        if (!connected(reply)) {
            return;
        }
        MachTask task = new MachTask(nextTaskId++, taskName);
        tasks.put(task.id, task);
        reply.complete(task);
    }

    public void threadCreate(long taskId, Reply<MachThread> reply) {
        checkThread();
        MachTask task = connectedTask(taskId, reply);
        if (task == null) {
            return;
        }
        if (nextThreadNumber > Tids.MAX_THREAD_NUMBER) {
            reply.fail(KernelError.of(Errno.EAGAIN, "kernel %s has used all %d thread ids; start another kernel",
                    name, Tids.MAX_THREAD_NUMBER));
            return;
        }
        MachThread thread = new MachThread(Tids.tid(kernelId, nextThreadNumber++), task);
        task.addThread(thread);
        reply.complete(thread);
    }

    // ---- vm_map -------------------------------------------------------------------------------

    public void vmMap(long taskId, String objectName, Reply<VmMapping> reply) {
        checkThread();
        MachTask task = connectedTask(taskId, reply);
        if (task == null) {
            return;
        }
        if (objectName == null || objectName.isEmpty() || objectName.length() > MAX_OBJECT_NAME
                || !objectName.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "memory object name '%s' is not valid: use 1 to %d printable characters without spaces",
                    objectName, MAX_OBJECT_NAME));
            return;
        }
        VmObject o = objectsByName.get(objectName);
        if (o == null) {
            o = new VmObject(nextObjectId++, objectName, pageSize);
            objectsByName.put(objectName, o);
            objectsById.put(o.objectId, o);
            send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                    .setObjectId(o.objectId).setName(objectName).setPageSize(pageSize)).build());
        }
        VmObject object = o;
        PageFault map = new PageFault() {
            @Override
            public void resume() {
                VmMapping m = new VmMapping(task.nextFreeAddress(pageSize), object.size, object);
                task.addMapping(m);
                reply.complete(m);
            }

            @Override
            public void fail(KernelError error) {
                reply.fail(error);
            }
        };
        if (o.state == VmObject.State.READY) {
            map.resume();
        } else {
            o.pendingMaps.add(map);
        }
    }

    // ---- memory: vm_read, vm_write, atomics -----------------------------------------------------

    /** vm_read: {@code length} bytes at {@code address} of the task, as every kernel sees them. */
    public void vmRead(long taskId, long address, int length, Reply<byte[]> reply) {
        checkThread();
        Range r = resolveRange(taskId, address, length, 1, "vm_read", reply);
        if (r != null) {
            memory.read(r.object(), r.offset(), length, reply);
        }
    }

    /** vm_write: {@code data} at {@code address} of the task. */
    public void vmWrite(long taskId, long address, byte[] data, Reply<Void> reply) {
        checkThread();
        Range r = resolveRange(taskId, address, data.length, 1, "vm_write", reply);
        if (r != null) {
            memory.write(r.object(), r.offset(), data, reply);
        }
    }

    /** vm_compare_and_swap on the aligned word of {@code width} (4 or 8) bytes at {@code address}. */
    public void vmCompareAndSwap(long taskId, long address, int width, long expected, long newValue,
            Reply<CasResult> reply) {
        checkThread();
        Range r = resolveRange(taskId, address, width, width, "vm_compare_and_swap", reply);
        if (r != null) {
            memory.compareAndSwap(r.object(), r.offset(), width, expected, newValue, reply);
        }
    }

    /** vm_fetch_add on the aligned word of {@code width} (4 or 8) bytes at {@code address}. */
    public void vmFetchAdd(long taskId, long address, int width, long delta, Reply<Long> reply) {
        checkThread();
        Range r = resolveRange(taskId, address, width, width, "vm_fetch_add", reply);
        if (r != null) {
            memory.fetchAdd(r.object(), r.offset(), width, delta, reply);
        }
    }

    private record Range(VmObject object, long offset) {}

    private Range resolveRange(long taskId, long address, long length, int align, String call, Reply<?> reply) {
        MachTask task = connectedTask(taskId, reply);
        if (task == null) {
            return null;
        }
        if (length < 1 || length > KernelMemory.MAX_TRANSFER) {
            reply.fail(KernelError.of(Errno.EINVAL, "%s of %d bytes: a call moves 1 to %d bytes",
                    call, length, KernelMemory.MAX_TRANSFER));
            return null;
        }
        if (address % align != 0) {
            reply.fail(KernelError.of(Errno.EINVAL, "address 0x%x is not %d-byte aligned, as %s of a %d-byte word needs",
                    address, align, call, align));
            return null;
        }
        VmMapping m = mappingAt(task, address, reply);
        if (m == null) {
            return null;
        }
        if (length > m.end() - address) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "%s of %d bytes at 0x%x runs past the end of '%s' (mapped at 0x%x, 0x%x bytes)",
                    call, length, address, m.object().name, m.start(), m.size()));
            return null;
        }
        return new Range(m.object(), address - m.start());
    }

    // ---- futexes: requests from tasks ---------------------------------------------------------

    /**
     * vm_lock_futex: lock the futex at {@code address} for thread {@code tid}, waiting at most
     * {@code timeoutNanos} (negative: no limit). Answers the path that acquired it.
     */
    public void vmLockFutex(long taskId, int tid, long address, long timeoutNanos, Reply<AcquirePath> reply) {
        lockRequest(taskId, tid, address, timeoutNanos, false, reply, "vm_lock_futex");
    }

    /** vm_trylock_futex: like vm_lock_futex, but answers null instead of waiting for an owner. */
    public void vmTrylockFutex(long taskId, int tid, long address, Reply<AcquirePath> reply) {
        lockRequest(taskId, tid, address, -1, true, reply, "vm_trylock_futex");
    }

    private void lockRequest(long taskId, int tid, long address, long timeoutNanos, boolean trylock,
            Reply<AcquirePath> reply, String call) {
        checkThread();
        Target t = resolve(taskId, tid, address, reply);
        if (t == null) {
            return;
        }
        if (t.thread.blockedIn != null) {
            reply.fail(KernelError.of(Errno.EBUSY, "thread %d is still blocked in %s; a thread makes one call at a time",
                    tid, t.thread.blockedIn));
            return;
        }
        FutexWaiter w = new FutexWaiter(t.thread, trylock, reply);
        t.thread.blockedIn = call;
        t.thread.waiter = w;
        if (timeoutNanos >= 0) {
            w.timeout = env.schedule(timeoutNanos, () -> abandon(w, KernelError.of(Errno.ETIMEDOUT,
                    "the futex at 0x%x was not acquired by thread %d before its timeout", address, tid)));
        }
        VmObject object = t.mapping.object();
        FutexEntry e = object.slot(t.offset).futex(object.offsetInPage(t.offset));
        if (piggyback && isAbsent(e.state())) {
            lock(w, e); // ask for the futex first: its page usually comes with the grant
        } else {
            lockWithPage(w, e);
        }
    }

    /** Runs {@code lock} once the futex's page is writable here (Part III: page-in first). */
    private void lockWithPage(FutexWaiter w, FutexEntry e) {
        pages.withAccess(objectsById.get(e.objectId()), e.offset(), Access.READ_WRITE, PageFault.of(() -> {
            if (!w.done()) {
                lock(w, e);
            }
        }, w::fail));
    }

    private void lock(FutexWaiter w, FutexEntry e) {
        int tid = w.thread.tid;
        while (true) {
            long s = e.state();
            if (isNoPage(s) && !isAbsent(s)) {
                if (owner(s) == tid) {
                    w.fail(KernelError.of(Errno.EDEADLK, "thread %d already owns the futex at offset 0x%x of '%s'; "
                            + "futexes do not nest", tid, e.offset(), objectName(e)));
                    return;
                }
                if (e.page.access == Access.READ_WRITE) {
                    // FREE | NOPAGE with the page here: a grant about to be served; wait in line.
                    assert owner(s) == 0 && !e.waiters.isEmpty() : "a futex without its word: " + e;
                    if (w.trylock) {
                        w.finish(null);
                    } else {
                        enqueue(w, e);
                    }
                    return;
                }
                lockWithPage(w, e); // held here, page elsewhere: the word can change only with the page
                return;
            }
            if (s == FREE) {
                if (e.tryFastLock(tid)) {
                    acquired(w, AcquirePath.FAST_PATH);
                    return;
                }
                continue;
            }
            if (!isAbsent(s) && owner(s) == tid) {
                w.fail(KernelError.of(Errno.EDEADLK, "thread %d already owns the futex at offset 0x%x of '%s'; "
                        + "futexes do not nest", tid, e.offset(), objectName(e)));
                return;
            }
            if (pagerLost != null) {
                w.fail(pagerError());
                return;
            }
            if (isAbsent(s)) {
                boolean idle = e.request == FutexEntry.Request.NONE && e.waiters.isEmpty();
                if (w.trylock && !idle) {
                    w.finish(null);
                    return;
                }
                enqueue(w, e);
                pages.markWaiters(e);
                if (e.request == FutexEntry.Request.NONE) {
                    askPager(e, w.trylock ? FutexEntry.Request.TRY : FutexEntry.Request.LOCK);
                }
                return;
            }
            // Held by another local thread.
            if (w.trylock) {
                w.finish(null);
                return;
            }
            if (hasWaiters(s) || e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                enqueue(w, e);
                return;
            }
            // The owner unlocked on the fast path meanwhile: look again.
        }
    }

    /** vm_unlock_futex by thread {@code tid}. */
    public void vmUnlockFutex(long taskId, int tid, long address, Reply<Void> reply) {
        checkThread();
        Target t = resolve(taskId, tid, address, reply);
        if (t == null) {
            return;
        }
        VmObject object = t.mapping.object();
        VmPage page = object.page(t.offset);
        FutexEntry e = page == null ? null : page.futexIfPresent(object.offsetInPage(t.offset));
        unlock(e, tid, address, reply);
    }

    private void unlock(FutexEntry e, int tid, long address, Reply<Void> reply) {
        while (true) {
            long s = e == null ? ABSENT : e.state();
            if (isAbsent(s) || owner(s) != tid) {
                reply.fail(KernelError.of(Errno.EPERM, "thread %d does not own the futex at 0x%x, so it cannot unlock it",
                        tid, address));
                return;
            }
            if (isNoPage(s)) {
                // The word can change only with the page: fetch it, then unlock.
                pages.withAccess(objectsById.get(e.objectId()), e.offset(), Access.READ_WRITE,
                        PageFault.of(() -> unlock(e, tid, address, reply), reply::fail));
                return;
            }
            if (!hasWaiters(s)) {
                if (e.tryFastUnlock(tid)) {
                    reply.complete(null);
                    return;
                }
                continue;
            }
            break;
        }
        if (e.relinquishPending || !cacheFutexes) {
            releaseToPager(e);
        } else if (!handOff(e, AcquirePath.LOCAL_HANDOFF)) {
            e.setState(FREE);
        }
        reply.complete(null);
    }

    /**
     * The caller of a blocked vm_lock_futex went away (the call answered by {@code call} was
     * cancelled): the thread stops waiting, as on a timeout. A thread that already got the futex
     * keeps it, and a later call of the same thread is not touched.
     */
    public void abortWait(long taskId, int tid, Reply<?> call) {
        checkThread();
        MachTask task = tasks.get(taskId);
        MachThread thread = task == null ? null : task.thread(tid);
        if (thread != null && thread.waiter != null && thread.waiter.answers(call)) {
            abandon(thread.waiter, KernelError.of(Errno.EINTR, "the call of thread %d was cancelled by its caller", tid));
        }
    }

    /** Stops a wait that has not been answered (timeout, cancel): out of the queue, then failed. */
    private void abandon(FutexWaiter w, KernelError error) {
        if (w.done()) {
            return;
        }
        FutexEntry e = w.entry;
        if (e != null) {
            e.waiters.remove(w);
            clearWaitersIfNoneLeft(e);
        }
        w.fail(error);
    }

    // ---- futexes: messages from the pager -----------------------------------------------------

    private void onFutexGranted(int objectId, long offset, List<PageData> withPages) {
        FutexEntry e = trackedFutex(objectId, offset);
        if (e == null || !isAbsent(e.state()) || e.request == FutexEntry.Request.NONE) {
            violation("memory_object_futex_granted for a futex it did not ask for", objectId, offset);
            return;
        }
        VmObject o = objectsById.get(objectId);
        List<VmPage> installed = new ArrayList<>();
        for (PageData d : withPages) {
            if (d.getOffset() % pageSize != 0 || d.getOffset() >= o.size || d.getData().size() != pageSize) {
                violation("a page granted with a futex that it cannot use", objectId, d.getOffset());
                continue;
            }
            VmPage p = pages.installGranted(o, d);
            if (p != null) {
                installed.add(p);
            }
        }
        e.request = FutexEntry.Request.NONE;
        e.grantedAt = pages.writeSequence();
        if (e.page.access == Access.READ_WRITE) {
            serveGrant(e);
        } else if (e.waiters.isEmpty()) {
            // Nobody waits: keep it (its word is 0 wherever the page is), or give it back (Part II).
            if (cacheFutexes) {
                e.setState(FREE | NOPAGE);
            } else {
                sendReleased(e);
            }
        } else {
            // A waiter gets it once the page is writable here; until then it counts as held.
            e.setState(FREE | NOPAGE);
            pages.withAccess(o, offset, Access.READ_WRITE, PageFault.of(() -> {
                if (e.state() == (FREE | NOPAGE)) {
                    serveGrant(e);
                }
            }, error -> { /* the pager is gone: forgetFutex fails the waiters */ }));
        }
        installed.forEach(pages::resume);
    }

    /**
     * A granted futex whose page is writable here, still in a state the fast path cannot take
     * (ABSENT, or FREE | NOPAGE): to the first local waiter, else kept (FREE) or given back.
     */
    private void serveGrant(FutexEntry e) {
        if (handOff(e, AcquirePath.PAGER_GRANT)) {
            return;
        }
        if (cacheFutexes && !e.relinquishPending) {
            e.setState(FREE); // Part III: keep it
            return;
        }
        e.setState(ABSENT);
        pages.clearWord(e);
        sendReleased(e);
    }

    private void onFutexBusy(int objectId, long offset) {
        FutexEntry e = trackedFutex(objectId, offset);
        if (e == null || e.request != FutexEntry.Request.TRY) {
            violation("memory_object_futex_busy for a futex it did not try", objectId, offset);
            return;
        }
        e.request = FutexEntry.Request.NONE;
        for (Iterator<FutexWaiter> it = e.waiters.iterator(); it.hasNext(); ) {
            FutexWaiter w = it.next();
            if (w.trylock) {
                it.remove();
                w.finish(null);
            }
        }
        if (!e.waiters.isEmpty()) {
            askPager(e, FutexEntry.Request.LOCK);
        }
    }

    private void onRelinquishFutex(int objectId, long offset) {
        FutexEntry e = trackedFutex(objectId, offset);
        if (e == null) {
            violation("memory_object_relinquish_futex for a futex it never asked for", objectId, offset);
            return;
        }
        while (true) {
            long s = e.state();
            if (isAbsent(s)) {
                return; // crossed with our own release: nothing to give back
            }
            if (s == FREE) {
                if (e.compareAndSetState(FREE, ABSENT)) {
                    pages.clearWord(e);
                    sendReleased(e);
                    return;
                }
                continue;
            }
            if (s == (FREE | NOPAGE)) {
                if (e.waiters.isEmpty()) {
                    e.setState(ABSENT); // its word is already 0 where the page is
                    sendReleased(e);
                } else {
                    e.relinquishPending = true; // one waiter gets it first, when the page is here
                }
                return;
            }
            // A local thread holds it: give it back when that thread unlocks (Part IV).
            e.relinquishPending = true;
            if (hasWaiters(s) || e.compareAndSetState(s, s | (WAITERS & 0xffffffffL))) {
                return;
            }
        }
    }

    // ---- futex helpers ------------------------------------------------------------------------

    private void enqueue(FutexWaiter w, FutexEntry e) {
        w.entry = e;
        e.waiters.add(w);
    }

    private void acquired(FutexWaiter w, AcquirePath path) {
        stats.acquired(path);
        w.finish(path);
    }

    /** Gives a futex this kernel holds to its first local waiter; false if nobody waits. */
    private boolean handOff(FutexEntry e, AcquirePath path) {
        FutexWaiter w = e.waiters.poll();
        if (w == null) {
            return false;
        }
        assert !w.done() : "a waiter that was answered is still queued";
        e.setState(FutexWord.held(w.thread.tid, !e.waiters.isEmpty() || !cacheFutexes || e.relinquishPending));
        acquired(w, path);
        return true;
    }

    /** Gives the futex back to the pager and asks again if local threads still wait. */
    private void releaseToPager(FutexEntry e) {
        assert isLive(e.state()) : "released without its page: " + e;
        e.setState(ABSENT);
        pages.clearWord(e);
        sendReleased(e);
        if (!e.waiters.isEmpty()) {
            askPager(e, FutexEntry.Request.LOCK);
        }
    }

    private void sendReleased(FutexEntry e) {
        e.relinquishPending = false;
        MemoryObjectFutexReleased.Builder released = MemoryObjectFutexReleased.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset());
        if (piggyback) {
            released.addAllPages(pages.takeForRelease(objectsById.get(e.objectId()), e));
        }
        send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(released).build());
    }

    private void askPager(FutexEntry e, FutexEntry.Request kind) {
        e.request = kind;
        send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(e.objectId()).setOffset(e.offset()).setTry(kind == FutexEntry.Request.TRY)).build());
    }

    private void clearWaitersIfNoneLeft(FutexEntry e) {
        long s = e.state();
        if (!isAbsent(s) && hasWaiters(s) && e.waiters.isEmpty() && !e.relinquishPending && cacheFutexes) {
            e.compareAndSetState(s, s & ~(WAITERS & 0xffffffffL));
        }
    }

    private FutexEntry trackedFutex(int objectId, long offset) {
        VmObject o = objectsById.get(objectId);
        if (o == null || o.state != VmObject.State.READY || offset < 0 || offset >= o.size || (offset & 3) != 0) {
            return null;
        }
        VmPage page = o.page(offset);
        return page == null ? null : page.futexIfPresent(o.offsetInPage(offset));
    }

    private String objectName(FutexEntry e) {
        VmObject o = objectsById.get(e.objectId());
        return o == null ? "?" : o.name;
    }

    // ---- XP input -----------------------------------------------------------------------------

    /** One XP message from the pager. */
    public void onXp(PagerToKernel m) {
        checkThread();
        stats.received(m);
        switch (m.getRoutineCase()) {
            case PAGER_WELCOME -> {
                if (kernelId != 0) {
                    violation("a second pager_welcome", 0, 0);
                    return;
                }
                kernelId = m.getPagerWelcome().getKernelId();
                pageSize = m.getPagerWelcome().getPageSize();
                log.info("kernel {}: session open, kernel id {}, page size {}", name, kernelId, pageSize);
            }
            case MEMORY_OBJECT_READY -> {
                VmObject o = objectsById.get(m.getMemoryObjectReady().getObjectId());
                long size = m.getMemoryObjectReady().getSize();
                if (o == null || o.state != VmObject.State.INITIALIZING || size % pageSize != 0) {
                    violation("memory_object_ready it cannot use", m.getMemoryObjectReady().getObjectId(), size);
                    return;
                }
                o.ready(size);
                List<PageFault> maps = new ArrayList<>(o.pendingMaps);
                o.pendingMaps.clear();
                maps.forEach(PageFault::resume);
            }
            case MEMORY_OBJECT_DESTROY -> {
                VmObject o = objectsById.remove(m.getMemoryObjectDestroy().getObjectId());
                if (o == null) {
                    violation("memory_object_destroy of an unknown object", m.getMemoryObjectDestroy().getObjectId(), 0);
                    return;
                }
                objectsByName.remove(o.name);
                failAll(o.pendingMaps, KernelError.of(Errno.EINVAL, "memory object '%s' cannot be mapped: %s",
                        o.name, m.getMemoryObjectDestroy().getReason()));
            }
            case MEMORY_OBJECT_DATA_SUPPLY -> {
                var d = m.getMemoryObjectDataSupply();
                VmObject o = readyObject(d.getObjectId(), d.getOffset());
                if (o == null || d.getData().size() == 0 || d.getData().size() % pageSize != 0) {
                    violation("memory_object_data_supply it cannot use", d.getObjectId(), d.getOffset());
                    return;
                }
                for (int i = 0; i < d.getData().size() && d.getOffset() + i < o.size; i += pageSize) {
                    pages.onSupply(o, d.getOffset() + i, d.getData().substring(i, i + pageSize).toByteArray(),
                            d.getLockValue());
                }
            }
            case MEMORY_OBJECT_DATA_UNAVAILABLE -> {
                var d = m.getMemoryObjectDataUnavailable();
                VmObject o = readyObject(d.getObjectId(), d.getOffset());
                if (o == null || d.getLength() % pageSize != 0) {
                    violation("memory_object_data_unavailable it cannot use", d.getObjectId(), d.getOffset());
                    return;
                }
                for (long off = d.getOffset(); off < d.getOffset() + d.getLength() && off < o.size; off += pageSize) {
                    pages.onSupply(o, off, new byte[pageSize], d.getLockValue());
                }
            }
            case MEMORY_OBJECT_DATA_ERROR -> {
                var d = m.getMemoryObjectDataError();
                VmObject o = readyObject(d.getObjectId(), d.getOffset());
                if (o == null) {
                    violation("memory_object_data_error it cannot use", d.getObjectId(), d.getOffset());
                    return;
                }
                pages.failWaiting(o.slot(d.getOffset()), KernelError.of(Errno.EIO,
                        "the pager could not supply offset 0x%x of '%s': %s", d.getOffset(), o.name, d.getReason()));
            }
            case MEMORY_OBJECT_LOCK_REQUEST -> {
                var r = m.getMemoryObjectLockRequest();
                VmObject o = readyObject(r.getObjectId(), r.getOffset());
                if (o == null) {
                    violation("memory_object_lock_request it cannot use", r.getObjectId(), r.getOffset());
                    return;
                }
                pages.onLockRequest(o, r);
            }
            case MEMORY_OBJECT_FUTEX_GRANTED -> onFutexGranted(m.getMemoryObjectFutexGranted().getObjectId(),
                    m.getMemoryObjectFutexGranted().getOffset(), m.getMemoryObjectFutexGranted().getPagesList());
            case MEMORY_OBJECT_FUTEX_BUSY -> onFutexBusy(
                    m.getMemoryObjectFutexBusy().getObjectId(), m.getMemoryObjectFutexBusy().getOffset());
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> onRelinquishFutex(
                    m.getMemoryObjectRelinquishFutex().getObjectId(), m.getMemoryObjectRelinquishFutex().getOffset());
            default -> violation("a message with no routine", 0, 0);
        }
    }

    private VmObject readyObject(int objectId, long offset) {
        VmObject o = objectsById.get(objectId);
        return o != null && o.state == VmObject.State.READY && offset >= 0 && offset < o.size && offset % pageSize == 0
                ? o : null;
    }

    // ---- common -------------------------------------------------------------------------------

    /** A request's thread and where its address falls; null after failing the reply. */
    private record Target(MachThread thread, VmMapping mapping, long offset) {}

    private Target resolve(long taskId, int tid, long address, Reply<?> reply) {
        MachTask task = connectedTask(taskId, reply);
        if (task == null) {
            return null;
        }
        MachThread thread = task.thread(tid);
        if (thread == null) {
            reply.fail(KernelError.of(Errno.ESRCH, "task %d on kernel %s has no thread %d; create it with thread_create",
                    taskId, name, tid));
            return null;
        }
        if ((address & 3) != 0) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "address 0x%x is not 4-byte aligned; a futex is an aligned 32-bit word", address));
            return null;
        }
        VmMapping m = mappingAt(task, address, reply);
        return m == null ? null : new Target(thread, m, address - m.start());
    }

    /** The task, if the kernel has its pager and the task exists; else fails the reply. */
    private MachTask connectedTask(long taskId, Reply<?> reply) {
        if (!connected(reply)) {
            return null;
        }
        MachTask task = tasks.get(taskId);
        if (task == null) {
            reply.fail(noTask(taskId));
        }
        return task;
    }

    /** The mapping of {@code task} that holds {@code address}; else fails the reply. */
    private static VmMapping mappingAt(MachTask task, long address, Reply<?> reply) {
        VmMapping m = task.mappingAt(address);
        if (m == null) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "address 0x%x is outside every mapping of task %d; map a memory object with vm_map first",
                    address, task.id));
        }
        return m;
    }

    private boolean connected(Reply<?> reply) {
        if (pagerLost != null) {
            reply.fail(pagerError());
            return false;
        }
        if (kernelId == 0) {
            reply.fail(KernelError.of(Errno.EIO, "kernel %s has no session with its pager yet; retry once it is up", name));
            return false;
        }
        return true;
    }

    private KernelError noTask(long taskId) {
        return KernelError.of(Errno.ESRCH, "kernel %s has no task %d; create one with task_create", name, taskId);
    }

    private KernelError pagerError() {
        return KernelError.of(Errno.EIO, "kernel %s lost its pager (%s); restart the kernel once the pager is back",
                name, pagerLost);
    }

    private static void failAll(List<PageFault> faults, KernelError error) {
        List<PageFault> copy = new ArrayList<>(faults);
        faults.clear();
        copy.forEach(f -> f.fail(error));
    }

    private void send(KernelToPager m) {
        if (pagerLost != null) {
            return;
        }
        stats.sent(m);
        env.send(m);
    }

    private void violation(String what, int objectId, long offset) {
        log.warn("kernel {}: protocol violation from the pager: {} (object {}, offset 0x{}); ignored",
                name, what, objectId, Long.toHexString(offset));
    }

    private void checkThread() {
        assert coreThread == null || coreThread == Thread.currentThread()
                : "kernel core entered from " + Thread.currentThread() + ", its thread is " + coreThread;
        if (coreThread == null) {
            coreThread = Thread.currentThread();
        }
    }

    // ---- inspection (core thread) -------------------------------------------------------------

    /** The futex at a task's address, for tests and tools; null if this kernel has none there. */
    public FutexEntry futexAt(long taskId, long address) {
        checkThread();
        MachTask task = tasks.get(taskId);
        return task == null ? null : task.residentFutex(address);
    }
}
