package io.machxp.kernel.core;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.google.protobuf.ByteString;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataError;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectDataUnavailable;
import io.machxp.proto.xp.MemoryObjectDestroy;
import io.machxp.proto.xp.MemoryObjectFutexBusy;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A pager and the kernel's tasks, played from a fuzzer's bytes against one {@link KernelCore}:
 * the pager welcomes the kernel, makes objects ready or destroys them, and sends every
 * PagerToKernel routine with fuzzed fields - answers to what the kernel asked, and grants,
 * supplies, lock requests and relinquishes nobody asked for - interleaved with task requests
 * (task and thread creation, vm_map, futex calls, reads, writes and atomics at fuzzed addresses,
 * compute, sleep, priorities, terminations, cancelled waits) and timers firing in virtual time.
 * The {@link KernelInvariants} are checked after every step, and at the end every request must
 * have had its one answer.
 *
 * <h2>Overview</h2>
 * <pre>
 *   start        options (cache, piggyback, eviction, CPUs, PI) from the bytes; kernel_hello;
 *                usually a valid pager_welcome, then a task with two threads mapping "a"
 *   task moves   one request with a tracked reply; mostly a thread that exists and an address in
 *                the first words of a page of one of its task's mappings
 *   pager moves  answer   init (ready/destroy), page-in (supply, zero fill, error, unlock),
 *                         lock_futex (granted with or without the page, busy)
 *                ask      relinquish a granted futex, lock_request a page, a probe
 *                wild     any routine with any fields
 *   time         timers fire (lock timeouts, sleeps, the scheduler)
 *   end          the pager is lost, time runs out, every task is terminated: nothing may wait
 * </pre>
 * The pager keeps its own record of the futex requests it has not answered and the futexes it
 * has granted, and checks the kernel's messages against it: one lock_futex outstanding per
 * futex and none for a futex it holds, updates and probes only while a lock_futex is out, a
 * futex_released only for a futex the kernel holds, a lock_completed only for a lock_request
 * that asked for one.
 */
final class FuzzedPager {
    static final int PAGE = 256;
    /** What the pager serves: name -> size. */
    private static final Map<String, Long> SERVED = new LinkedHashMap<>();
    private static final String[] OBJECT_NAMES = {"a", "a", "a", "b", "b", "nope"};
    private static final int MAX_STEPS = 300;
    /** The end: long enough for every sleep, compute and timeout the bytes can ask for. */
    private static final long END_OF_TIME = 1L << 50;

    static {
        SERVED.put("a", 4L * PAGE);
        SERVED.put("b", 2L * PAGE);
    }

    private enum Move {
        TASK_CREATE, THREAD_CREATE, VM_MAP, LOCK, TRYLOCK, UNLOCK, CONSISTENT, READ, WRITE, CAS, FETCH_ADD,
        COMPUTE, SLEEP, SET_PRIORITY, THREAD_TERMINATE, TASK_TERMINATE, ABORT_WAIT,
        WELCOME, ANSWER_INIT, ANSWER_PAGE, ANSWER_LOCK, RELINQUISH, LOCK_REQUEST, PROBE, WILD,
        TIME, PAGER_LOST, SHUTDOWN
    }

    /** How often each move is drawn: futex calls and the pager's answers most. */
    private static final Move[] MOVES = {
        Move.TASK_CREATE, Move.THREAD_CREATE, Move.THREAD_CREATE, Move.VM_MAP,
        Move.LOCK, Move.LOCK, Move.LOCK, Move.LOCK, Move.TRYLOCK, Move.UNLOCK, Move.UNLOCK, Move.UNLOCK,
        Move.CONSISTENT, Move.READ, Move.WRITE, Move.WRITE, Move.CAS, Move.FETCH_ADD,
        Move.COMPUTE, Move.SLEEP, Move.SET_PRIORITY, Move.THREAD_TERMINATE, Move.TASK_TERMINATE, Move.ABORT_WAIT,
        Move.WELCOME, Move.ANSWER_INIT, Move.ANSWER_INIT, Move.ANSWER_PAGE, Move.ANSWER_PAGE, Move.ANSWER_PAGE,
        Move.ANSWER_PAGE, Move.ANSWER_LOCK, Move.ANSWER_LOCK, Move.ANSWER_LOCK, Move.ANSWER_LOCK,
        Move.RELINQUISH, Move.RELINQUISH, Move.LOCK_REQUEST, Move.LOCK_REQUEST, Move.PROBE, Move.WILD, Move.WILD,
        Move.TIME, Move.TIME, Move.PAGER_LOST, Move.SHUTDOWN,
    };

