package io.machxp.scenario;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.LoggerFactory;

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
 * thread computes it records its own priority. It first samples once as an ordinary thread (the
 * code it runs is then loaded).
 *
 * <h2>It never keeps a CPU</h2>
 * A sample reads each live thread's stat (open, read, close: its work grows with the threads, and
 * with a slow /proc under load), allocates nothing but an event on a change, and is followed by a
 * sleep (clock_nanosleep, absolute, to the next period) of at least {@link #MIN_SLEEP_NANOS} and
 * at least the sample's own work ({@link #nextSample}): the sampler takes at most half of a CPU
 * however slow a sample is, and a late sample does not bring a burst of catch-up samples. Its
 * deadlines are read from the clock it sleeps on ({@link LinuxSamplerClock}, CLOCK_MONOTONIC). A
 * clock call that fails (any answer of clock_nanosleep but 0 and EINTR) would make every sleep
 * return at once, a busy loop at a real-time priority: the sampler then makes itself ordinary,
 * logs a sentence, and samples on as an ordinary thread (parked between samples), as it did
 * before it was real-time.
 *
 * <h2>What it did not see</h2>
 * Each sweep's beginning and end are read on its clock anyway; from them it keeps, without
 * allocating, when it began sampling on its own clock ({@link #firstSweep}; the run starts after
 * {@link #SWEEPS_BEFORE_START} sweeps, {@link LinuxPlatform#setup}), its latest sweep, and each stretch longer than
 * {@link #RECORD_BLIND_NANOS} from one sweep's beginning to the next one's end ({@link #blind}):
 * a boost of a thread that sleeps or blocks that began and ended inside such a stretch was seen by
 * nobody. The lateness judgement calls a run with such a stretch longer than 10 ms disturbed
 * ({@link LinuxSamplerBlind}), so a boost the machine's other load hid from the sampler is not
 * compared as a difference.
 *
 * <h2>Nothing real-time outlives the run</h2>
 * {@link LinuxPlatform#stopThreads} and the {@link LinuxWatchdog} make it ordinary with the
 * scenario threads ({@link #liveTid}), and it makes itself ordinary when it sees the stop. One that
 * has not ended when its run closes is kept with the run's leftovers ({@link LinuxLeftovers}),
 * made ordinary again before the next run.
 */
final class LinuxSampler extends Thread {
    static final int PRIORITY = 1;
    static final long PERIOD_NANOS = 250_000;
    /** However late a sample, the sampler sleeps at least this long after it. */
    static final long MIN_SLEEP_NANOS = 100_000;

    /** A stretch between sweeps longer than this is recorded ({@link #blind}). */
    static final long RECORD_BLIND_NANOS = 1_000_000;
    /** How many such stretches it keeps: when full, a longer one replaces the shortest. */
    static final int MAX_BLIND = 256;

    private final LinuxPlatform run;
    private final LinuxScheduler scheduler;
    /** The blind stretches ({@link #RECORD_BLIND_NANOS}), CLOCK_MONOTONIC: [i] from, to. */
    private final long[] blindFrom = new long[MAX_BLIND];
    private final long[] blindTo = new long[MAX_BLIND];
    private volatile int blindCount;
    /** The beginning of its first sweep in its loop (-1 before): the run starts after it. */
    volatile long firstSweep = -1;
    /** The beginning of its latest sweep in its loop (-1 before). */
    volatile long lastSweep = -1;
    /** Its sweeps in its loop so far (the run starts after {@link #SWEEPS_BEFORE_START}). */
    volatile int sweeps;
    /** Sweeps in its loop before the run starts ({@link LinuxPlatform#setup} waits for them). */
    static final int SWEEPS_BEFORE_START = 8;
    private final LinuxSamplerClock clock;
    private final LinuxWorker[] workers;
    /** This thread's TID once it runs (0 before), for {@link LinuxPlatform#stopThreads}. */
    volatile int tid;
    volatile boolean ended;
    /** The clock call that failed, for the sentence (a literal: naming it allocates nothing). */
    private String failed;

    LinuxSampler(LinuxPlatform run, LinuxScheduler scheduler) {
        this(run, scheduler, new LinuxSamplerClock.Monotonic());
    }

    /** With another clock than the real one: for tests. */
    LinuxSampler(LinuxPlatform run, LinuxScheduler scheduler, LinuxSamplerClock clock) {
        super("linux-priority-sampler");
        setDaemon(true);
        this.run = run;
        this.scheduler = scheduler;
        this.clock = clock;
        this.workers = run.workers.values().toArray(new LinuxWorker[0]);
    }

    @Override
    public void run() {
        try {
            tid = LinuxNative.gettid();
            Memory buffer = new Memory(1024);
            byte[] bytes = new byte[1024];
            sampleAll(buffer, bytes);
            scheduler.makeRealTime(PRIORITY); // refused: it samples as an ordinary thread, as before
            int errno = sampleUntilStopped(buffer, bytes);
            if (errno != 0) {
                scheduler.makeOrdinary(0); // first: the sentence allocates, and the log takes locks
                LoggerFactory.getLogger(LinuxSampler.class).warn("{}", brokenClock(failed, errno));
                sampleOrdinaryUntilStopped(buffer, bytes);
            }
        } finally {
            // The run stopped (stopThreads may have read no TID yet): nothing real-time outlives it.
            scheduler.makeOrdinary(0);
            ended = true;
        }
    }

    /** Samples, then sleeps, until the run stops (0) or a clock call fails (its errno, {@link #failed} set). */
    private int sampleUntilStopped(Memory buffer, byte[] bytes) {
        long next = clock.now();
        while (!run.stopped) {
            long start = clock.now();
            sampleAll(buffer, bytes);
            long end = clock.now();
            if (next < 0 || start < 0 || end < 0) {
                failed = "clock_gettime(CLOCK_MONOTONIC)";
                return (int) -Math.min(next, Math.min(start, end));
            }
            swept(start, end);
            next = nextSample(next, start, end);
            int rc = clock.sleepUntil(next);
            if (rc != 0 && rc != LinuxSupport.EINTR) { // EINTR: it samples once early
                failed = "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)";
                return rc;
            }
        }
        return 0;
    }

    private void sampleOrdinaryUntilStopped(Memory buffer, byte[] bytes) {
        while (!run.stopped) {
            long start = System.nanoTime();
            sampleAll(buffer, bytes);
            swept(start, System.nanoTime());
            LockSupport.parkNanos(PERIOD_NANOS);
        }
    }

    /**
     * A sweep ran from {@code start} to {@code end}: the stretch since the previous sweep's
     * beginning, if longer than {@link #RECORD_BLIND_NANOS}, is kept (allocation-free).
     */
    void swept(long start, long end) {
        long last = lastSweep;
        if (last < 0) {
            firstSweep = start;
        } else if (end - last > RECORD_BLIND_NANOS) {
            keepBlind(last, end);
        }
        lastSweep = start;
        sweeps = sweeps + 1; // only this thread writes it
    }

    private void keepBlind(long from, long to) {
        int n = blindCount;
        if (n < MAX_BLIND) {
            blindFrom[n] = from;
            blindTo[n] = to;
            blindCount = n + 1;
            return;
        }
        int shortest = 0;
        for (int i = 1; i < n; i++) {
            if (blindTo[i] - blindFrom[i] < blindTo[shortest] - blindFrom[shortest]) {
                shortest = i;
            }
        }
        if (to - from > blindTo[shortest] - blindFrom[shortest]) {
            blindFrom[shortest] = from;
            blindTo[shortest] = to;
        }
    }

    /**
     * The stretches in which it saw nothing, CLOCK_MONOTONIC, after the run (from the runner): each
     * kept one, before its first sweep, and after its latest (to {@link LinuxSpans#OPEN}).
     */
    List<long[]> blind() {
        List<long[]> out = new ArrayList<>();
        int n = blindCount;
        for (int i = 0; i < n; i++) {
            out.add(new long[] {blindFrom[i], blindTo[i]});
        }
        long first = firstSweep;
        long last = lastSweep;
        if (first < 0) {
            out.add(new long[] {-LinuxSpans.OPEN, LinuxSpans.OPEN});
        } else {
            out.add(new long[] {-LinuxSpans.OPEN, first});
            out.add(new long[] {last, LinuxSpans.OPEN});
        }
        return out;
    }

    /**
     * When the sample after the one that ran from {@code start} to {@code end} is due: a period
     * after the last deadline {@code next}, but not before a sleep of {@link #MIN_SLEEP_NANOS} and
     * of the sample's own work (so the sampler is busy at most half of the time).
     */
    static long nextSample(long next, long start, long end) {
        long earliest = end + Math.max(MIN_SLEEP_NANOS, end - start);
        return Math.max(next + PERIOD_NANOS, earliest);
    }

    /** The sentence logged when a clock call fails. */
    static String brokenClock(String call, int errno) {
        return "linux mode: the priority sampler's " + call + " failed with " + LinuxSupport.errnoName(errno)
                + ", so it samples as an ordinary thread for the rest of the run (under load a boost of a thread"
                + " that sleeps or blocks may be missed).";
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

    /**
     * The TID by which another thread makes it ordinary ({@link LinuxPlatform#stopThreads},
     * {@link LinuxWatchdog#fire}): 0 if it has not run yet (0 would be the caller; it sees the stop
     * itself) or has ended (its TID may be another thread's). Allocates nothing.
     */
    int liveTid() {
        int t = tid;
        return ended ? 0 : t;
    }
}
