package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CLOCK_MONOTONIC;
import static io.machxp.scenario.LinuxNative.TIMER_ABSTIME;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * The priority sampler of a linux-mode run: reads every live scenario thread's effective priority
 * (/proc/self/task/TID/stat) every {@link #PERIOD_NANOS}, so that a boost of a thread that sleeps
 * or blocks, which that thread cannot record itself, is seen. A running scenario thread records
 * its own priority after every step and every 200us of CPU time ({@link LinuxWorker#observe}).
 *
 * <h2>Why SCHED_FIFO 1</h2>
 * As an ordinary thread on the JVM's CPUs, the sampler was starved by the machine's other work
 * for longer than a boost of a few milliseconds lasts (CI at a load of 26-50 missed such boosts).
 * At SCHED_FIFO {@link #PRIORITY} it runs before every ordinary thread of the machine and below
 * every scenario thread of priority 2 and up, so it never preempts those; a scenario thread at
 * priority 1 on the same CPU is its equal (FIFO: neither preempts the other), and while such a
 * thread computes it records its own priority. The sampler does a small, constant amount of work
 * per sample (one read of each live thread's stat, no allocation but for an event on a change)
 * and then sleeps (clock_nanosleep, absolute) at least {@link #MIN_SLEEP_NANOS}, so it never
 * keeps a CPU. It first samples once as an ordinary thread (the code it runs is then loaded).
 * {@link LinuxPlatform#stopThreads} makes it ordinary with the scenario threads (through the
 * {@link LinuxScheduler}), and it makes itself ordinary when it sees the stop, so nothing
 * real-time outlives the run.
 */
final class LinuxSampler extends Thread {
    static final int PRIORITY = 1;
    static final long PERIOD_NANOS = 250_000;
    /** However late a sample, the sampler sleeps at least this long after it. */
    static final long MIN_SLEEP_NANOS = 100_000;

    private final LinuxPlatform run;
    private final LinuxScheduler scheduler;
    private final LinuxWorker[] workers;
    /** This thread's TID once it runs (0 before), for {@link LinuxPlatform#stopThreads}. */
    volatile int tid;
    volatile boolean ended;

    LinuxSampler(LinuxPlatform run, LinuxScheduler scheduler) {
        super("linux-priority-sampler");
        setDaemon(true);
        this.run = run;
        this.scheduler = scheduler;
        this.workers = run.workers.values().toArray(new LinuxWorker[0]);
    }

    @Override
    public void run() {
        try {
            tid = LinuxNative.gettid();
            Memory buffer = new Memory(1024);
            byte[] bytes = new byte[1024];
            Memory timespec = new Memory(16);
            sampleAll(buffer, bytes);
            scheduler.makeRealTime(PRIORITY); // refused: it samples as an ordinary thread, as before
            long next = System.nanoTime();
            while (!run.stopped) {
                sampleAll(buffer, bytes);
                next += PERIOD_NANOS;
                long earliest = System.nanoTime() + MIN_SLEEP_NANOS;
                if (next < earliest) {
                    next = earliest;
                }
                timespec.setLong(0, next / 1_000_000_000L);
                timespec.setLong(8, next % 1_000_000_000L);
                LinuxNative.clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, Pointer.nativeValue(timespec), 0);
            }
        } finally {
            // The run stopped (stopThreads may have read no TID yet): nothing real-time outlives it.
            scheduler.makeOrdinary(0);
            ended = true;
        }
    }

    private void sampleAll(Memory buffer, byte[] bytes) {
        for (LinuxWorker w : workers) {
            if (!w.finished) {
                int p = LinuxPlatform.readPriority(w.procStat, buffer, bytes);
                if (!w.finished) {
                    run.observe(w, p);
                }
            }
        }
    }

    /** The run is over: ordinary at once, if it runs (called by stopThreads; idempotent). */
    void makeOrdinary() {
        int t = tid;
        if (t != 0 && !ended) { // 0 would be the caller
            scheduler.makeOrdinary(t);
        }
    }
}
