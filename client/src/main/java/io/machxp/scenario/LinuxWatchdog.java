package io.machxp.scenario;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The watchdog of one linux-mode run ({@link LinuxPlatform}): a thread at SCHED_FIFO 99 on the
 * JVM's CPUs that ends the run if the runner has not ended it by the scenario's limit and a grace.
 *
 * <h2>Why</h2>
 * The runner ends a run when every thread has ended or at the limit, and then makes the scenario
 * threads ordinary ({@link LinuxPlatform#stopThreads}). A runner that cannot run (real-time threads
 * spinning on every CPU it may use, or the runner stuck in a wait of the JVM's that needs a thread
 * they starve) would leave SCHED_FIFO threads holding CPUs without end. At priority 99 the
 * watchdog preempts every scenario thread below 99 on its CPUs.
 *
 * <h2>States</h2>
 * armed -> disarmed (the runner ended the run first: the watchdog ends) or armed -> fired (the
 * deadline passed first): it makes every scenario thread and the runner ordinary and unpinned, and
 * the priority sampler ({@link LinuxSampler}, SCHED_FIFO 1) ordinary, and marks the run stopped;
 * the runner, able to run again, fails the run with {@link #why()} ({@link LinuxRunStuck}). If the
 * runner has not closed the run {@link #KILL_GRACE_NANOS} (10 s) later, the watchdog writes the
 * sentence to standard error and ends the process. {@link LinuxRtTimeLimit} is the kernel's
 * backstop behind it (for a scenario thread at 99 that spins on every CPU).
 *
 * <h2>Nothing to wait for once armed</h2>
 * It runs where the JVM's ordinary threads may be starved, and Java locks do not pass on a
 * priority: so firing and ending the process allocate nothing and take no lock such a thread can
 * hold. The constructor prepares all they need: the scenario threads in an array, native memory
 * for the calls ({@link LinuxScheduler#prepare}) and the kill message's bytes (the sampler's TID is
 * read when it fires: the sampler sets it when it runs). Firing does not unpark the scenario
 * threads either (that takes a lock of the parked thread's): one in a compute, sleep or lock retry
 * sees the stop itself, and one parked for its next step is ordinary and waits for the runner's
 * {@link LinuxPlatform#stopThreads}, which unparks it.
 */
final class LinuxWatchdog extends Thread {
    /** How long after the scenario's limit the watchdog fires: the runner stops the run at the limit. */
    static final long GRACE_NANOS = 10_000_000_000L;
    /** How long after firing the watchdog waits for the runner to close the run, then ends the process. */
    static final long KILL_GRACE_NANOS = 10_000_000_000L;
    static final int PRIORITY = 99;

    private static final int ARMED = 0;
    private static final int DISARMED = 1;
    private static final int FIRED = 2;

    private final LinuxPlatform run;
    private final LinuxScheduler scheduler;
    private final long deadline;
    private final long killGraceNanos;
    private final String why;
    /** The run's scenario threads, taken when armed (the run has them all by then). */
    private final LinuxWorker[] workers;
    /** The run's priority sampler (started before the watchdog), or null. */
    private final LinuxSampler sampler;
    /** Whether {@link #calls} pins to the run's allowed CPUs (tests may leave them unset). */
    private final boolean unpin;
    private final LinuxScheduler.Prepared calls;
    private final AtomicInteger state = new AtomicInteger(ARMED);
    private volatile boolean closed;

    /**
     * @param deadline when it fires, on System.nanoTime's clock
     * @param killGraceNanos how long after firing it waits for the runner to close the run
     * @param scenario the scenario's name, for the sentence
     * @param limitNanos the scenario's limit, for the sentence
     */
    LinuxWatchdog(LinuxPlatform run, LinuxScheduler scheduler, long deadline, long killGraceNanos, String scenario,
            long limitNanos) {
        super("linux-watchdog");
        setDaemon(true);
        this.run = run;
        this.scheduler = scheduler;
        this.deadline = deadline;
        this.killGraceNanos = killGraceNanos;
        this.why = "The linux-mode run of scenario '" + scenario + "' had not ended " + seconds(limitNanos + GRACE_NANOS)
                + " after its start (its limit is " + seconds(limitNanos) + "), so its watchdog stopped it: its "
                + "threads were made ordinary and the run failed (a real-time thread may have kept the runner from "
                + "its CPU).";
        this.workers = run.workers.values().toArray(new LinuxWorker[0]);
        this.sampler = run.sampler;
        this.unpin = run.allowed != null;
        this.calls = scheduler.prepare(unpin ? run.allowed : new int[0], why + " The runner did not close the run within "
                + seconds(killGraceNanos) + " after that, so the process was ended.");
    }

    private static String seconds(long nanos) {
        return nanos % 1_000_000_000L == 0 ? nanos / 1_000_000_000L + " s"
                : String.format(java.util.Locale.ROOT, "%.3f s", nanos / 1e9);
    }

    /** The sentence that fails the run once it has fired. */
    String why() {
        return why;
    }

    boolean fired() {
        return state.get() == FIRED;
    }

    /** The runner ends the run itself: false if the watchdog fired first (the run failed). */
    boolean disarm() {
        if (state.compareAndSet(ARMED, DISARMED)) {
            LockSupport.unpark(this);
        }
        return state.get() != FIRED;
    }

    /**
     * Fires unless disarmed: the run stopped, every scenario thread still there and the runner
     * ordinary and free to run on every allowed CPU, and the sampler ordinary (as
     * {@link LinuxPlatform#stopThreads}, with the prepared calls). True if it fired now.
     */
    boolean fire() {
        if (!state.compareAndSet(ARMED, FIRED)) {
            return false;
        }
        run.stopped = true;
        for (LinuxWorker w : workers) {
            int tid = w.tid;
            if (tid != 0 && !w.finished) { // 0 would be the caller; one with no TID yet sees the stop
                ordinaryAndUnpinned(tid);
            }
        }
        if (sampler != null) {
            int t = sampler.liveTid(); // 0: not run yet (it sees the stop) or ended
            if (t != 0) {
                calls.makeOrdinary(t);
            }
        }
        int runner = run.runnerTid;
        if (runner != 0) {
            ordinaryAndUnpinned(runner);
        }
        return true;
    }

    private void ordinaryAndUnpinned(int tid) {
        calls.makeOrdinary(tid);
        if (unpin) {
            calls.pin(tid);
        }
    }

    /** The runner has closed the run: a watchdog that fired does not end the process. */
    void close() {
        closed = true;
        disarm();
        LockSupport.unpark(this);
    }

    @Override
    public void run() {
        scheduler.makeRealTime(PRIORITY); // refused: it still fires, as soon as Linux lets it run
        for (long left = deadline - System.nanoTime(); state.get() == ARMED && left > 0;
                left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(this, left);
        }
        if (!fire()) {
            return;
        }
        long killAt = System.nanoTime() + killGraceNanos;
        for (long left = killGraceNanos; !closed && left > 0; left = killAt - System.nanoTime()) {
            LockSupport.parkNanos(this, left);
        }
        if (!closed) {
            calls.killProcess();
        }
    }
}