    /** A futex as the pager names it: the kernel's object id and the offset. */
    private record Key(int objectId, long offset) {}

    /** A mapping of a task. */
    private record Mapped(long task, VmMapping mapping) {}

    private final FuzzedDataProvider data;
    final FakeKernelEnv env = new FakeKernelEnv();
    final KernelCore core;
    final KernelInvariants invariants;

    // ---- the tasks' side ----------------------------------------------------------------------
    private final List<Long> tasks = new ArrayList<>();
    private final List<MachThread> threads = new ArrayList<>();
    private final List<Mapped> mappings = new ArrayList<>();
    /** The last lock call of each thread, to cancel. */
    private final Map<Integer, Reply<?>> lastLock = new HashMap<>();

    // ---- the pager's side ---------------------------------------------------------------------
    /** Objects the kernel initialized and the pager has not answered: id -> name. */
    private final Map<Integer, String> initializing = new LinkedHashMap<>();
    /** Objects the pager made ready: id -> size. */
    private final Map<Integer, Long> ready = new LinkedHashMap<>();
    /** data_request and data_unlock not answered yet, oldest first. */
    private final List<KernelToPager> pageIns = new ArrayList<>();
    /** lock_futex not answered yet -> whether it was a try. */
    private final Map<Key, Boolean> asked = new LinkedHashMap<>();
    /** Futexes the kernel holds, as far as the pager knows. */
    private final Set<Key> granted = new HashSet<>();
    /**
     * The fencing token of the last grant the kernel took for each futex: a grant whose token is
     * not above it (unsigned; 0 for none yet) the kernel drops (xp-spec A.18), and its lock stays out.
     */
    private final Map<Key, Long> tokens = new HashMap<>();
    private final Set<Integer> initialized = new HashSet<>();
    /** What was played, for the failure message. */
    private final List<Supplier<String>> history = new ArrayList<>();

    FuzzedPager(FuzzedDataProvider data) {
        this.data = data;
        CoreOptions options = new CoreOptions(data.consumeInt(0, 3) != 0, data.consumeBoolean(),
                data.consumeInt(0, 7) == 0 ? data.consumeInt(1, 3) : 0, data.consumeInt(1, 2), data.consumeInt(0, 3) != 0);
        history.add(() -> "options " + options);
        core = new KernelCore("k", env, new KernelStats(), options);
        invariants = new KernelInvariants(core);
    }

    /**
     * Plays the input to its end (or MAX_STEPS), checking the invariants after every step, then
     * ends everything and checks that every request was answered once. A failure, or an exception
     * out of the core, is rethrown with the steps that led to it.
     */
    void run() {
        try {
            core.xp().start();
            heard();
            if (data.consumeInt(0, 15) != 0) {
                xp(welcome(1 + data.consumeInt(0, 2), PAGE));
                if (data.consumeInt(0, 7) != 0) {
                    boot();
                }
            }
            for (int step = 0; step < MAX_STEPS && data.remainingBytes() > 0; step++) {
                play(data.pickValue(MOVES));
            }
            end();
        } catch (AssertionError | RuntimeException e) {
            StringBuilder b = new StringBuilder();
            history.forEach(h -> b.append("  ").append(h.get()).append('\n'));
            throw new AssertionError(e.getMessage() + "\nafter these steps:\n" + b, e);
        }
    }

    /** A task with two threads that maps "a", made ready: where most inputs start. */
    private void boot() {
        taskCreate();
        threadCreate(plausibleTask(), data.consumeInt(1, 99));
        threadCreate(plausibleTask(), data.consumeInt(1, 99));
        vmMap(plausibleTask(), "a");
        answerInit();
    }

