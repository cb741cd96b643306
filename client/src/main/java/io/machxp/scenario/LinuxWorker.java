package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CLOCK_THREAD_CPUTIME_ID;
import static io.machxp.scenario.LinuxNative.CPUSET_BYTES;
import static io.machxp.scenario.LinuxNative.FUTEX_UNLOCK_PI;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.machxp.scenario.Scenario.ThreadSpec;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * A scenario thread in linux mode ({@link LinuxPlatform}): a Linux thread of this JVM, pinned to
 * its kernel's CPUs and SCHED_FIFO at its scenario priority, that runs the interpreter for its own
 * program (each step's outcome logged and the next step queued by the thread itself) on the futex
 * words of the run ({@link LinuxLockCalls}); the runner only queues its start.
 *
 * <h2>States</h2>
 * set up (pinned, warmed up, then real-time; {@code ready} counted down) -> waiting for its start
 * ({@link Release}: it parks, so as not to keep its CPU from threads still warming up) -> released
 * (it runs its steps one after another; should it find none queued, it spins up to
 * {@code LinuxPlatform.spinNanos} for one rather than park, as a Linux thread running its program
 * never leaves its CPU) -> ended (its program ended, it died, or the run stopped): returning ends
 * the Linux thread, and the kernel walks glibc's robust list. A run that stops makes its threads
 * ordinary ({@link LinuxPlatform#stopThreads}); one still setting itself up then does so itself.
 *
 * <p>Steps are classes rather than lambdas ({@link Release}, {@link Perform}): a lambda's first
 * use links it (milliseconds, and locks), which would happen on a SCHED_FIFO thread in the middle
 * of the run.
 */
final class LinuxWorker extends Thread {
    final ThreadSpec spec;
    final int[] cpus;
    final CountDownLatch ready;
    final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    /** timespec at 0, CPU clock at 16, sched_param at 32, cpu_set_t at 64. */
    final Memory scratch = new Memory(64 + CPUSET_BYTES);
    private final LinuxSleep sleep = new LinuxSleep();
    /** Made once, here: a method reference's first use links it (see the class comment). */
    private final java.util.function.BooleanSupplier goneCheck = this::gone;
    /** Its lock calls (tests give scripted ones). */
    LinuxLockCalls calls;
    private final LinuxPlatform run;
    final Memory statBuffer = new Memory(1024);
    final byte[] statBytes = new byte[1024];
    final Memory selfStat = LinuxPlatform.cString("/proc/thread-self/stat");
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
    /** The Linux thread is ending: it left its loop, or its setup threw. */
    volatile boolean finished;
    /**
     * When its next step is due (System.nanoTime, i.e. CLOCK_MONOTONIC), set by its start, by each
     * sleep (its end) and by each lock with a timeout (its deadline: the lock has answered by then
     * unless something held the thread back), -1 when the next step follows another at once; see
     * {@link LinuxLateness}.
     */
    private long pendingDue = -1;
    /** Per step performed (index = step number - 1): when it was due (-1: not timed) and began. */
    final long[] stepDue;
    final long[] stepBegan;
    /** Steps performed; written after their times (a volatile write), so a reader sees them. */
    volatile int performed;

    LinuxWorker(LinuxPlatform run, ThreadSpec spec, int[] cpus, CountDownLatch ready) {
        super("linux-" + spec.name());
        this.run = run;
        this.calls = new LinuxLockCalls(scratch, run);
        setDaemon(true);
        this.spec = spec;
        this.cpus = cpus;
        this.ready = ready;
        this.seen = new AtomicInteger(spec.priority());
        this.taskKey = spec.kernel() + "/" + spec.task();
        this.stepDue = new long[spec.program().size() + 1]; // + the implicit exit
        this.stepBegan = new long[spec.program().size() + 1];
        scratch.clear();
    }

    @Override
    public void run() {
        try {
            setUpAndRunSteps();
        } finally {
            // Whatever ends it (its loop, or something thrown while it set itself up): its TID is
            // no longer its own, so neither the run's stop nor a later run's check acts on it.
            finished = true;
        }
        // Returning ends the Linux thread: the kernel walks its robust list (glibc's), so a robust
        // mutex it still holds passes on with OWNER_DIED.
    }

    private void setUpAndRunSteps() {
        tid = LinuxNative.gettid();
        Memory mask = LinuxCpus.cpuSet(cpus);
        if (LinuxNative.sched_setaffinity(0, CPUSET_BYTES, Pointer.nativeValue(mask)) != 0) {
            setupErrno = LinuxNative.errno();
            setupWhat = "sched_setaffinity";
        }
        warmUp();
        pendingDue = -1; // the warm-up's sleeps
        scratch.setInt(32, spec.priority());
        if (setupErrno == 0 && LinuxNative.sched_setscheduler(0, LinuxNative.SCHED_FIFO, Pointer.nativeValue(scratch) + 32) != 0) {
            setupErrno = LinuxNative.errno();
            setupWhat = "sched_setscheduler";
        }
        if (run.stopped) {
            // The run was stopped while this thread set itself up (LinuxPlatform.stopThreads may
            // have found no TID yet, or demoted it before it became real-time): ordinary again.
            scratch.setInt(32, 0);
            LinuxNative.sched_setscheduler(0, LinuxNative.SCHED_OTHER, Pointer.nativeValue(scratch) + 32);
        }
        ready.countDown();
        while (setupErrno == 0 && !ended && !run.stopped) {
            Runnable r = queue.poll();
            if (r == null && run.spinNanos > 0 && released) {
                // A Linux thread runs its program on without leaving its CPU between two
                // steps. This thread queues its own next step (it runs the interpreter), so
                // the queue is empty here only if something went wrong: wait a bounded time
                // (spinNanos, or the run's stop) rather than free the CPU for a lower priority.
                long until = System.nanoTime() + run.spinNanos;
                while ((r = queue.poll()) == null && !ended && !run.stopped && System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            }
            if (r == null) {
                LockSupport.park(this);
            } else {
                r.run();
            }
        }
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
            run.observe(this, 0);
        }
    }

    /** Reads its own effective priority (after each step). */
    void observe() {
        run.observe(this, LinuxPlatform.readPriority(selfStat, statBuffer, statBytes));
    }

    private boolean gone() {
        return run.stopped || run.deadTasks.contains(taskKey);
    }

    Outcome perform(Step step) {
        if (run.deadTasks.contains(taskKey)) {
            ended = true;
            return new Outcome("ESRCH", "the task died");
        }
        String word = step.kind() == Step.Kind.PRIORITY ? null : step.word(); // a priority's is a thread
        return perform(step, word == null ? 0 : run.address(word), word != null && run.robust.contains(word));
    }

    private Outcome perform(Step step, long at, boolean pthread) {
        String word = step.word();
        return switch (step.kind()) {
            case LOCK -> lock(step.nanos(), at, pthread);
            case TRYLOCK -> pthread ? calls.pthreadTrylock(at) : calls.rawTrylock(at);
            case UNLOCK -> pthread ? calls.rc(LinuxNative.pthread_mutex_unlock(at), "pthread_mutex_unlock")
                    : calls.futex(at, FUTEX_UNLOCK_PI, 0) == 0 ? Outcome.ok("") : calls.failed("FUTEX_UNLOCK_PI");
            case CONSISTENT -> pthread ? calls.rc(LinuxNative.pthread_mutex_consistent(at), "pthread_mutex_consistent")
                    : new Outcome("EINVAL", "no robust mutex in linux mode");
            case READ -> {
                int v = new Pointer(at).getInt(0);
                yield Outcome.ok(run.values != null ? run.values.render(word, v) : Integer.toString(v)); // null: warming up
            }
            case WRITE -> {
                new Pointer(at).setInt(0, (int) step.value());
                yield Outcome.ok("");
            }
            case COMPUTE -> compute(step.nanos()) ? Outcome.ok("") : cutShort();
            case SLEEP -> {
                long due = System.nanoTime() + step.nanos();
                boolean slept = sleepUntil(due);
                pendingDue = due;
                yield slept ? Outcome.ok("") : cutShort();
            }
            case PRIORITY -> {
                scratch.setInt(32, (int) step.value());
                int of = step.word() == null ? 0 : run.tid(step.word()); // sched_setparam of another thread
                yield LinuxNative.sched_setparam(of, Pointer.nativeValue(scratch) + 32) == 0 ? Outcome.ok("")
                        : calls.failed("sched_setparam");
            }
            case EXIT -> {
                ended = true;
                yield Outcome.ok("");
            }
            case DIE -> {
                run.deadTasks.add(taskKey);
                run.interruptSleeps(taskKey);
                ended = true;
                yield Outcome.ok("");
            }
            // refused at setup (LinuxSupport.IPC_REFUSED): Linux has no Mach IPC
            case PORT_ALLOCATE, SEND, RECEIVE, RPC -> throw new NotSupportedHere(LinuxSupport.IPC_REFUSED);
        };
    }

    /**
     * A lock; one with a timeout makes the next step due at its deadline (read on the monotonic
     * clock as the call begins; the call's own deadline is the same time on CLOCK_REALTIME), so
     * that a timeout served late, or a hand-off after it, is a late step ({@link LinuxLateness}).
     */
    private Outcome lock(long timeout, long at, boolean pthread) {
        long due = timeout >= 0 ? System.nanoTime() + timeout : -1;
        Outcome o = pthread ? calls.pthreadLock(at, timeout) : calls.rawLock(at, timeout);
        pendingDue = due;
        return o;
    }

    /**
     * A compute or sleep that another thread's die cut short ends the thread there, answered ESRCH
     * as the simulator answers the call its task's death interrupts (the next step is not run). Only
     * a step that was cut short: one that finished before the die is ok, as in the simulator.
     */
    private Outcome cutShort() {
        if (run.deadTasks.contains(taskKey)) {
            ended = true;
            return new Outcome("ESRCH", "the task died");
        }
        return Outcome.ok(""); // the run was stopped
    }

    private long cpuNow() {
        LinuxNative.clock_gettime(CLOCK_THREAD_CPUTIME_ID, Pointer.nativeValue(scratch) + 16);
        return scratch.getLong(16) * 1_000_000_000L + scratch.getLong(24);
    }

    /**
     * Busy for {@code nanos} of this thread's own CPU time, reading its priority every 200us of it:
     * true if it ran its time, false if its task died or the run stopped first.
     */
    private boolean compute(long nanos) {
        long end = cpuNow() + nanos;
        long nextSample = 0;
        while (!gone()) {
            long c = cpuNow();
            if (c >= end) {
                return true;
            }
            if (c >= nextSample) {
                observe();
                nextSample = c + LinuxPlatform.SELF_SAMPLE_CPU_NANOS;
            }
        }
        return false;
    }

    /**
     * Sleeps until {@code monotonic} (System.nanoTime's clock) in one sleep ({@link LinuxSleep}):
     * true if it slept its time, false if its task died or the run stopped first.
     */
    boolean sleepUntil(long monotonic) {
        return sleep.until(monotonic, goneCheck);
    }

    /** Its task died or the run stopped: a sleep of it ends now (after that state is set). */
    void interruptSleep() {
        sleep.interrupt();
    }

    /** A step begins: its due time (if any) and now, for {@link LinuxLateness}; allocation-free. */
    private void began(long now) {
        int k = performed;
        if (k < stepBegan.length) {
            stepDue[k] = pendingDue;
            stepBegan[k] = now;
            performed = k + 1;
        }
        pendingDue = -1;
    }

    static final class Release implements Runnable {
        private final LinuxWorker w;
        private final long time;
        private final Runnable action;

        Release(LinuxWorker w, long time, Runnable action) {
            this.w = w;
            this.time = time;
            this.action = action;
        }

        @Override
        public void run() {
            w.sleepUntil(w.run.origin + time);
            w.pendingDue = w.run.origin + time;
            w.released = true;
            if (!w.run.stopped) {
                action.run();
            }
        }
    }

    /** One step, on the thread's own Linux thread; then its outcome to the interpreter. */
    static final class Perform implements Runnable {
        private final LinuxWorker w;
        private final Step step;
        private final Consumer<Outcome> done;

        Perform(LinuxWorker w, Step step, Consumer<Outcome> done) {
            this.w = w;
            this.step = step;
            this.done = done;
        }

        @Override
        public void run() {
            w.began(System.nanoTime());
            Outcome o = w.perform(step);
            w.observe();
            done.accept(o);
            if (o.code().equals("ESRCH")) {
                w.ended = true; // the interpreter ends a thread's program at ESRCH: the Linux thread ends too
            }
        }
    }
}
