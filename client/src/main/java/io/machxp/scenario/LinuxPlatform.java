package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CLOCK_MONOTONIC;
import static io.machxp.scenario.LinuxNative.CLOCK_REALTIME;
import static io.machxp.scenario.LinuxNative.CLOCK_THREAD_CPUTIME_ID;
import static io.machxp.scenario.LinuxNative.CPUSET_BYTES;
import static io.machxp.scenario.LinuxNative.FUTEX_LOCK_PI;
import static io.machxp.scenario.LinuxNative.FUTEX_PRIVATE_FLAG;
import static io.machxp.scenario.LinuxNative.FUTEX_TRYLOCK_PI;
import static io.machxp.scenario.LinuxNative.FUTEX_UNLOCK_PI;
import static io.machxp.scenario.LinuxNative.SYS_FUTEX;
import static io.machxp.scenario.LinuxNative.TIMER_ABSTIME;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.machxp.scenario.Scenario.ThreadSpec;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * preempted thread computes later, as in the simulator. sleep and the start times are
 * clock_nanosleep on CLOCK_MONOTONIC; a lock's timeout is an absolute CLOCK_REALTIME time.
 *
 * <h2>Boosts</h2>
 * A thread's effective priority is read from /proc (stat field 18) by the thread itself after
 * every step and every 200us of CPU time while it computes, and by a sampler thread every 250us
 * on the JVM's CPUs; each change is a "boost" or "deboost" event, as the simulator's kernel logs
 * them, from which the run's highest priorities come.
 *
 * <h2>The JVM's own threads</h2>
 * SCHED_FIFO threads starve ordinary threads on their CPU. So every other thread of the JVM (the
 * runner, the sampler, the GC and JIT threads) is pinned to the CPUs the scenario does not use;
 * when it uses all of them, Linux's RT throttling (sched_rt_runtime_us, 95% of each second) leaves
 * ordinary threads the rest. The scenario threads take no Java lock on their way (direct-mapped
 * JNA, lock-free queues and event log), so none waits for a thread it starves; and none waits on
 * the JVM's own locks for the JIT, which takes no new work during the run ({@link JitQuiet}). One linux-mode run
 * at a time per machine (a file lock in the temporary directory): two would share CPUs.
 */
final class LinuxPlatform implements Platform {
    private static final long SELF_SAMPLE_CPU_NANOS = 200_000;
    private static final long SAMPLER_PERIOD_NANOS = 250_000;
    private static final long SLEEP_SLICE_NANOS = 5_000_000;
    /** Scenario time 0 is this long after setup ends: every thread is queued by then. */
    private static final long START_MARGIN_NANOS = 20_000_000;