    private void play(Move move) {
        switch (move) {
            case TASK_CREATE -> taskCreate();
            case THREAD_CREATE -> threadCreate(task(), plausible() ? data.consumeInt(1, 99) : data.consumeInt(-1, 100));
            case VM_MAP -> vmMap(task(), plausible() ? data.pickValue(OBJECT_NAMES) : data.consumeAsciiString(4));
            case LOCK -> {
                MachThread t = thread();
                long address = address(t);
                long timeout = data.consumeInt(0, 3) == 0 ? data.consumeLong(0, 1_000_000_000L) : -1;
                Reply<Acquired> r = track("vm_lock_futex(" + t.tid + ", 0x" + Long.toHexString(address)
                        + ", timeout " + timeout + ")");
                lastLock.put(t.tid, r);
                call(() -> core.vmLockFutex(t.task.id, t.tid, address, timeout, r));
            }
            case TRYLOCK -> {
                MachThread t = thread();
                long address = address(t);
                Reply<Acquired> r = track("vm_trylock_futex(" + t.tid + ", 0x" + Long.toHexString(address) + ")");
                lastLock.put(t.tid, r);
                call(() -> core.vmTrylockFutex(t.task.id, t.tid, address, r));
            }
            case UNLOCK -> {
                MachThread t = thread();
                long address = address(t);
                Reply<Void> r = track("vm_unlock_futex(" + t.tid + ", 0x" + Long.toHexString(address) + ")");
                call(() -> core.vmUnlockFutex(t.task.id, t.tid, address, r));
            }
            case CONSISTENT -> {
                MachThread t = thread();
                long address = address(t);
                Reply<Void> r = track("vm_futex_consistent(" + t.tid + ", 0x" + Long.toHexString(address) + ")");
                call(() -> core.vmFutexConsistent(t.task.id, t.tid, address, r));
            }
            case READ -> {
                MachThread t = thread();
                long address = address(t);
                int length = plausible() ? data.consumeInt(1, 2 * PAGE) : data.consumeInt();
                Reply<byte[]> r = track("vm_read(task " + t.task.id + ", 0x" + Long.toHexString(address) + ", " + length + ")");
                call(() -> core.vmRead(t.task.id, address, length, r));
            }
            case WRITE -> {
                MachThread t = thread();
                long address = address(t);
                byte[] bytes = data.consumeBytes(plausible() ? data.consumeInt(1, 2 * PAGE) : data.consumeInt(0, 3));
                Reply<Void> r = track("vm_write(task " + t.task.id + ", 0x" + Long.toHexString(address) + ", "
                        + bytes.length + " bytes)");
                call(() -> core.vmWrite(t.task.id, address, bytes, r));
            }
            case CAS -> {
                MachThread t = thread();
                long address = address(t);
                int width = plausible() ? data.pickValue(new int[] {4, 8}) : data.consumeInt();
                long expected = data.consumeLong();
                long next = data.consumeLong();
                Reply<CasResult> r = track("vm_compare_and_swap(task " + t.task.id + ", 0x" + Long.toHexString(address)
                        + ", " + width + ")");
                call(() -> core.vmCompareAndSwap(t.task.id, address, width, expected, next, r));
            }
            case FETCH_ADD -> {
                MachThread t = thread();
                long address = address(t);
                int width = plausible() ? data.pickValue(new int[] {4, 8}) : data.consumeInt();
                long delta = data.consumeLong();
                Reply<Long> r = track("vm_fetch_add(task " + t.task.id + ", 0x" + Long.toHexString(address) + ", " + width + ")");
                call(() -> core.vmFetchAdd(t.task.id, address, width, delta, r));
            }
            case COMPUTE -> {
                MachThread t = thread();
                long nanos = duration();
                Reply<Void> r = track("thread_compute(" + t.tid + ", " + nanos + ")");
                call(() -> core.threadCompute(t.task.id, t.tid, nanos, r));
            }
            case SLEEP -> {
                MachThread t = thread();
                long nanos = duration();
                Reply<Void> r = track("thread_sleep(" + t.tid + ", " + nanos + ")");
                call(() -> core.threadSleep(t.task.id, t.tid, nanos, r));
            }
            case SET_PRIORITY -> {
                MachThread t = thread();
                int priority = plausible() ? data.consumeInt(1, 99) : data.consumeInt();
                Reply<Void> r = track("thread_set_priority(" + t.tid + ", " + priority + ")");
                call(() -> core.threadSetPriority(t.task.id, t.tid, priority, r));
            }
            case THREAD_TERMINATE -> {
                MachThread t = thread();
                Reply<Void> r = track("thread_terminate(" + t.tid + ")");
                call(() -> core.threadTerminate(t.task.id, t.tid, r));
            }
            case TASK_TERMINATE -> {
                long task = task();
                Reply<Void> r = track("task_terminate(" + task + ")");
                call(() -> core.taskTerminate(task, "fuzzed", r));
            }
            case ABORT_WAIT -> {
                MachThread t = thread();
                Reply<?> call = lastLock.get(t.tid);
                if (call != null) {
                    history.add(() -> "abortWait(" + t.tid + ")");
                    core.abortWait(t.task.id, t.tid, call);
                    heard();
                    check();
                }
            }
            case WELCOME -> xp(plausible() ? welcome(1 + data.consumeInt(0, 2), PAGE)
                    : welcome(data.consumeInt(), data.pickValue(new int[] {0, 100, PAGE, 1 << 30, data.consumeInt()})));
            case ANSWER_INIT -> answerInit();
            case ANSWER_PAGE -> answerPage();
            case ANSWER_LOCK -> answerLock();
            case RELINQUISH -> {
                Key k = plausible() && !granted.isEmpty() ? data.pickValue(new ArrayList<>(granted)) : futex();
                xp(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                        .setObjectId(k.objectId()).setOffset(k.offset())
                        .setPriority(plausible() ? data.consumeInt(0, 99) : data.consumeInt())).build());
            }
            case LOCK_REQUEST -> {
                int id = objectId();
                boolean flush = data.consumeBoolean();
                xp(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                        .setObjectId(id).setOffset(pageOffset(id)).setLength(PAGE)
                        .setShouldReturnValue(plausible() ? data.consumeInt(0, 2) : data.consumeInt())
                        .setShouldFlush(flush)
                        .setLockValueValue(plausible() ? (flush || data.consumeBoolean() ? 0 : 2) : data.consumeInt())
                        .setReply(data.consumeInt(0, 3) != 0)).build());
            }
            case PROBE -> {
                Key k = plausible() && !asked.isEmpty() ? data.pickValue(new ArrayList<>(asked.keySet())) : futex();
                int initiator = plausible() && !threads.isEmpty() ? data.pickValue(threads).tid : data.consumeInt();
                xp(PagerToKernel.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                        .setObjectId(k.objectId()).setOffset(k.offset()).setInitiator(initiator)
                        .setWait(data.consumeInt(0, 5)).setHops(data.consumeInt(0, 3))).build());
            }
            case WILD -> xp(wild());
            case TIME -> {
                long nanos = data.consumeLong(0, 50_000_000L);
                history.add(() -> "advance " + nanos + " ns");
                env.advance(nanos);
                heard();
                check();
            }
            case PAGER_LOST -> {
                if (data.consumeInt(0, 3) == 0) {
                    history.add(() -> "onPagerLost");
                    core.xp().onPagerLost(0, "fuzzed");
                    heard();
                    check();
                }
            }
            case SHUTDOWN -> {
                if (data.consumeInt(0, 3) == 0) {
                    history.add(() -> "shutdown");
                    core.xp().shutdown();
                    heard();
                    check();
                }
            }
        }
    }

    /** The pager goes, time runs out, every task ends: then no request may be left unanswered. */
    private void end() {
        history.add(() -> "end: onPagerLost, advance to the end of time, task_terminate every task");
        core.xp().onPagerLost(0, "the input ended");
        env.advance(END_OF_TIME);
        for (long task : List.copyOf(tasks)) {
            Reply<Void> r = track("task_terminate(" + task + ") at the end");
            core.taskTerminate(task, "the input ended", r);
        }
        env.advance(END_OF_TIME);
        check();
        invariants.allAnswered();
    }

    // ---- the tasks ----------------------------------------------------------------------------

    private void taskCreate() {
        Reply<MachTask> r = track("task_create", task -> tasks.add(task.id));
        call(() -> core.taskCreate("t", r));
    }

    private void threadCreate(long task, int priority) {
        Reply<MachThread> r = track("thread_create(task " + task + ", priority " + priority + ")", threads::add);
        call(() -> core.threadCreate(task, priority, r));
    }

    private void vmMap(long task, String object) {
        Reply<VmMapping> r = track("vm_map(task " + task + ", " + object + ")", m -> mappings.add(new Mapped(task, m)));
        call(() -> core.vmMap(task, object, r));
    }

    /** A task request: its reply is tracked; then the kernel's messages and the invariants. */
    private void call(Runnable request) {
        request.run();
        heard();
        check();
    }

    private <T> Reply<T> track(String what) {
        return track(what, v -> { });
    }

    private <T> Reply<T> track(String what, Consumer<T> onValue) {
        history.add(() -> what);
        return invariants.track(what, onValue);
    }

    private long plausibleTask() {
        return tasks.isEmpty() ? 1 : tasks.get(tasks.size() - 1);
    }

    private long task() {
        if (!tasks.isEmpty() && plausible()) {
            return data.pickValue(tasks);
        }
        return data.consumeBoolean() ? data.consumeLong(0, 3) : data.consumeLong();
    }

    /** Mostly a thread that exists (or existed); else a made-up one of a task that may exist. */
    private MachThread thread() {
        if (!threads.isEmpty() && plausible()) {
            return data.pickValue(threads);
        }
        return new MachThread(data.consumeInt(), new MachTask(task(), "made up"));
    }

    /** Mostly one of the first words of a page of a mapping of the thread's task; else wild. */
    private long address(MachThread t) {
        List<Mapped> own = mappings.stream().filter(m -> m.task() == t.task.id).toList();
        List<Mapped> from = own.isEmpty() ? mappings : own;
        if (from.isEmpty()) {
            return data.consumeLong();
        }
        VmMapping m = data.pickValue(from).mapping();
        long pages = Math.max(1, m.size() / PAGE);
        if (plausible()) {
            return m.start() + PAGE * data.consumeLong(0, pages - 1) + 4L * data.consumeInt(0, 3);
        }
        return switch (data.consumeInt(0, 5)) {
            case 0 -> m.start() - 4;
            case 1 -> m.end();
            case 2 -> m.start() + data.consumeInt(1, 3);
            case 3 -> m.end() - 4;
            case 4 -> m.start() + data.consumeLong(0, m.size());
            default -> data.consumeLong();
        };
    }

    private long duration() {
        if (plausible()) {
            return data.consumeLong(0, 20_000_000L);
        }
        return data.consumeBoolean() ? -1 : data.consumeLong(0, 1_000_000_000_000L);
    }

    // ---- the pager ----------------------------------------------------------------------------

    private PagerToKernel welcome(int kernelId, int pageSize) {
        return PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(kernelId)
                .setPageSize(pageSize).setPagerName("p")).build();
    }

    /** memory_object_ready (usually) or _destroy for the oldest init not answered. */
    private void answerInit() {
        if (initializing.isEmpty()) {
            return;
        }
        int id = plausible() ? initializing.keySet().iterator().next() : data.pickValue(new ArrayList<>(initializing.keySet()));
        String name = initializing.remove(id);
        Long size = SERVED.get(name);
        if (size == null || data.consumeInt(0, 15) == 0) {
            xp(PagerToKernel.newBuilder().setMemoryObjectDestroy(MemoryObjectDestroy.newBuilder().setObjectId(id)
                    .setReason("fuzzed")).build());
            return;
        }
        long sent = plausible() ? size : data.pickValue(new long[] {0, size + 1, -PAGE, 1L << 40, data.consumeLong()});
        xp(PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder().setObjectId(id)
                .setSize(sent).setMayCache(true)).build());
        VmObject o = core.objects.object(id);
        if (o != null && o.state == VmObject.State.READY) {
            ready.put(id, o.size);
        } else if (o != null) {
            initializing.put(id, name); // refused: it can still be answered
        }
    }

    /** The oldest page-in (usually): data, zero fill, or an error; an unlock: write access. */
    private void answerPage() {
        if (pageIns.isEmpty()) {
            return;
        }
        KernelToPager m = pageIns.remove(plausible() ? 0 : data.consumeInt(0, pageIns.size() - 1));
        if (m.hasMemoryObjectDataUnlock()) {
            var u = m.getMemoryObjectDataUnlock();
            if (plausible()) {
                xp(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                        .setObjectId(u.getObjectId()).setOffset(u.getOffset()).setLength(u.getLength())
                        .setShouldReturn(ReturnPolicy.RETURN_NONE).setLockValue(VmProt.VM_PROT_NONE)).build());
            } else {
                supply(u.getObjectId(), u.getOffset(), VmProt.VM_PROT_NONE);
            }
            return;
        }
        var r = m.getMemoryObjectDataRequest();
        boolean write = r.getDesiredAccess() == VmProt.VM_PROT_READ_WRITE;
        VmProt lock = write == plausible() ? VmProt.VM_PROT_NONE : VmProt.VM_PROT_WRITE;
        switch (data.consumeInt(0, 7)) {
            case 0 -> xp(PagerToKernel.newBuilder().setMemoryObjectDataError(MemoryObjectDataError.newBuilder()
                    .setObjectId(r.getObjectId()).setOffset(r.getOffset()).setLength(r.getLength())
                    .setReason("fuzzed")).build());
            case 1, 2, 3 -> xp(PagerToKernel.newBuilder().setMemoryObjectDataUnavailable(MemoryObjectDataUnavailable
                    .newBuilder().setObjectId(r.getObjectId()).setOffset(r.getOffset()).setLength(r.getLength())
                    .setLockValue(lock)).build());
            default -> supply(r.getObjectId(), r.getOffset(), lock);
        }
    }

    private void supply(int objectId, long offset, VmProt lock) {
        xp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(objectId).setOffset(offset).setData(pageData()).setLockValue(lock)).build());
    }

    /** An outstanding lock_futex: granted (perhaps with its page), or busy if it was a try. */
    private void answerLock() {
        if (asked.isEmpty()) {
            return;
        }
        Key k = data.pickValue(new ArrayList<>(asked.keySet()));
        if (asked.get(k) && data.consumeBoolean()) {
            xp(PagerToKernel.newBuilder().setMemoryObjectFutexBusy(MemoryObjectFutexBusy.newBuilder()
                    .setObjectId(k.objectId()).setOffset(k.offset())).build());
            return;
        }
        MemoryObjectFutexGranted.Builder g = MemoryObjectFutexGranted.newBuilder().setObjectId(k.objectId())
                .setOffset(k.offset()).setOwnerDied(data.consumeInt(0, 7) == 0)
                .setFencingToken(tokens.getOrDefault(k, 0L) + 1); // growing, as a pager's do
        if (data.consumeBoolean()) {
            g.addPages(PageData.newBuilder().setOffset(k.offset() - k.offset() % PAGE).setData(pageData()));
        }
        xp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(g).build());
    }

    /** Any routine, any fields: mostly ids and offsets the kernel knows, with wrong sizes and values. */
    private PagerToKernel wild() {
        PagerToKernel.Builder m = PagerToKernel.newBuilder();
        Key k = futex();
        int id = k.objectId();
        switch (data.consumeInt(0, 11)) {
            case 0 -> m.setPagerWelcome(PagerWelcome.newBuilder().setKernelId(data.consumeInt()).setPageSize(data.consumeInt()));
            case 1 -> m.setMemoryObjectReady(MemoryObjectReady.newBuilder().setObjectId(settledObjectId())
                    .setSize(data.consumeLong()));
            case 2 -> m.setMemoryObjectDestroy(MemoryObjectDestroy.newBuilder().setObjectId(settledObjectId())
                    .setReason("fuzzed"));
            case 3 -> m.setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder().setObjectId(id)
                    .setOffset(pageOffset(id)).setData(ByteString.copyFrom(data.consumeBytes(data.pickValue(
                            new int[] {0, 1, PAGE - 1, PAGE + 1, 2 * PAGE, 3 * PAGE, PAGE}))))
                    .setLockValueValue(data.consumeInt(0, 3)));
            case 4 -> m.setMemoryObjectDataUnavailable(MemoryObjectDataUnavailable.newBuilder().setObjectId(id)
                    .setOffset(pageOffset(id)).setLength(data.consumeBoolean() ? PAGE * data.consumeLong(0, 8) : data.consumeLong())
                    .setLockValueValue(data.consumeInt(0, 3)));
            case 5 -> m.setMemoryObjectDataError(MemoryObjectDataError.newBuilder().setObjectId(id)
                    .setOffset(pageOffset(id)).setLength(data.consumeLong()).setReason("fuzzed"));
            case 6 -> {
                MemoryObjectFutexGranted.Builder g = MemoryObjectFutexGranted.newBuilder().setObjectId(id)
                        .setOffset(k.offset()).setOwnerDied(data.consumeBoolean()).setFencingToken(data.consumeLong());
                for (int n = data.consumeInt(0, 2); n > 0; n--) {
                    g.addPages(PageData.newBuilder().setOffset(pageOffset(id)).setDirty(data.consumeBoolean())
                            .setData(data.consumeBoolean() ? pageData()
                                    : ByteString.copyFrom(data.consumeBytes(data.consumeInt(0, 2 * PAGE)))));
                }
                m.setMemoryObjectFutexGranted(g);
            }
            case 7 -> m.setMemoryObjectFutexBusy(MemoryObjectFutexBusy.newBuilder().setObjectId(id).setOffset(k.offset()));
            case 8 -> m.setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder().setObjectId(id)
                    .setOffset(k.offset()).setPriority(data.consumeInt()));
            case 9 -> m.setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder().setObjectId(id)
                    .setOffset(pageOffset(id)).setLength(data.consumeLong()).setShouldReturnValue(data.consumeInt())
                    .setShouldFlush(data.consumeBoolean()).setLockValueValue(data.consumeInt()).setReply(data.consumeBoolean()));
            case 10 -> m.setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder().setObjectId(id).setOffset(k.offset())
                    .setInitiator(data.consumeInt()).setWait(data.consumeLong()).setHops(data.consumeInt()));
            default -> { } // no routine
        }
        return m.build();
    }

    /** An object id the pager has already answered for (or an unknown one): a ready/destroy it cannot mean. */
    private int settledObjectId() {
        return !ready.isEmpty() && plausible() ? data.pickValue(new ArrayList<>(ready.keySet())) : data.consumeInt(100, 1 << 20);
    }

    /** Sends one message to the kernel, keeping the pager's record of futexes up to date. */
    private void xp(PagerToKernel m) {
        history.add(() -> "onXp(" + shortly(m) + ")");
        invariants.expectCompletion(m);
        if (m.hasMemoryObjectFutexGranted()) {
            Key k = new Key(m.getMemoryObjectFutexGranted().getObjectId(), m.getMemoryObjectFutexGranted().getOffset());
            long token = m.getMemoryObjectFutexGranted().getFencingToken();
            long last = tokens.getOrDefault(k, 0L);
            boolean grows = last == 0 || Long.compareUnsigned(token, last) > 0;
            if (grows && asked.remove(k) != null) { // else the kernel must refuse it
                granted.add(k);
                tokens.put(k, token);
            }
        } else if (m.hasMemoryObjectFutexBusy()) {
            Key k = new Key(m.getMemoryObjectFutexBusy().getObjectId(), m.getMemoryObjectFutexBusy().getOffset());
            if (Boolean.TRUE.equals(asked.get(k))) { // else the kernel must refuse it
                asked.remove(k);
            }
        }
        core.xp().onXp(m);
        heard();
        check();
    }

    private static String shortly(com.google.protobuf.Message m) {
        String s = m.toString().replace('\n', ' ').replaceAll(" +", " ");
        s = s.isBlank() ? "(no routine)" : s;
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    /** What the kernel sent since the last look, checked against the pager's record and recorded. */
    private void heard() {
        for (KernelToPager m : env.drain()) {
            history.add(() -> "  kernel sent " + shortly(m));
            invariants.heard(m);
            switch (m.getRoutineCase()) {
                case MEMORY_OBJECT_INIT -> {
                    if (!initialized.add(m.getMemoryObjectInit().getObjectId())) {
                        throw new AssertionError("the kernel initialized object id " + m.getMemoryObjectInit().getObjectId()
                                + " twice");
                    }
                    initializing.put(m.getMemoryObjectInit().getObjectId(), m.getMemoryObjectInit().getName());
                }
                case MEMORY_OBJECT_DATA_REQUEST, MEMORY_OBJECT_DATA_UNLOCK -> pageIns.add(m);
                case MEMORY_OBJECT_LOCK_FUTEX -> {
                    var l = m.getMemoryObjectLockFutex();
                    Key k = new Key(l.getObjectId(), l.getOffset());
                    if (l.getUpdate()) {
                        if (!Boolean.FALSE.equals(asked.get(k))) {
                            throw new AssertionError("a lock_futex update for " + k + ", which has no lock_futex out");
                        }
                    } else if (asked.containsKey(k) || granted.contains(k)) {
                        throw new AssertionError("a second lock_futex for " + k + ", which the kernel "
                                + (granted.contains(k) ? "holds" : "has asked for already"));
                    } else {
                        asked.put(k, l.getTry());
                    }
                }
                case MEMORY_OBJECT_FUTEX_RELEASED -> {
                    var r = m.getMemoryObjectFutexReleased();
                    Key k = new Key(r.getObjectId(), r.getOffset());
                    if (!granted.remove(k)) {
                        throw new AssertionError("futex_released for " + k + ", which the kernel does not hold");
                    }
                    if (r.getRequestAgain()) {
                        asked.put(k, false); // asked again inside the release, as a lock_futex would
                    }
                }
                case MEMORY_OBJECT_FUTEX_PROBE -> {
                    var p = m.getMemoryObjectFutexProbe();
                    Key k = new Key(p.getObjectId(), p.getOffset());
                    if (!Boolean.FALSE.equals(asked.get(k))) {
                        throw new AssertionError("a futex_probe for " + k + ", which has no lock_futex out");
                    }
                }
                default -> { }
            }
        }
    }

    private void check() {
        invariants.check(tasks);
    }

    // ---- fields -------------------------------------------------------------------------------

    /** Seven times in eight: the field is drawn to get past validation. */
    private boolean plausible() {
        return data.consumeInt(0, 7) != 0;
    }

    /** An object the pager made ready (mostly), or any id. */
    private int objectId() {
        if (!ready.isEmpty() && plausible()) {
            return data.pickValue(new ArrayList<>(ready.keySet()));
        }
        return data.consumeBoolean() ? data.consumeInt(0, 4) : data.consumeInt();
    }

    /** The object's size for drawing offsets: that of "a" if unknown, at least a page. */
    private long sizeOf(int objectId) {
        return Math.max(PAGE, ready.getOrDefault(objectId, SERVED.get("a")));
    }

    private long pageOffset(int objectId) {
        long size = sizeOf(objectId);
        return plausible() ? PAGE * data.consumeLong(0, size / PAGE - 1) : wildOffset(size);
    }

    /** A futex the kernel asked for or holds (mostly), else one of the first words of a page, or wild. */
    private Key futex() {
        if (plausible()) {
            List<Key> known = new ArrayList<>(asked.keySet());
            known.addAll(granted);
            if (!known.isEmpty() && data.consumeBoolean()) {
                return data.pickValue(known);
            }
        }
        int id = objectId();
        long size = sizeOf(id);
        return new Key(id, plausible() ? PAGE * data.consumeLong(0, size / PAGE - 1) + 4L * data.consumeInt(0, 3)
                : wildOffset(size));
    }

    private long wildOffset(long size) {
        return switch (data.consumeInt(0, 6)) {
            case 0 -> size;
            case 1 -> size - 2;
            case 2 -> -PAGE;
            case 3 -> data.consumeLong() & -PAGE;
            case 4 -> PAGE * (long) data.consumeInt(0, 3) + data.consumeInt(1, 3);
            case 5 -> data.consumeLong(0, size - 1);
            default -> data.consumeLong();
        };
    }

    /** One page of one byte value. */
    private ByteString pageData() {
        byte[] page = new byte[PAGE];
        Arrays.fill(page, data.consumeByte());
        return ByteString.copyFrom(page);
    }
}
