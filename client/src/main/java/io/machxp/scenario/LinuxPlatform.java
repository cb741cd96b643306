package io.machxp.scenario;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.machxp.scenario.Scenario.ThreadSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Runs a scenario on this Linux host with nothing simulated: each scenario thread is a Linux
 * thread of this JVM, SCHED_FIFO at its scenario priority, pinned to its kernel's CPUs (kernel
 * A's cpu0 is the first CPU this process may use, then A's next CPU or B's cpu0, ...), acting on
 * futex words in native memory (one block per memory object, all kernels sharing it: one host,
 * no pager) through the real interfaces. See docs/linux-mode.md.
 *
 * <h2>Which interface a word uses</h2>
 * A word that {@link LinuxSupport#robustWords} picks (a consistent step names it, a step expects
 * EOWNERDEAD or ENOTRECOVERABLE of it, or a thread may end holding it) is a robust PI pthread
 * mutex (ERRORCHECK, PTHREAD_PRIO_INHERIT, PTHREAD_MUTEX_ROBUST) placed at the word's offset, so
 * that the word is the mutex's first int (__data.__lock); the others take raw FUTEX_LOCK_PI,
 * FUTEX_UNLOCK_PI and FUTEX_TRYLOCK_PI (private). A raw lock that returns with OWNER_DIED in the
 * word answers EOWNERDEAD, as glibc does; a raw trylock's EAGAIN and a pthread trylock's EBUSY
 * answer "busy".
 *
 * <h2>Time</h2>
 * compute is the thread's own CPU time (CLOCK_THREAD_CPUTIME_ID), spent in a busy loop, so a
 * preempted thread computes later, as in the simulator. sleep and the start times are one sleep
 * each to an absolute CLOCK_MONOTONIC time ({@link LinuxSleep}: a futex wait that a death of the
 * thread's task or the run's stop ends early); a lock's timeout is an absolute CLOCK_REALTIME time.
 *
 * <h2>Boosts</h2>
 * A thread's effective priority is read from /proc (stat field 18) by the thread itself after
 * every step and every 200us of CPU time while it computes, and by a {@link LinuxSampler} every
 * 250us on the JVM's CPUs, at SCHED_FIFO 1 so that the machine's load cannot starve it; each change is a "boost" or "deboost" event, as the simulator's kernel logs
 * them, from which the run's highest priorities come.
 *
 * <h2>The JVM's own threads</h2>
 * SCHED_FIFO threads starve ordinary threads on their CPU. So every other thread of the JVM (the
 * runner, the sampler, the GC and JIT threads) is pinned to the CPUs the scenario does not use;
 * the runner, which hands each thread its start, is SCHED_FIFO 1 there from the end of setup until
 * every start is queued (the start of {@link #runUntil}), so that the machine's other work cannot
 * delay a start past the start margin, and ordinary while it waits for the run's end and judges it;
 * when it uses all of them, Linux's RT throttling (sched_rt_runtime_us, 95% of each second) leaves
 * ordinary threads the rest. The scenario threads take no Java lock on their way (direct-mapped
 * JNA, lock-free queues and event log), so none waits for a thread it starves; and none waits on
 * the JVM's own locks for the JIT, which takes no new work during the run ({@link JitQuiet}). One linux-mode run
 * at a time per machine (a file lock in the temporary directory): two would share CPUs.
 *
 * <h2>A run that goes wrong</h2>
 * No SCHED_FIFO thread outlives its run: when the run ends ({@link #runUntil} returns, at every
 * thread's end or at the limit) or closes, {@link #stopThreads} marks it stopped and makes every
 * scenario thread still there, and the sampler, ordinary (the scenario threads free to run on
 * every CPU); a thread that set itself up
 * after that sees the stop and does so itself. A {@link LinuxWatchdog} at SCHED_FIFO 99 does the
 * same and fails the run with a sentence naming the scenario if the runner has not ended it by
 * the limit and a grace, and {@link LinuxRtTimeLimit} (RLIMIT_RTTIME) lets the kernel kill the
 * JVM behind both. A thread of an earlier run still there (a scenario thread blocked in a lock, or
 * a sampler that did not end) must be ordinary before the next run starts ({@link LinuxLeftovers}).
 * All of it goes through a {@link LinuxScheduler}, which tests replace.
 */
final class LinuxPlatform implements Platform {
    static final long SELF_SAMPLE_CPU_NANOS = 200_000;
    /** Scenario time 0 is this long after setup ends: every thread is queued by then. */
    private static final long START_MARGIN_NANOS = 20_000_000;

    private Scenario scenario;
    private EventLog log;
    WordValues values;
    Set<String> robust;
    private final List<Memory> blocks = new ArrayList<>();
    private final Map<String, Memory> objectBlocks = new HashMap<>();
    /** The scenario's threads, by name (filled by setup; tests fill it themselves). */
    final Map<String, LinuxWorker> workers = new LinkedHashMap<>();
    final Set<String> deadTasks = ConcurrentHashMap.newKeySet();
    int[] allowed;
    private int[] jvmCpus;
    private Map<String, int[]> cpuMap = Map.of();
    /** How long setup waits for the sampler's first sweeps in its loop ({@link LinuxSampler#SWEEPS_BEFORE_START}). */
    static final long SAMPLER_READY_NANOS = 5_000_000_000L;
    /**
     * How long a released scenario thread that finds no step queued keeps its CPU waiting for one
     * (0: it parks at once). Each thread runs the interpreter itself and queues its own next step,
     * so in a run that goes as written the queue is never empty while its program runs; should it
     * be, a thread that parked would let a lower priority run, which a Linux thread running its
     * program does not. So it spins up to a second, bounded also by the run's stop (before its
     * start time it parks: it must not keep the CPU from the other threads still warming up there).
     */
    private static final long STEP_SPIN_NANOS = 1_000_000_000L;
    volatile long spinNanos;
    LinuxSampler sampler;
    volatile boolean stopped;
    volatile long origin = System.nanoTime();
    private java.nio.channels.FileChannel lockFile;
    /** No JIT compilation while the scenario runs (see {@link JitQuiet}). */
    private JitQuiet jit;
    /** The runner thread is SCHED_FIFO 1 from the end of setup until every start is queued. */
    boolean runnerRealTime;
    /** The runner's TID (the thread that called setup), for the watchdog to make it ordinary. */
    volatile int runnerTid;
    private final LinuxScheduler scheduler;
    private final LinuxLeftovers leftovers;
    LinuxWatchdog watchdog;
    private LinuxRtTimeLimit rtTimeLimit;
    /**
     * The kernel's bound on a real-time thread's CPU time without blocking (RLIMIT_RTTIME), past
     * the scenario's limit: after the watchdog's grace and its wait for the runner.
     */
    static final long RT_TIME_BACKSTOP_NANOS = LinuxWatchdog.GRACE_NANOS + LinuxWatchdog.KILL_GRACE_NANOS + 10_000_000_000L;

    LinuxPlatform() {
        this(LinuxScheduler.NATIVE, LinuxLeftovers.OF_THIS_JVM);
    }

    /** With another scheduler and leftovers than the real ones: for tests. */
    LinuxPlatform(LinuxScheduler scheduler, LinuxLeftovers leftovers) {
        this.scheduler = scheduler;
        this.leftovers = leftovers;
    }

    /** One linux-mode run at a time on a machine: two would share CPUs at real-time priorities. */
    static final java.nio.file.Path MACHINE_LOCK = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"),
            "machxp-linux-mode.lock");

    /** The words that use a pthread mutex in this run (for the timeline's header). */
    Set<String> robustWords() {
        return robust;
    }

    @Override
    public void setup(Scenario s, boolean pi, EventLog log) {
        this.scenario = s;
        this.log = log;
        if (!pi) {
            throw new ScenarioException("linux mode always inherits priorities (PI futexes); --no-pi applies to sim and real only");
        }
        if (LinuxSupport.usesIpc(s)) {
            throw new NotSupportedHere(NotSupportedHere.Reason.IPC, LinuxSupport.IPC_REFUSED);
        }
        if (LinuxNative.UNAVAILABLE != null) {
            throw new NotSupportedHere(LinuxSupport.unsupported(LinuxNative.UNAVAILABLE, 0, 0, 0, 0));
        }
        allowed = LinuxCpus.allowedCpus();
        String left = leftovers.check(scheduler, allowed);
        if (left != null) {
            throw new NotSupportedHere(left);
        }
        int needed = LinuxSupport.cpusNeeded(s);
        cpuMap = LinuxSupport.cpuMap(s.kernels(), allowed);
        if (cpuMap == null) {
            throw new NotSupportedHere(NotSupportedHere.Reason.CPUS, LinuxSupport.unsupported(null, needed, allowed.length, 0, 0));
        }
        int[] scenarioCpus = cpuMap.values().stream().flatMapToInt(java.util.Arrays::stream).toArray();
        int[] probe = LinuxCpus.probe(scenarioCpus);
        String why = LinuxSupport.unsupported(null, needed, allowed.length, probe[0], probe[1]);
        if (why != null) {
            throw new NotSupportedHere(needed > allowed.length ? NotSupportedHere.Reason.CPUS : NotSupportedHere.Reason.MACHINE, why);
        }
        try {
            lockFile = java.nio.channels.FileChannel.open(MACHINE_LOCK, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE);
            try {
                java.nio.file.Files.setPosixFilePermissions(MACHINE_LOCK,
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
            } catch (IOException | UnsupportedOperationException | SecurityException notOurs) {
                // another user's lock file: usable as it is, or open failed above
            }
            lockFile.lock(); // released when the channel closes, or the process ends
        } catch (IOException e) {
            throw new NotSupportedHere("Cannot take the lock " + MACHINE_LOCK + " that keeps linux-mode runs apart ("
                    + e.getMessage() + "), so linux mode cannot run here.");
        }
        jit = JitQuiet.start();
        jvmCpus = LinuxSupport.jvmCpus(allowed, cpuMap);
        // With a spare CPU for the JVM's threads, a released thread that finds no step spins for one.
        spinNanos = jvmCpus.length < allowed.length ? STEP_SPIN_NANOS : 0;
        robust = LinuxSupport.robustWords(s);
        allocate(s);
        CountDownLatch ready = new CountDownLatch(s.threads().size());
        for (ThreadSpec t : s.threads()) {
            LinuxWorker w = new LinuxWorker(this, t, cpuMap.get(t.kernel()), ready);
            workers.put(t.name(), w);
        }
        workers.values().forEach(Thread::start);
        try {
            if (!ready.await(30, TimeUnit.SECONDS)) {
                throw new NotSupportedHere("The scenario's threads did not get ready within 30s, so linux mode cannot run here.");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NotSupportedHere("interrupted while starting the scenario's threads");
        }
        Map<Integer, String> names = new HashMap<>();
        for (LinuxWorker w : workers.values()) {
            if (w.setupErrno != 0) {
                throw new NotSupportedHere(LinuxSupport.unsupported(null, needed, allowed.length,
                        w.setupWhat.equals("sched_setscheduler") ? w.setupErrno : 0,
                        w.setupWhat.equals("sched_setaffinity") ? w.setupErrno : 0));
            }
            names.put(w.tid, w.spec.name());
            log.name(w.tid, w.spec.name());
            w.procStat = cString("/proc/self/task/" + w.tid + "/stat");
        }
        values = new WordValues(s, names);
        LinuxCpus.pinAllBut(scenarioTids(), jvmCpus);
        // Not in the middle of the run, nor of the sampler's first sweeps: a full collection stops
        // every Java thread for tens of milliseconds under load, and a sweep it stopped is followed
        // by a sleep as long (LinuxSampler.nextSample), which reached into the run.
        System.gc();
        sampler = new LinuxSampler(this, scheduler);
        sampler.start(); // pinned to the JVM's CPUs, as the runner that starts it; SCHED_FIFO 1 there
        awaitSampler();
        runnerTid = LinuxNative.gettid();
        long limit = s.limitNanos();
        rtTimeLimit = LinuxRtTimeLimit.set((limit + RT_TIME_BACKSTOP_NANOS) / 1000);
        watchdog = new LinuxWatchdog(this, scheduler, System.nanoTime() + START_MARGIN_NANOS + limit
                + LinuxWatchdog.GRACE_NANOS, LinuxWatchdog.KILL_GRACE_NANOS, s.name(), limit);
        watchdog.start(); // pinned to the JVM's CPUs, as the runner that starts it
        // The runner enqueues every thread's start right after this: late by more than the start
        // margin under a loaded machine, it would release a thread that starts later (H at 10ms)
        // before one that starts earlier (L at 0ms). So it is SCHED_FIFO 1 (below every scenario
        // thread, above every ordinary thread of the machine) until runUntil.
        runnerRealTime = scheduler.makeRealTime(1) == 0;
        origin = System.nanoTime() + START_MARGIN_NANOS;
    }


    /** One zeroed, page-aligned native block per memory object; a pthread mutex at each robust word. */
    private void allocate(Scenario s) {
        for (Map.Entry<String, Long> o : s.objects().entrySet()) {
            Memory raw = new Memory(o.getValue() + 4096);
            raw.clear();
            blocks.add(raw);
            objectBlocks.put(o.getKey(), (Memory) raw.align(4096));
        }
        Memory attr = new Memory(64);
        attr.clear();
        long a = Pointer.nativeValue(attr);
        check(LinuxNative.pthread_mutexattr_init(a), "pthread_mutexattr_init");
        check(LinuxNative.pthread_mutexattr_settype(a, LinuxNative.PTHREAD_MUTEX_ERRORCHECK), "pthread_mutexattr_settype");
        check(LinuxNative.pthread_mutexattr_setprotocol(a, LinuxNative.PTHREAD_PRIO_INHERIT), "pthread_mutexattr_setprotocol");
        check(LinuxNative.pthread_mutexattr_setrobust(a, LinuxNative.PTHREAD_MUTEX_ROBUST), "pthread_mutexattr_setrobust");
        for (String word : robust) {
            Scenario.WordSpec w = s.words().get(word);
            long size = s.objects().get(w.object());
            if (w.offset() + LinuxNative.MUTEX_SIZE > size) {
                throw new NotSupportedHere(NotSupportedHere.Reason.LAYOUT, "Word " + word + " is a robust pthread mutex in linux mode (40 bytes) and does not fit at offset "
                        + w.offset() + " of " + w.object() + ", so this scenario cannot run in linux mode.");
            }
            for (Scenario.WordSpec other : s.words().values()) {
                if (other != w && other.object().equals(w.object()) && other.offset() + 4 > w.offset()
                        && other.offset() < w.offset() + LinuxNative.MUTEX_SIZE) {
                    throw new NotSupportedHere(NotSupportedHere.Reason.LAYOUT, "Word " + other.name() + " lies inside the 40-byte robust pthread mutex that word "
                            + word + " is in linux mode, so this scenario cannot run in linux mode; move one of them.");
                }
            }
            check(LinuxNative.pthread_mutex_init(address(word), a), "pthread_mutex_init");
        }
    }

    private static void check(int rc, String what) {
        if (rc != 0) {
            throw new NotSupportedHere(what + " failed with " + LinuxSupport.errnoName(rc) + ", so linux mode cannot run here.");
        }
    }

    long address(String word) {
        Scenario.WordSpec w = scenario.words().get(word);
        return Pointer.nativeValue(objectBlocks.get(w.object())) + w.offset();
    }

    static Memory cString(String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Memory m = new Memory(b.length + 1);
        m.write(0, b, 0, b.length);
        m.setByte(b.length, (byte) 0);
        return m;
    }

    static int readPriority(Memory path, Memory buffer, byte[] bytes) {
        int fd = LinuxNative.open(Pointer.nativeValue(path), LinuxNative.O_RDONLY);
        if (fd < 0) {
            return -1;
        }
        long n = LinuxNative.read(fd, Pointer.nativeValue(buffer), bytes.length);
        LinuxNative.close(fd);
        if (n <= 0) {
            return -1;
        }
        buffer.read(0, bytes, 0, (int) n);
        return LinuxSupport.effectivePriority(bytes, (int) n);
    }

    /** A priority seen: a change is a boost or deboost event. */
    void observe(LinuxWorker w, int priority) {
        if (priority <= 0) {
            return; // unreadable, or not (yet, any more) a SCHED_FIFO thread
        }
        while (true) {
            int old = w.seen.get();
            if (old == priority) {
                return;
            }
            if (w.seen.compareAndSet(old, priority)) {
                log.add(now(), w.spec.kernel(), w.spec.name(), priority > old ? "boost" : "deboost",
                        new StringBuilder().append(old).append(" -> ").append(priority).toString());
                return;
            }
        }
    }

    /**
     * Waits (bounded) until the sampler has swept {@link LinuxSampler#SWEEPS_BEFORE_START} times in
     * its loop, real-time unless refused: as an ordinary thread on a loaded machine it could first
     * run tens of milliseconds into the run and miss a boost there (CI did). If it has not by then, the run goes
     * on: the judgement sees the stretch it missed ({@link #samplerBlind}).
     */
    private void awaitSampler() {
        long until = System.nanoTime() + SAMPLER_READY_NANOS;
        while (sampler.sweeps < LinuxSampler.SWEEPS_BEFORE_START && !sampler.ended && System.nanoTime() < until) {
            LockSupport.parkNanos(100_000);
        }
    }

    /** When the sampler saw nothing, from the run's origin, and the CPUs it shared ({@link LinuxSamplerBlind}). */
    LinuxSamplerBlind samplerBlind() {
        if (sampler == null) {
            return LinuxSamplerBlind.NONE;
        }
        List<long[]> spans = new ArrayList<>();
        for (long[] b : sampler.blind()) {
            spans.add(new long[] {b[0] - origin, b[1] - origin});
        }
        boolean shares = false;
        for (int[] cpus : cpuMap.values()) {
            for (int c : cpus) {
                for (int j : jvmCpus) {
                    shares |= c == j;
                }
            }
        }
        return new LinuxSamplerBlind(spans, shares ? jvmCpus.clone() : new int[0], Map.copyOf(cpuMap));
    }

    /** Each thread's steps, when they began and (its first, each after a sleep) were due: {@link LinuxLateness}. */
    List<LinuxLateness.Start> starts() {
        List<LinuxLateness.Start> out = new ArrayList<>();
        for (LinuxWorker w : workers.values()) {
            int n = w.performed; // volatile read first: the times below are written before it
            for (int k = 0; k < n; k++) {
                out.add(new LinuxLateness.Start(w.spec.name(), k + 1, w.stepDue[k] < 0 ? -1 : w.stepDue[k] - origin,
                        w.stepBegan[k] - origin));
            }
        }
        return out;
    }

    @Override
    public int tid(String thread) {
        return workers.get(thread).tid;
    }

    @Override
    public long now() {
        return System.nanoTime() - origin;
    }

    @Override
    public void start(String thread, long time, Runnable action) {
        workers.get(thread).enqueue(new LinuxWorker.Release(workers.get(thread), time, action));
    }

    @Override
    public void call(String thread, Step step, Consumer<Outcome> done) {
        workers.get(thread).enqueue(new LinuxWorker.Perform(workers.get(thread), step, done));
    }

    // Classes rather than lambdas: a lambda's first use links it (milliseconds, and locks), which

    private Set<Integer> scenarioTids() {
        Set<Integer> tids = new java.util.HashSet<>();
        workers.values().forEach(w -> tids.add(w.tid));
        return tids;
    }

    /**
     * Every start is queued: the runner is ordinary again, and polls (the scenario threads do not
     * wake it: that would take the runner's lock) for the end of the run, the limit or the
     * watchdog; then the run is over for its threads ({@link #stopThreads}).
     *
     * @throws LinuxRunStuck if the watchdog stopped the run first
     */
    @Override
    public boolean runUntil(BooleanSupplier finished, long limit) {
        runnerOrdinary();
        boolean completed = poll(finished, limit);
        boolean fired = watchdog != null && !watchdog.disarm();
        stopThreads();
        if (fired) {
            throw new LinuxRunStuck(watchdog.why());
        }
        return completed;
    }

    private boolean poll(BooleanSupplier finished, long limit) {
        while (!finished.getAsBoolean()) {
            if (now() > limit || (watchdog != null && watchdog.fired())) {
                return false;
            }
            LockSupport.parkNanos(1_000_000);
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
        }
        return true;
    }

    private void runnerOrdinary() {
        if (runnerRealTime) {
            runnerRealTime = false;
            scheduler.makeOrdinary(0);
        }
    }

    /**
     * The run is over for its threads: stopped (each leaves its loop after its current step, and
     * a compute, sleep or raw lock retry ends at once), and every one still there ordinary and free
     * to run on every allowed CPU, so that none that does not end (blocked in a lock, or spinning)
     * keeps a CPU at a real-time priority. A thread with no TID yet, or one that becomes real-time
     * after this, sees the stop and makes itself ordinary (LinuxWorker.run). Called by the runner
     * at the run's end and close (the watchdog does the same with calls it prepared:
     * {@link LinuxWatchdog#fire}); idempotent.
     */
    void stopThreads() {
        stopped = true;
        if (sampler != null) {
            int t = sampler.liveTid();
            if (t != 0) {
                scheduler.makeOrdinary(t);
            }
        }
        for (LinuxWorker w : workers.values()) {
            w.interruptSleep();
            LockSupport.unpark(w);
            int tid = w.tid;
            if (tid != 0 && !w.finished) { // 0 would be the caller
                scheduler.makeOrdinary(tid);
                if (allowed != null) {
                    scheduler.pin(tid, allowed);
                }
            }
        }
    }

    /** A task died: its threads' sleeps end now (each then answers ESRCH), as in the simulator. */
    void interruptSleeps(String taskKey) {
        for (LinuxWorker w : workers.values()) {
            if (w.taskKey.equals(taskKey)) {
                w.interruptSleep();
            }
        }
    }

    @Override
    public String mode() {
        return "linux";
    }

    @Override
    public void close() {
        if (watchdog != null) {
            watchdog.close();
        }
        stopThreads();
        runnerOrdinary();
        for (LinuxWorker w : workers.values()) {
            try {
                w.join(100); // one blocked in a futex forever stays (an ordinary daemon thread now)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (sampler != null) {
            try {
                sampler.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        String name = scenario == null ? "(not set up)" : scenario.name();
        for (LinuxWorker w : workers.values()) {
            if (!w.finished) { // blocked in a lock: ordinary, and checked again before the next run
                leftovers.add(name, w);
            }
        }
        if (sampler != null && !sampler.ended) { // it has not made itself ordinary: checked as they are
            leftovers.add(name, sampler);
        }
        if (allowed != null && jvmCpus != null) {
            LinuxCpus.pinAllBut(scenarioTids(), allowed);
        }
        if (rtTimeLimit != null) {
            rtTimeLimit.close();
        }
        if (jit != null) {
            jit.close();
        }
        if (lockFile != null) {
            try {
                lockFile.close();
            } catch (java.io.IOException e) {
                // the lock goes with the process anyway
            }
        }
    }

}
