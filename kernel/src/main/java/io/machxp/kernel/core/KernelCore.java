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

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.sched.Priority;
import io.machxp.kernel.sched.Scheduler;
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
import io.machxp.proto.xp.ReturnPolicy;
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
 * fault pages in with the access they need. A futex the kernel holds is locked with its page
 * writable (Part III: page-in first). One it does not hold is asked for first: a futex leaving a
 * kernel that caches futexes takes its own page with it in futex_released (and with piggyback, the
 * pages dirtied under it), so the page usually comes with the grant. In Part II only
 * ({@code cacheFutexes == false}) the page is faulted in first (memory_object_data_request).
 *
 * <p>Lease: the welcome gives the session's lease L (0: none). The kernel sends kernel_keepalive
 * at once and then every L/4; each pager_keepalive extends its lease to (when that keepalive was
 * sent) + L - L/5.
 * The pager counts from when it heard the kernel, so it cannot declare the kernel dead before the
 * kernel has stopped by a margin of L/5 plus the transit: when the kernel's lease runs out it
 * stops using the pager as if the stream had broken (every cached futex stops being handed out,
 * every thread's call fails with EIO saying why, and every later request too).
 *
 * <p>Reconnecting and reclaiming. When the stream breaks (the pager restarted, or the connection
 * dropped) while the lease still runs, the kernel keeps what it holds and goes on using it: its
 * cached futexes and resident pages are still its own until the lease ends, since no pager can
 * give them to another kernel before. Nothing leaves it meanwhile (a relinquish the old pager
 * asked for is void; what would be sent is not, and is asked again), and it tries a new stream
 * every twentieth of the lease:
 * <pre>
 *  SESSION ──stream broken, lease runs──▶ DISCONNECTED ──new stream──▶ RECLAIMING: kernel_hello
 *     ▲                                        │   ▲                   with reclaim (every futex
 *     │                                        │   └──stream broken────  with its token, every page
 *     └──────pager_welcome: init the objects    │                        with its access, the dirty
 *            still initializing; ask again for  │                        returns not yet confirmed)
 *            every futex and page awaited       ▼
 *                           lease runs out, or the pager refuses the reclaim: STOPPED (as if lost)
 * </pre>
 *
 * <p>Futexes: {@link KernelFutexes} holds the state machine (Parts II-IV of the seed mail, PI and
 * robust futexes); this class checks each request (task, thread, address) and passes it on.
 * With {@code cacheFutexes == false} (Part II only) a futex is never kept free here: each unlock
 * releases it to the pager, so every lock and unlock costs messages.
 *
 * <p>Threads: thread_create gives a TID and a priority; thread_compute runs under the kernel's
 * {@link Scheduler} (preemptive, fixed priority, on {@code cpus} simulated CPUs), thread_sleep
 * waits on a timer; thread_terminate and task_terminate end threads, and a futex an ended thread
 * held passes on with OWNER_DIED (robust futexes).
 *
 * <p>Every change of a futex word made here needs the page writable: a futex this kernel holds
 * whose page is elsewhere is NOPAGE, and a lock, unlock or grant on it first faults the page in
 * (see {@link PageCache} for how the word moves between the futex state and the page).
 *
 * <p>A pager message that breaks the protocol - a welcome with a kernel id TIDs cannot carry or a
 * page size that is not a power of two from 64 bytes to 1 MiB, a ready or destroy for an object
 * not being initialized, an access value outside the enum, a grant, busy or page nobody asked for,
 * an offset outside the object - is a violation: logged and otherwise ignored, so that the
 * kernel's state never depends on its pager behaving. A ready with a size the kernel cannot use
 * (not a positive multiple of the page size, or more than MAX_OBJECT_PAGES pages) fails the
 * vm_maps waiting for it instead, as a destroy does.
 *
 * <p>Fairness: local waiters are served by priority (arrival order among equals, and with
 * --no-pi), the pager grants the same way and relinquishes a granted futex at once if another
 * kernel waits, and a kernel always lets one local waiter have a futex it was granted before
 * giving it back, so nobody of the top priority starves.
 */
public final class KernelCore {
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);
    private static final int PROTOCOL_VERSION = 1;
    private static final int MAX_OBJECT_NAME = 255;
    /** Live tasks at once: a bound on what clients can make a kernel keep (threads are bounded by TIDs). */
    static final int MAX_TASKS = 1 << 16;
    /** Page sizes a pager may give: powers of two from the pager's least to 1 MiB. */
    private static final int MIN_PAGE_SIZE = 64;
    private static final int MAX_PAGE_SIZE = 1 << 20;
    /** The most pages an object may have (64 GiB at 4 KiB): its table of pages is allocated whole. */
    private static final long MAX_OBJECT_PAGES = 1 << 24;

    private final String name;
    private final KernelEnv env;
    private final KernelStats stats;
    private final boolean cacheFutexes;
    private final boolean piggyback;
    private final PageCache pages;
    private final KernelMemory memory;
    private final Scheduler scheduler;
    private final KernelFutexes futexes;
    /** Living threads by TID; core thread only. */
    private final Map<Integer, MachThread> threadsByTid = new HashMap<>();
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
    /** The session's lease from the welcome, 0: none. */
    private long leaseNanos;
    /** When this kernel stops counting on its lease unless a keepalive is answered first. */
    private long leaseEnds;
    private long keepaliveSequence;
    /** Send times of the keepalives not answered yet, oldest first (answers come in order). */
    private final java.util.ArrayDeque<long[]> keepalivesOut = new java.util.ArrayDeque<>();
    /** Why the stream broke while the lease still ran (the kernel reconnects); null while it has one. */
    private String disconnected;
    /** A kernel_hello with reclaim is on its way on a new stream; the kernel waits for the welcome. */
    private boolean reclaiming;

    /**
     * @param cacheFutexes Part III/IV (true): keep futexes after unlock until the pager asks;
     *     Part II only (false): every lock and unlock goes to the pager.
     */
    public KernelCore(String name, KernelEnv env, KernelStats stats, boolean cacheFutexes) {
        this(name, env, stats, CoreOptions.DEFAULT.withCacheFutexes(cacheFutexes));
    }

    public KernelCore(String name, KernelEnv env, KernelStats stats, CoreOptions options) {
        this.name = name;
        this.env = env;
        this.stats = stats;
        this.cacheFutexes = options.cacheFutexes();
        this.piggyback = options.piggyback();
        int maxResidentPages = options.maxResidentPages();
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
        this.scheduler = new Scheduler(options.cpus(), env);
        this.futexes = new KernelFutexes(this, env, stats, pages, scheduler, cacheFutexes, piggyback,
                options.priorityInheritance());
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
        env.trace("pager-lost", 0, reason);
        stopUsingPager(reason);
    }

    /**
     * The stream to the pager broke: the connection, not the pager's word (that is
     * {@link #onPagerLost}). While the lease runs the kernel keeps what it holds and reconnects to
     * reclaim it, in case the pager restarted; without a lease, or caching nothing it could keep
     * (Part II), it stops at once.
     */
    public void onStreamBroken(String reason) {
        checkThread();
        if (pagerLost != null) {
            return;
        }
        if (leaseNanos == 0 || kernelId == 0 || !cacheFutexes || env.nanoTime() >= leaseEnds) {
            onPagerLost(reason);
            return;
        }
        reclaiming = false;
        if (disconnected == null) {
            disconnected = reason;
            keepalivesOut.clear(); // the pager that would have answered them is gone
            forEachFutex(futexes::streamBroken);
            log.warn("kernel {}: lost its stream to the pager ({}); it keeps what it holds for the {} ms its lease "
                    + "still runs, and reconnects to reclaim it", name, reason, (leaseEnds - env.nanoTime()) / 1_000_000);
            env.trace("pager-disconnected", 0, reason);
        }
        env.schedule(leaseNanos / 20, this::reconnect);
    }

    private void reconnect() {
        if (pagerLost != null || disconnected == null || reclaiming) {
            return;
        }
        reclaiming = true;
        if (!env.reconnect()) {
            onPagerLost(disconnected + "; this kernel cannot reconnect");
            return;
        }
        if (!reclaiming) {
            return; // the new stream failed at once (onStreamBroken ran inside): the next attempt is due
        }
        io.machxp.proto.xp.Reclaim.Builder reclaim = io.machxp.proto.xp.Reclaim.newBuilder().setKernelId(kernelId);
        for (VmObject o : objectsById.values()) {
            if (o.state != VmObject.State.READY) {
                continue;
            }
            io.machxp.proto.xp.ReclaimedObject.Builder ro = io.machxp.proto.xp.ReclaimedObject.newBuilder()
                    .setObjectId(o.objectId).setName(o.name).setPageSize(pageSize).addAllPages(pages.reclaim(o));
            o.forEachPage(page -> page.forEachFutex(e -> {
                if (!isAbsent(e.state())) {
                    ro.addFutexes(io.machxp.proto.xp.ReclaimedFutex.newBuilder().setOffset(e.offset())
                            .setFencingToken(e.fencingToken).setOwnerDied(e.ownerDiedAtGrant));
                }
            }));
            reclaim.addObjects(ro);
        }
        KernelToPager hello = KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(PROTOCOL_VERSION).setReclaim(reclaim)).build();
        reclaimSentAt = env.nanoTime();
        stats.sent(hello);
        env.send(hello);
    }

    /** When the last reclaim was sent: a new pager's lease counts from no earlier than that. */
    private long reclaimSentAt;

    /** The pager took the reclaim: the session goes on; what the kernel was waiting for is asked again. */
    private void reclaimed(io.machxp.proto.xp.PagerWelcome w) {
        if (w.getKernelId() != kernelId || w.getPageSize() != pageSize) {
            violation("a pager_welcome to a reclaim with kernel id " + Integer.toUnsignedString(w.getKernelId())
                    + " and page size " + Integer.toUnsignedString(w.getPageSize()), 0, 0);
            onPagerLost("the pager answered its reclaim with another kernel id or page size");
            return;
        }
        String was = disconnected;
        reclaiming = false;
        disconnected = null;
        if (w.getLeaseMillis() > 0) {
            leaseNanos = w.getLeaseMillis() * 1_000_000;
            // A new pager may give a shorter lease than the last: the old one's end must not outlast it.
            leaseEnds = Math.min(leaseEnds, reclaimSentAt + leaseNanos - leaseMargin());
            checkLeaseIn(leaseEnds - env.nanoTime());
        }
        sendKeepalive(); // answered after the reclaim: it confirms the returns the reclaim gave again
        int[] awaited = {0};
        for (VmObject o : objectsById.values()) {
            if (o.state == VmObject.State.INITIALIZING) {
                send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                        .setObjectId(o.objectId).setName(o.name).setPageSize(pageSize)).build());
                continue;
            }
            pages.askAgain(o);
            o.forEachPage(page -> page.forEachFutex(e -> {
                awaited[0] += e.request != FutexEntry.Request.NONE ? 1 : 0;
                futexes.askAgain(e);
            }));
        }
        log.info("kernel {}: reconnected to pager {} (epoch {}) after losing its stream ({}) and reclaimed what it "
                + "holds; asked again for {} futexes", name, w.getPagerName(), w.getSessionEpoch(), was, awaited[0]);
        env.trace("pager-reconnected", 0, "epoch " + w.getSessionEpoch());
    }

    /** Whether the kernel lost its stream and is reconnecting; for tests and tools. */
    public boolean disconnected() {
        return disconnected != null;
    }

    private void stopUsingPager(String reason) {
        pagerLost = reason;
        disconnected = null;
        reclaiming = false;
        KernelError error = pagerError();
        for (VmObject o : objectsById.values()) {
            failAll(o.pendingMaps, error);
            o.forEachPage(page -> {
                pages.unmap(page); // tasks reach pages through the core again, which says EIO
                pages.failWaiting(page, error);
                page.forEachFutex(e -> futexes.forgetFutex(e, error));
            });
        }
    }

    // ---- lease -------------------------------------------------------------------------------

    /**
     * The pager's lease. It is established by a keepalive sent at once: the kernel holds nothing
     * before the answer, since whatever it asks for after the welcome is answered after it (the
     * streams are FIFO), and a slow welcome (a cold start, a slow connect) cannot cost the lease.
     */
    private void startLease(long lease) {
        leaseNanos = lease;
        if (lease <= 0) {
            return;
        }
        pages.retainReturns();
        // Counted from the first keepalive, sent now, as if answered: unanswered, it still bounds
        // the wait, and the kernel holds nothing before its answer.
        leaseEnds = env.nanoTime() + lease - leaseMargin();
        keepalive();
        checkLeaseIn(lease - leaseMargin());
    }

    /** How much earlier than the pager the kernel stops counting on its lease: a fifth of it. */
    private long leaseMargin() {
        return leaseNanos / 5;
    }

    private void keepalive() {
        if (pagerLost != null) {
            return;
        }
        if (disconnected == null) {
            sendKeepalive();
        }
        env.schedule(leaseNanos / 4, this::keepalive);
    }

    private void sendKeepalive() {
        long sequence = ++keepaliveSequence;
        keepalivesOut.add(new long[] {sequence, env.nanoTime()});
        send(KernelToPager.newBuilder().setKernelKeepalive(
                io.machxp.proto.xp.KernelKeepalive.newBuilder().setSequence(sequence)).build());
        pages.keepaliveSent(sequence);
    }

    private void keepaliveAnswered(long sequence) {
        while (!keepalivesOut.isEmpty() && keepalivesOut.peek()[0] <= sequence) {
            long[] k = keepalivesOut.poll();
            if (k[0] == sequence) {
                long ends = k[1] + leaseNanos - leaseMargin();
                leaseEnds = Math.max(leaseEnds, ends);
                pages.keepaliveAnswered(sequence);
                return;
            }
        }
        violation("pager_keepalive " + sequence + ", which answers no keepalive it sent", 0, 0);
    }

    /** The one pending check of the lease, moved to {@code delayNanos} from now. */
    private void checkLeaseIn(long delayNanos) {
        if (leaseTimer != null) {
            leaseTimer.cancel();
        }
        leaseTimer = env.schedule(Math.max(0, delayNanos), this::checkLease);
    }

    private Timer leaseTimer;

    private void checkLease() {
        if (pagerLost != null) {
            return;
        }
        long now = env.nanoTime();
        if (now < leaseEnds) {
            checkLeaseIn(leaseEnds - now);
            return;
        }
        String why = String.format("its lease ran out: the pager answered no keepalive for %d ms (lease %d ms, "
                + "the kernel stops %d ms early)%s", (now - leaseEnds + leaseNanos - leaseMargin()) / 1_000_000,
                leaseNanos / 1_000_000, leaseMargin() / 1_000_000,
                disconnected == null ? "" : ", and it could not reconnect (" + disconnected + ")");
        log.warn("kernel {}: {}; it stops handing out what it holds before the pager gives it to others", name, why);
        env.trace("lease-lost", 0, why);
        stopUsingPager(why);
    }

    /**
     * The kernel is shutting down: its threads end, dirty pages go back to the pager and every
     * object is terminated (memory_object_terminate), which releases every futex it held.
     */
    public void shutdown() {
        checkThread();
        if (pagerLost != null || kernelId == 0) {
            return;
        }
        // Its threads end with it: a call they are blocked in is answered (ESRCH, saying why), and a
        // futex one owns passes on with OWNER_DIED (robust futexes), the word in the page says so.
        for (MachThread t : new ArrayList<>(threadsByTid.values())) {
            end(t, "kernel " + name + " is shutting down");
        }
        // Every futex it holds goes back by itself, with its word and page, and with owner_died if
        // a grant said so and the word never got it: terminate releases only grants still on
        // their way here, which the pager then passes on as it got them.
        forEachFutex(futexes::giveBackAtShutdown);
        for (VmObject o : objectsById.values()) {
            if (o.state == VmObject.State.READY) {
                pages.returnAll(o);
                send(KernelToPager.newBuilder().setMemoryObjectTerminate(
                        MemoryObjectTerminate.newBuilder().setObjectId(o.objectId)).build());
            }
        }
        if (disconnected != null) {
            log.warn("kernel {}: shut down while it had no stream to its pager ({}): the writes it had not given back "
                    + "are lost, and the pager learns of its end only when its lease runs out", name, disconnected);
        } else {
            log.info("kernel {}: returned its pages and terminated its objects", name);
        }
        stopUsingPager("the kernel is shutting down");
    }

    // ---- tasks and threads --------------------------------------------------------------------

    public void taskCreate(String taskName, Reply<MachTask> reply) {
        checkThread();
        if (!connected(reply)) {
            return;
        }
        if (tasks.size() >= MAX_TASKS) {
            reply.fail(KernelError.of(Errno.EAGAIN, "kernel %s has %d tasks, the most it keeps at once; terminate "
                    + "tasks that are no longer needed (a client's tasks end with its TaskWatch)", name, MAX_TASKS));
            return;
        }
        MachTask task = new MachTask(nextTaskId++, taskName);
        tasks.put(task.id, task);
        reply.complete(task);
    }

    public void threadCreate(long taskId, Reply<MachThread> reply) {
        threadCreate(taskId, Priority.DEFAULT, reply);
    }

    /** thread_create with a base priority (1-99). */
    public void threadCreate(long taskId, int priority, Reply<MachThread> reply) {
        checkThread();
        MachTask task = connectedTask(taskId, reply);
        if (task == null) {
            return;
        }
        if (!Priority.valid(priority)) {
            reply.fail(invalidPriority(priority));
            return;
        }
        if (nextThreadNumber > Tids.MAX_THREAD_NUMBER) {
            reply.fail(KernelError.of(Errno.EAGAIN, "kernel %s has used all %d thread ids; start another kernel",
                    name, Tids.MAX_THREAD_NUMBER));
            return;
        }
        MachThread thread = new MachThread(Tids.tid(kernelId, nextThreadNumber++), task);
        thread.basePriority = priority;
        thread.effectivePriority = priority;
        task.addThread(thread);
        threadsByTid.put(thread.tid, thread);
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
        Range r = wordRange(taskId, address, width, "vm_compare_and_swap", reply);
        if (r != null) {
            memory.compareAndSwap(r.object(), r.offset(), width, expected, newValue, reply);
        }
    }

    /** vm_fetch_add on the aligned word of {@code width} (4 or 8) bytes at {@code address}. */
    public void vmFetchAdd(long taskId, long address, int width, long delta, Reply<Long> reply) {
        checkThread();
        Range r = wordRange(taskId, address, width, "vm_fetch_add", reply);
        if (r != null) {
            memory.fetchAdd(r.object(), r.offset(), width, delta, reply);
        }
    }

    private record Range(VmObject object, long offset) {}

    /** The aligned word of an atomic: 4 or 8 bytes, within one mapping (so within one page). */
    private Range wordRange(long taskId, long address, int width, String call, Reply<?> reply) {
        if (width != 4 && width != 8) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "%s of a %d-byte word: the word of an atomic is 4 bytes (WORD32) or 8 (WORD64)", call, width));
            return null;
        }
        return resolveRange(taskId, address, width, width, call, reply);
    }

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

    // ---- futexes: requests from tasks (the state machine is in KernelFutexes) -------------------

    /**
     * vm_lock_futex: lock the futex at {@code address} for thread {@code tid}, waiting at most
     * {@code timeoutNanos} (negative: no limit). Answers how it was acquired, and whether its
     * previous owner died (EOWNERDEAD).
     */
    public void vmLockFutex(long taskId, int tid, long address, long timeoutNanos, Reply<Acquired> reply) {
        lockRequest(taskId, tid, address, timeoutNanos, false, reply, "vm_lock_futex");
    }

    /** vm_trylock_futex: like vm_lock_futex, but answers null instead of waiting for an owner. */
    public void vmTrylockFutex(long taskId, int tid, long address, Reply<Acquired> reply) {
        lockRequest(taskId, tid, address, -1, true, reply, "vm_trylock_futex");
    }

    private void lockRequest(long taskId, int tid, long address, long timeoutNanos, boolean trylock,
            Reply<Acquired> reply, String call) {
        checkThread();
        Target t = resolve(taskId, tid, address, reply);
        if (t == null || busy(t.thread, reply)) {
            return;
        }
        VmObject object = t.mapping.object();
        FutexEntry e = object.slot(t.offset).futex(object.offsetInPage(t.offset));
        futexes.lockRequest(t.thread, e, address, timeoutNanos, trylock, reply, call);
    }

    /** vm_unlock_futex by thread {@code tid}. */
    public void vmUnlockFutex(long taskId, int tid, long address, Reply<Void> reply) {
        checkThread();
        Target t = resolve(taskId, tid, address, reply);
        if (t != null) {
            futexes.unlock(t.thread.task.residentFutex(address), tid, address, reply);
        }
    }

    /** vm_futex_consistent: the owner that got the futex with EOWNERDEAD repaired it. */
    public void vmFutexConsistent(long taskId, int tid, long address, Reply<Void> reply) {
        checkThread();
        Target t = resolve(taskId, tid, address, reply);
        if (t != null) {
            futexes.markConsistent(t.thread.task.residentFutex(address), tid, address, reply);
        }
    }

    /**
     * The caller of a blocked call went away (the call answered by {@code call} was cancelled):
     * a futex wait stops as on a timeout. A thread that already got the futex keeps it, and a
     * later call of the same thread is not touched.
     */
    public void abortWait(long taskId, int tid, Reply<?> call) {
        checkThread();
        MachTask task = tasks.get(taskId);
        MachThread thread = task == null ? null : task.thread(tid);
        if (thread != null && thread.waiter != null && thread.waiter.answers(call)) {
            futexes.abandon(thread.waiter, KernelError.of(Errno.EINTR, "the call of thread %d was cancelled by its caller", tid));
        }
    }

    // ---- threads: scheduling and ending -------------------------------------------------------

    /** thread_compute: the thread uses {@code nanos} of CPU under the priority scheduler. */
    public void threadCompute(long taskId, int tid, long nanos, Reply<Void> reply) {
        checkThread();
        MachThread t = idleThread(taskId, tid, nanos, "thread_compute", reply);
        if (t != null) {
            t.blockedIn = "thread_compute";
            t.blockedReply = reply;
            scheduler.compute(t, nanos, () -> wake(t, reply));
        }
    }

    /** thread_sleep: the thread blocks for {@code nanos} without a CPU. */
    public void threadSleep(long taskId, int tid, long nanos, Reply<Void> reply) {
        checkThread();
        MachThread t = idleThread(taskId, tid, nanos, "thread_sleep", reply);
        if (t != null) {
            t.blockedIn = "thread_sleep";
            t.blockedReply = reply;
            t.sleepTimer = env.schedule(nanos, () -> wake(t, reply));
        }
    }

    private void wake(MachThread t, Reply<Void> reply) {
        if (t.blockedReply == reply) {
            t.blockedIn = null;
            t.blockedReply = null;
            t.sleepTimer = null;
            reply.complete(null);
        }
    }

    private MachThread idleThread(long taskId, int tid, long nanos, String call, Reply<?> reply) {
        MachThread t = thread(taskId, tid, reply);
        if (t == null) {
            return null;
        }
        if (nanos < 0) {
            reply.fail(KernelError.of(Errno.EINVAL, "%s of %d ns: give a duration of 0 or more", call, nanos));
            return null;
        }
        return busy(t, reply) ? null : t;
    }

    /** A thread makes one call at a time: EBUSY while it is blocked in another. */
    private static boolean busy(MachThread t, Reply<?> reply) {
        if (t.blockedIn == null) {
            return false;
        }
        reply.fail(KernelError.of(Errno.EBUSY, "thread %d is still blocked in %s; a thread makes one call at a time",
                t.tid, t.blockedIn));
        return true;
    }

    /** thread_set_priority: a new base priority; boosts it inherits stay. */
    public void threadSetPriority(long taskId, int tid, int priority, Reply<Void> reply) {
        checkThread();
        MachThread t = thread(taskId, tid, reply);
        if (t == null) {
            return;
        }
        if (!Priority.valid(priority)) {
            reply.fail(invalidPriority(priority));
            return;
        }
        t.basePriority = priority;
        futexes.basePriorityChanged(t);
        reply.complete(null);
    }

    /** thread_terminate: the thread ends; futexes it holds pass on with OWNER_DIED. */
    public void threadTerminate(long taskId, int tid, Reply<Void> reply) {
        checkThread();
        MachThread t = thread(taskId, tid, reply);
        if (t != null) {
            end(t, "thread_terminate");
            reply.complete(null);
        }
    }

    /** task_terminate: every thread of the task ends as with thread_terminate; then the task. */
    public void taskTerminate(long taskId, String why, Reply<Void> reply) {
        checkThread();
        MachTask task = tasks.get(taskId);
        if (task == null) {
            reply.fail(noTask(taskId));
            return;
        }
        task.threads().forEach(t -> end(t, why));
        for (VmMapping m : task.removeMappings()) {
            m.object().forEachPage(pages::unmap); // waits for the task's copies under way
        }
        tasks.remove(taskId);
        log.info("kernel {}: task {} ended ({})", name, taskId, why);
        reply.complete(null);
    }

    private void end(MachThread t, String why) {
        if (!t.alive) {
            return;
        }
        t.alive = false;
        KernelError ended = KernelError.of(Errno.ESRCH, "thread %d was terminated (%s)", t.tid, why);
        futexes.threadEnded(t, ended);
        scheduler.cancel(t);
        if (t.sleepTimer != null) {
            t.sleepTimer.cancel();
        }
        Reply<?> blocked = t.blockedReply;
        t.blockedReply = null;
        t.blockedIn = null;
        if (blocked != null) {
            blocked.fail(ended);
        }
        t.task.removeThread(t.tid);
        threadsByTid.remove(t.tid);
        env.trace("thread-ended", t.tid, why);
    }

    private MachThread thread(long taskId, int tid, Reply<?> reply) {
        MachTask task = connectedTask(taskId, reply);
        if (task == null) {
            return null;
        }
        MachThread thread = task.thread(tid);
        if (thread == null) {
            reply.fail(noThread(taskId, tid));
        }
        return thread;
    }

    private KernelError noThread(long taskId, int tid) {
        return KernelError.of(Errno.ESRCH, "task %d on kernel %s has no thread %d; create it with thread_create",
                taskId, name, tid);
    }

    private static KernelError invalidPriority(int priority) {
        return KernelError.of(Errno.EINVAL, "priority %d is out of range: use %d (lowest) to %d (highest)",
                priority, Priority.MIN, Priority.MAX);
    }

    // ---- for KernelFutexes --------------------------------------------------------------------

    /** The living thread with this TID on this kernel, or null. */
    MachThread livingThread(int tid) {
        MachThread t = threadsByTid.get(tid);
        return t != null && t.alive ? t : null;
    }

    VmObject object(int objectId) {
        return objectsById.get(objectId);
    }

    boolean pagerLost() {
        return pagerLost != null;
    }

    void forEachFutex(java.util.function.Consumer<FutexEntry> action) {
        for (VmObject o : objectsById.values()) {
            o.forEachPage(page -> page.forEachFutex(action));
        }
    }

    /** A futex message from the pager about a futex this kernel never asked for, or null. */
    private FutexEntry trackedFutex(int objectId, long offset) {
        VmObject o = objectsById.get(objectId);
        if (o == null || o.state != VmObject.State.READY || offset < 0 || offset >= o.size || (offset & 3) != 0) {
            return null;
        }
        VmPage page = o.page(offset);
        return page == null ? null : page.futexIfPresent(o.offsetInPage(offset));
    }

    // ---- XP input -----------------------------------------------------------------------------

    /** One XP message from the pager. */
    public void onXp(PagerToKernel m) {
        checkThread();
        if (pagerLost != null) {
            return; // the session is over for this kernel (lease lost, or shut down): nothing applies
        }
        stats.received(m);
        switch (m.getRoutineCase()) {
            case PAGER_WELCOME -> {
                if (reclaiming) {
                    reclaimed(m.getPagerWelcome());
                    return;
                }
                if (kernelId != 0) {
                    violation("a second pager_welcome", 0, 0);
                    return;
                }
                int id = m.getPagerWelcome().getKernelId();
                int size = m.getPagerWelcome().getPageSize();
                if (id < 1 || id > Tids.MAX_KERNEL_ID || Integer.bitCount(size) != 1 || size < MIN_PAGE_SIZE
                        || size > MAX_PAGE_SIZE) {
                    // TIDs carry the id; pages are indexed by shifts: without a session rather than broken
                    violation("a pager_welcome with kernel id " + Integer.toUnsignedString(id) + " and page size "
                            + Integer.toUnsignedString(size), 0, 0);
                    return;
                }
                kernelId = id;
                pageSize = size;
                startLease(m.getPagerWelcome().getLeaseMillis() * 1_000_000);
                log.info("kernel {}: session open, kernel id {}, page size {}", name, kernelId, pageSize);
            }
            case MEMORY_OBJECT_READY -> {
                VmObject o = objectsById.get(m.getMemoryObjectReady().getObjectId());
                long size = m.getMemoryObjectReady().getSize();
                if (o == null || o.state != VmObject.State.INITIALIZING) {
                    violation("memory_object_ready it cannot use", m.getMemoryObjectReady().getObjectId(), size);
                    return;
                }
                if (size <= 0 || size % pageSize != 0 || size / pageSize > MAX_OBJECT_PAGES) {
                    // The pager says nothing more about this init: the maps waiting for it fail, as on destroy.
                    violation("memory_object_ready with a size it cannot use", o.objectId, size);
                    objectsById.remove(o.objectId);
                    objectsByName.remove(o.name);
                    failAll(o.pendingMaps, KernelError.of(Errno.EINVAL, "memory object '%s' cannot be mapped: its size "
                            + "%d is not a positive multiple of the page size %d up to %d pages", o.name, size, pageSize,
                            MAX_OBJECT_PAGES));
                    return;
                }
                o.ready(size);
                List<PageFault> maps = new ArrayList<>(o.pendingMaps);
                o.pendingMaps.clear();
                maps.forEach(PageFault::resume);
            }
            case MEMORY_OBJECT_DESTROY -> {
                VmObject o = objectsById.get(m.getMemoryObjectDestroy().getObjectId());
                if (o == null || o.state != VmObject.State.INITIALIZING) {
                    // It answers memory_object_init: a ready object has mappings, pages, waiters.
                    violation("memory_object_destroy of an object that is not being initialized",
                            m.getMemoryObjectDestroy().getObjectId(), 0);
                    return;
                }
                objectsById.remove(o.objectId);
                objectsByName.remove(o.name);
                failAll(o.pendingMaps, KernelError.of(Errno.EINVAL, "memory object '%s' cannot be mapped: %s",
                        o.name, m.getMemoryObjectDestroy().getReason()));
            }
            case MEMORY_OBJECT_DATA_SUPPLY -> {
                var d = m.getMemoryObjectDataSupply();
                VmObject o = readyObject(d.getObjectId(), d.getOffset());
                if (o == null || d.getData().size() == 0 || d.getData().size() % pageSize != 0
                        || d.getLockValue() == VmProt.UNRECOGNIZED) {
                    violation("memory_object_data_supply it cannot use", d.getObjectId(), d.getOffset());
                    return;
                }
                for (int i = 0; i < d.getData().size() && d.getOffset() + i < o.size; i += pageSize) {
                    pages.onSupply(o, d.getOffset() + i, d.getData().substring(i, i + pageSize).toByteArray(),
                            d.getLockValue(), d.getVersion());
                }
            }
            case MEMORY_OBJECT_DATA_UNAVAILABLE -> {
                var d = m.getMemoryObjectDataUnavailable();
                VmObject o = readyObject(d.getObjectId(), d.getOffset());
                if (o == null || d.getLength() % pageSize != 0 || d.getLockValue() == VmProt.UNRECOGNIZED) {
                    violation("memory_object_data_unavailable it cannot use", d.getObjectId(), d.getOffset());
                    return;
                }
                for (long off = d.getOffset(); off < d.getOffset() + d.getLength() && off < o.size; off += pageSize) {
                    pages.onSupply(o, off, new byte[pageSize], d.getLockValue(), d.getVersion());
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
                if (o == null || r.getLockValue() == VmProt.UNRECOGNIZED
                        || r.getShouldReturn() == ReturnPolicy.UNRECOGNIZED) {
                    violation("memory_object_lock_request it cannot use", r.getObjectId(), r.getOffset());
                    return;
                }
                pages.onLockRequest(o, r);
            }
            case PAGER_KEEPALIVE -> keepaliveAnswered(m.getPagerKeepalive().getSequence());
            case MEMORY_OBJECT_FUTEX_GRANTED -> {
                var g = m.getMemoryObjectFutexGranted();
                FutexEntry e = trackedFutex(g.getObjectId(), g.getOffset());
                if (e == null || !isAbsent(e.state()) || e.request == FutexEntry.Request.NONE) {
                    violation("memory_object_futex_granted for a futex it did not ask for", g.getObjectId(), g.getOffset());
                    return;
                }
                futexes.onFutexGranted(e, objectsById.get(g.getObjectId()), g.getPagesList(), g.getFencingToken(),
                        g.getOwnerDied());
            }
            case MEMORY_OBJECT_FUTEX_BUSY -> {
                var b = m.getMemoryObjectFutexBusy();
                FutexEntry e = trackedFutex(b.getObjectId(), b.getOffset());
                if (e == null || e.request != FutexEntry.Request.TRY) {
                    violation("memory_object_futex_busy for a futex it did not try", b.getObjectId(), b.getOffset());
                    return;
                }
                futexes.onFutexBusy(e);
            }
            case MEMORY_OBJECT_FUTEX_PROBE -> {
                var p = m.getMemoryObjectFutexProbe();
                FutexEntry e = trackedFutex(p.getObjectId(), p.getOffset());
                if (e != null) {
                    futexes.onFutexProbe(e, p); // else the futex left meanwhile: the chain is broken
                }
            }
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> {
                var r = m.getMemoryObjectRelinquishFutex();
                FutexEntry e = trackedFutex(r.getObjectId(), r.getOffset());
                if (e == null) {
                    violation("memory_object_relinquish_futex for a futex it never asked for", r.getObjectId(), r.getOffset());
                    return;
                }
                futexes.onRelinquishFutex(e, r.getPriority());
            }
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
        MachThread thread = thread(taskId, tid, reply);
        if (thread == null) {
            return null;
        }
        if ((address & 3) != 0) {
            reply.fail(KernelError.of(Errno.EINVAL,
                    "address 0x%x is not 4-byte aligned; a futex is an aligned 32-bit word", address));
            return null;
        }
        VmMapping m = mappingAt(thread.task, address, reply);
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

    KernelError pagerError() {
        return KernelError.of(Errno.EIO, "kernel %s lost its pager (%s); restart the kernel once the pager is back",
                name, pagerLost);
    }

    private static void failAll(List<PageFault> faults, KernelError error) {
        List<PageFault> copy = new ArrayList<>(faults);
        faults.clear();
        copy.forEach(f -> f.fail(error));
    }

    /** Sends on the stream; nothing while there is none (what matters is asked again after a reclaim). */
    void send(KernelToPager m) {
        if (pagerLost != null || disconnected != null) {
            return;
        }
        stats.sent(m);
        env.send(m);
    }

    void violation(String what, int objectId, long offset) {
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