    private Scenario scenario;
    private EventLog log;
    private WordValues values;
    private Set<String> robust;
    private final List<Memory> blocks = new ArrayList<>();
    private final Map<String, Memory> objectBlocks = new HashMap<>();
    private final Map<String, Worker> workers = new LinkedHashMap<>();
    private final Set<String> deadTasks = ConcurrentHashMap.newKeySet();
    private int[] allowed;
    private int[] jvmCpus;
    /**
     * How long a scenario thread keeps its CPU waiting for the runner's next step (0: it parks at
     * once). The runner is an ordinary thread on a CPU it shares with the JIT and GC threads (and
     * whatever else the machine runs), so its answer can take milliseconds; a thread that parked
     * meanwhile would let a lower priority run, which a Linux thread running its program does
     * not. So once released it spins up to a second, far beyond any delay seen (before its start
     * time it parks: it must not keep the CPU from the other threads still warming up there).
     */
    private static final long STEP_SPIN_NANOS = 1_000_000_000L;
    private volatile long spinNanos;
    private Thread sampler;
    private volatile boolean stopped;
    private volatile long origin = System.nanoTime();
    private java.nio.channels.FileChannel lockFile;
    /** No JIT compilation while the scenario runs (see {@link JitQuiet}). */
    private JitQuiet jit;

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
        if (LinuxNative.UNAVAILABLE != null) {
            throw new NotSupportedHere(LinuxSupport.unsupported(LinuxNative.UNAVAILABLE, 0, 0, 0, 0));
        }
        allowed = allowedCpus();
        int needed = LinuxSupport.cpusNeeded(s);
        Map<String, int[]> cpuMap = LinuxSupport.cpuMap(s.kernels(), allowed);
        if (cpuMap == null) {
            throw new NotSupportedHere(LinuxSupport.unsupported(null, needed, allowed.length, 0, 0));
        }
        int[] scenarioCpus = cpuMap.values().stream().flatMapToInt(java.util.Arrays::stream).toArray();
        int[] probe = probe(scenarioCpus);
        String why = LinuxSupport.unsupported(null, needed, allowed.length, probe[0], probe[1]);
        if (why != null) {
            throw new NotSupportedHere(why);
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
        // With a CPU of its own for the runner, a scenario thread keeps its CPU between steps.
        spinNanos = jvmCpus.length < allowed.length ? STEP_SPIN_NANOS : 0;
        robust = LinuxSupport.robustWords(s);
        allocate(s);
        CountDownLatch ready = new CountDownLatch(s.threads().size());
        for (ThreadSpec t : s.threads()) {
            Worker w = new Worker(t, cpuMap.get(t.kernel()), ready);
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
        for (Worker w : workers.values()) {
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
        pinJvmThreads(jvmCpus);
        sampler = new Thread(this::sample, "linux-priority-sampler");
        sampler.setDaemon(true);
        sampler.start();
        System.gc(); // not in the middle of the run
        origin = System.nanoTime() + START_MARGIN_NANOS;
    }

    /** The CPUs this process may run on (its affinity mask), ascending. */
    private static int[] allowedCpus() {
        Memory mask = new Memory(CPUSET_BYTES);
        mask.clear();
        if (LinuxNative.sched_getaffinity(0, CPUSET_BYTES, Pointer.nativeValue(mask)) != 0) {
            int n = Runtime.getRuntime().availableProcessors();
            return java.util.stream.IntStream.range(0, n).toArray();
        }
        List<Integer> cpus = new ArrayList<>();
        for (int i = 0; i < CPUSET_BYTES * 8; i++) {
            if ((mask.getByte(i / 8) & (1 << (i % 8))) != 0) {
                cpus.add(i);
            }
        }
        return cpus.stream().mapToInt(Integer::intValue).toArray();
    }

    private static Memory cpuSet(int[] cpus) {
        Memory mask = new Memory(CPUSET_BYTES);
        mask.clear();
        for (int c : cpus) {
            mask.setByte(c / 8, (byte) (mask.getByte(c / 8) | (1 << (c % 8))));
        }
        return mask;
    }

    /** Tries, on a thread of its own, the pinning and SCHED_FIFO the run needs: {fifo errno, affinity errno}. */
    private static int[] probe(int[] cpus) {
        int[] errnos = new int[2];
        Memory mask = cpuSet(cpus);
        Memory param = new Memory(4);
        param.setInt(0, 1);
        Thread t = new Thread(() -> {
            if (LinuxNative.sched_setaffinity(0, CPUSET_BYTES, Pointer.nativeValue(mask)) != 0) {
                errnos[1] = LinuxNative.errno();
            }
            if (LinuxNative.sched_setscheduler(0, LinuxNative.SCHED_FIFO, Pointer.nativeValue(param)) != 0) {
                errnos[0] = LinuxNative.errno();
            }
        }, "linux-probe");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return errnos;
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
                throw new NotSupportedHere("Word " + word + " is a robust pthread mutex in linux mode (40 bytes) and does not fit at offset "
                        + w.offset() + " of " + w.object() + ", so this scenario cannot run in linux mode.");
            }
            for (Scenario.WordSpec other : s.words().values()) {
                if (other != w && other.object().equals(w.object()) && other.offset() + 4 > w.offset()
                        && other.offset() < w.offset() + LinuxNative.MUTEX_SIZE) {
                    throw new NotSupportedHere("Word " + other.name() + " lies inside the 40-byte robust pthread mutex that word "
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

    private long address(String word) {
        Scenario.WordSpec w = scenario.words().get(word);
        return Pointer.nativeValue(objectBlocks.get(w.object())) + w.offset();
    }

    private static Memory cString(String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Memory m = new Memory(b.length + 1);
        m.write(0, b, 0, b.length);
        m.setByte(b.length, (byte) 0);
        return m;
    }

    /** Pins every thread of this process but the scenario's to {@code cpus}. */
    private void pinJvmThreads(int[] cpus) {
        Memory mask = cpuSet(cpus);
        Set<Integer> mine = new java.util.HashSet<>();
        workers.values().forEach(w -> mine.add(w.tid));
        String[] tasks = new File("/proc/self/task").list();
        if (tasks == null) {
            return;
        }
        for (String t : tasks) {
            int tid = Integer.parseInt(t);
            if (!mine.contains(tid)) {
                LinuxNative.sched_setaffinity(tid, CPUSET_BYTES, Pointer.nativeValue(mask)); // a thread may have ended
            }
        }
    }

    /** The sampler: reads each live scenario thread's effective priority every 250us. */
    private void sample() {
        Memory buffer = new Memory(1024);
        byte[] bytes = new byte[1024];
        while (!stopped) {
            for (Worker w : workers.values()) {
                if (!w.finished) {
                    int p = readPriority(w.procStat, buffer, bytes);
                    if (!w.finished) {
                        observe(w, p);
                    }
                }
            }
            LockSupport.parkNanos(SAMPLER_PERIOD_NANOS);
        }
    }

    private static int readPriority(Memory path, Memory buffer, byte[] bytes) {
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
    private void observe(Worker w, int priority) {
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
        workers.get(thread).enqueue(new Release(workers.get(thread), time, action));
    }

    @Override
    public void call(String thread, Step step, Consumer<Outcome> done) {
        workers.get(thread).enqueue(new Perform(workers.get(thread), step, done));
    }

    // Classes rather than lambdas: a lambda's first use links it (milliseconds, and locks), which
    // would happen on a SCHED_FIFO thread in the middle of the run.

    /** A thread's release at its start time. */
    private final class Release implements Runnable {
        private final Worker w;
        private final long time;
        private final Runnable action;

        Release(Worker w, long time, Runnable action) {
            this.w = w;
            this.time = time;
            this.action = action;
        }

        @Override
        public void run() {
            w.sleepUntil(origin + time);
            w.released = true;
            if (!stopped) {
                action.run();
            }
        }
    }

    /** One step, on the thread's own Linux thread; then its outcome to the interpreter. */
    private static final class Perform implements Runnable {
        private final Worker w;
        private final Step step;
        private final Consumer<Outcome> done;

        Perform(Worker w, Step step, Consumer<Outcome> done) {
            this.w = w;
            this.step = step;
            this.done = done;
        }

        @Override
        public void run() {
            Outcome o = w.perform(step);
            w.observe();
            done.accept(o);
            if (o.code().equals("ESRCH")) {
                w.ended = true; // the interpreter ends a thread's program at ESRCH: the Linux thread ends too
            }
        }
    }

    /** Polls: the scenario threads do not wake the runner (that would take the runner's lock). */
    @Override
    public boolean runUntil(BooleanSupplier finished, long limit) {
        while (!finished.getAsBoolean()) {
            if (now() > limit) {
                return false;
            }
            LockSupport.parkNanos(1_000_000);
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String mode() {
        return "linux";
    }

    @Override
    public void close() {
        stopped = true;
        for (Worker w : workers.values()) {
            LockSupport.unpark(w);
        }
        for (Worker w : workers.values()) {
            try {
                w.join(100); // one blocked in a futex forever stays (a daemon without a CPU)
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
        if (allowed != null && jvmCpus != null) {
            pinJvmThreads(allowed);
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

    /** A scenario thread: a Linux thread that runs its steps, queued by the interpreter, in order. */
    private final class Worker extends Thread {
        final ThreadSpec spec;
        final int[] cpus;
        final CountDownLatch ready;
        final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
        /** timespec at 0, CPU clock at 16, sched_param at 32, cpu_set_t at 64. */
        final Memory scratch = new Memory(64 + CPUSET_BYTES);
        final Memory statBuffer = new Memory(1024);
        final byte[] statBytes = new byte[1024];
        final Memory selfStat = cString("/proc/thread-self/stat");
        final AtomicInteger seen;
        final String taskKey;
        volatile Memory procStat;
        volatile int tid;
        volatile int setupErrno;
        volatile String setupWhat = "";
        /** Its program ended: the Linux thread ends after the current step. */
        volatile boolean ended;
        /** Its start time has come: from now on it keeps its CPU between steps. */
        volatile boolean released;
        /** The Linux thread has left its loop. */
        volatile boolean finished;

        Worker(ThreadSpec spec, int[] cpus, CountDownLatch ready) {
            super("linux-" + spec.name());
            setDaemon(true);
            this.spec = spec;
            this.cpus = cpus;
            this.ready = ready;
            this.seen = new AtomicInteger(spec.priority());
            this.taskKey = spec.kernel() + "/" + spec.task();
            scratch.clear();
        }

        @Override
        public void run() {
            tid = LinuxNative.gettid();
            Memory mask = cpuSet(cpus);
            if (LinuxNative.sched_setaffinity(0, CPUSET_BYTES, Pointer.nativeValue(mask)) != 0) {
                setupErrno = LinuxNative.errno();
                setupWhat = "sched_setaffinity";
            }
            warmUp();
            scratch.setInt(32, spec.priority());
            if (setupErrno == 0 && LinuxNative.sched_setscheduler(0, LinuxNative.SCHED_FIFO, Pointer.nativeValue(scratch) + 32) != 0) {
                setupErrno = LinuxNative.errno();
                setupWhat = "sched_setscheduler";
            }
            ready.countDown();
            try {
                while (setupErrno == 0 && !ended && !stopped) {
                    Runnable r = queue.poll();
                    if (r == null && spinNanos > 0 && released) {
                        // A Linux thread runs its program on without leaving its CPU between two
                        // steps; waiting here for the runner's next step must not free it for a
                        // lower priority. The runner is on another CPU, so its answer comes soon.
                        long until = System.nanoTime() + spinNanos;
                        while ((r = queue.poll()) == null && !ended && !stopped && System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                    }
                    if (r == null) {
                        LockSupport.park(this);
                    } else {
                        r.run();
                    }
                }
            } finally {
                finished = true;
            }
            // Returning ends the Linux thread: the kernel walks its robust list (glibc's), so a robust
            // mutex it still holds passes on with OWNER_DIED.
        }

        void enqueue(Runnable r) {
            queue.add(r);
            if (Thread.currentThread() != this) {
                LockSupport.unpark(this);
            }
        }

        /**
         * Every path of {@link #perform} a few times on words of its own, before the thread is
         * real-time: classes load, JNA binds, the JIT sees them, and a first step does not take
         * milliseconds (or a class loader's lock) in the middle of the run.
         */
        private void warmUp() {
            Memory raw = new Memory(8);
            raw.clear();
            Memory mutex = new Memory(64);
            mutex.clear();
            Memory attr = new Memory(64);
            attr.clear();
            long a = Pointer.nativeValue(attr);
            LinuxNative.pthread_mutexattr_init(a);
            LinuxNative.pthread_mutexattr_settype(a, LinuxNative.PTHREAD_MUTEX_ERRORCHECK);
            LinuxNative.pthread_mutexattr_setprotocol(a, LinuxNative.PTHREAD_PRIO_INHERIT);
            LinuxNative.pthread_mutexattr_setrobust(a, LinuxNative.PTHREAD_MUTEX_ROBUST);
            LinuxNative.pthread_mutex_init(Pointer.nativeValue(mutex), a);
            Step[] steps = {new Step(Step.Kind.LOCK, "", -1, 0, null), new Step(Step.Kind.LOCK, "", -1, 0, null),
                new Step(Step.Kind.TRYLOCK, "", -1, 0, null), new Step(Step.Kind.UNLOCK, "", -1, 0, null),
                new Step(Step.Kind.UNLOCK, "", -1, 0, null), new Step(Step.Kind.LOCK, "", 1000, 0, null),
                new Step(Step.Kind.TRYLOCK, "", -1, 0, null), new Step(Step.Kind.CONSISTENT, "", -1, 0, null),
                new Step(Step.Kind.UNLOCK, "", -1, 0, null), new Step(Step.Kind.READ, "", -1, 0, null),
                new Step(Step.Kind.WRITE, "", -1, 0, null), new Step(Step.Kind.COMPUTE, null, 20_000, 0, null),
                new Step(Step.Kind.SLEEP, null, 10_000, 0, null), new Step(Step.Kind.PRIORITY, null, -1, 1, null)};
            for (int i = 0; i < 20; i++) {
                for (Step step : steps) {
                    perform(step, Pointer.nativeValue(raw), false).code().equals("ESRCH");
                    perform(step, Pointer.nativeValue(mutex), true).code().equals("ESRCH");
                }
                observe();
                LinuxPlatform.this.observe(this, 0);
            }
        }

        /** Reads its own effective priority (after each step). */
        void observe() {
            LinuxPlatform.this.observe(this, readPriority(selfStat, statBuffer, statBytes));
        }

        private boolean gone() {
            return stopped || deadTasks.contains(taskKey);
        }

        Outcome perform(Step step) {
            if (deadTasks.contains(taskKey)) {
                ended = true;
                return new Outcome("ESRCH", "the task died");
            }
            String word = step.word();
            return perform(step, word == null ? 0 : address(word), word != null && robust.contains(word));
        }

        private Outcome perform(Step step, long at, boolean pthread) {
            String word = step.word();
            return switch (step.kind()) {
                case LOCK -> pthread ? pthreadLock(at, step.nanos()) : rawLock(at, step.nanos());
                case TRYLOCK -> pthread ? pthreadTrylock(at) : rawTrylock(at);
                case UNLOCK -> pthread ? rc(LinuxNative.pthread_mutex_unlock(at), "pthread_mutex_unlock")
                        : futex(at, FUTEX_UNLOCK_PI, 0) == 0 ? Outcome.ok("") : failed("FUTEX_UNLOCK_PI");
                case CONSISTENT -> pthread ? rc(LinuxNative.pthread_mutex_consistent(at), "pthread_mutex_consistent")
                        : new Outcome("EINVAL", "no robust mutex in linux mode");
                case READ -> {
                    int v = new Pointer(at).getInt(0);
                    yield Outcome.ok(values != null ? values.render(word, v) : Integer.toString(v)); // null: warming up
                }
                case WRITE -> {
                    new Pointer(at).setInt(0, (int) step.value());
                    yield Outcome.ok("");
                }
                case COMPUTE -> compute(step.nanos());
                case SLEEP -> {
                    sleepUntil(System.nanoTime() + step.nanos());
                    yield Outcome.ok("");
                }
                case PRIORITY -> {
                    scratch.setInt(32, (int) step.value());
                    yield LinuxNative.sched_setparam(0, Pointer.nativeValue(scratch) + 32) == 0 ? Outcome.ok("")
                            : failed("sched_setparam");
                }
                case EXIT -> {
                    ended = true;
                    yield Outcome.ok("");
                }
                case DIE -> {
                    deadTasks.add(taskKey);
                    ended = true;
                    yield Outcome.ok("");
                }
            };
        }

        private long futex(long at, int op, long timeout) {
            return LinuxNative.syscall(SYS_FUTEX, at, op | FUTEX_PRIVATE_FLAG, 0, timeout, 0, 0);
        }

        private Outcome failed(String call) {
            int e = LinuxNative.errno();
            return new Outcome(LinuxSupport.errnoName(e), call + ": " + LinuxSupport.errnoName(e));
        }

        private Outcome rc(int rc, String call) {
            return rc == 0 ? Outcome.ok("") : new Outcome(LinuxSupport.errnoName(rc), call + ": " + LinuxSupport.errnoName(rc));
        }

        /** The word after a raw lock got it: OWNER_DIED in it is EOWNERDEAD, as glibc reports it. */
        private Outcome acquired(long at) {
            int v = new Pointer(at).getInt(0);
            return (v & WordValues.OWNER_DIED) != 0 ? new Outcome("EOWNERDEAD", "previous owner died") : Outcome.ok("");
        }

        private Outcome rawLock(long at, long timeout) {
            while (true) {
                long ts = 0;
                if (timeout >= 0) {
                    deadline(timeout);
                    ts = Pointer.nativeValue(scratch);
                }
                if (futex(at, FUTEX_LOCK_PI, ts) == 0) {
                    return acquired(at);
                }
                int e = LinuxNative.errno();
                if (e == LinuxSupport.EINTR || e == LinuxSupport.EAGAIN) {
                    continue; // EAGAIN: the owner is exiting; the kernel asks to try again
                }
                return new Outcome(LinuxSupport.errnoName(e), "FUTEX_LOCK_PI: " + LinuxSupport.errnoName(e));
            }
        }

        private Outcome rawTrylock(long at) {
            if (futex(at, FUTEX_TRYLOCK_PI, 0) == 0) {
                return acquired(at);
            }
            int e = LinuxNative.errno();
            if (e == LinuxSupport.EAGAIN) {
                return new Outcome("busy", "FUTEX_TRYLOCK_PI: EAGAIN");
            }
            return new Outcome(LinuxSupport.errnoName(e), "FUTEX_TRYLOCK_PI: " + LinuxSupport.errnoName(e));
        }

        private Outcome pthreadLock(long at, long timeout) {
            int rc;
            if (timeout >= 0) {
                deadline(timeout);
                rc = LinuxNative.pthread_mutex_timedlock(at, Pointer.nativeValue(scratch));
            } else {
                rc = LinuxNative.pthread_mutex_lock(at);
            }
            if (rc == LinuxSupport.EOWNERDEAD) {
                return new Outcome("EOWNERDEAD", "previous owner died");
            }
            return rc(rc, timeout >= 0 ? "pthread_mutex_timedlock" : "pthread_mutex_lock");
        }

        private Outcome pthreadTrylock(long at) {
            int rc = LinuxNative.pthread_mutex_trylock(at);
            if (rc == LinuxSupport.EBUSY) {
                return new Outcome("busy", "pthread_mutex_trylock: EBUSY");
            }
            if (rc == LinuxSupport.EOWNERDEAD) {
                return new Outcome("EOWNERDEAD", "previous owner died");
            }
            return rc(rc, "pthread_mutex_trylock");
        }

        /** Writes now + {@code nanos} on CLOCK_REALTIME into the timespec at scratch[0]. */
        private void deadline(long nanos) {
            long base = Pointer.nativeValue(scratch);
            LinuxNative.clock_gettime(CLOCK_REALTIME, base);
            long sec = scratch.getLong(0) + nanos / 1_000_000_000L;
            long nsec = scratch.getLong(8) + nanos % 1_000_000_000L;
            if (nsec >= 1_000_000_000L) {
                sec++;
                nsec -= 1_000_000_000L;
            }
            scratch.setLong(0, sec);
            scratch.setLong(8, nsec);
        }

        private long cpuNow() {
            LinuxNative.clock_gettime(CLOCK_THREAD_CPUTIME_ID, Pointer.nativeValue(scratch) + 16);
            return scratch.getLong(16) * 1_000_000_000L + scratch.getLong(24);
        }

        /** Busy for {@code nanos} of this thread's own CPU time, reading its priority every 200us of it. */
        private Outcome compute(long nanos) {
            long end = cpuNow() + nanos;
            long nextSample = 0;
            while (!gone()) {
                long c = cpuNow();
                if (c >= end) {
                    break;
                }
                if (c >= nextSample) {
                    observe();
                    nextSample = c + SELF_SAMPLE_CPU_NANOS;
                }
            }
            return Outcome.ok("");
        }

        /** Sleeps until {@code monotonic} (System.nanoTime's clock), in slices so a stop is seen. */
        void sleepUntil(long monotonic) {
            long base = Pointer.nativeValue(scratch);
            while (!gone()) {
                long now = System.nanoTime();
                if (now >= monotonic) {
                    return;
                }
                long until = Math.min(monotonic, now + SLEEP_SLICE_NANOS);
                scratch.setLong(48, until / 1_000_000_000L);
                scratch.setLong(56, until % 1_000_000_000L);
                LinuxNative.clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, base + 48, 0);
            }
        }
    }
}
