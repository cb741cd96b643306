package io.machxp.scenario;

/**
 * One scenario thread's scheduling samples during a linux-mode run, for the judgement of whether
 * the run kept its schedule ({@link LinuxDisturbance}). Each sample is, at one moment: the
 * monotonic time, the thread's CPU time, its cumulative wait for a CPU (run-queue wait, from
 * {@link SchedStat}), flags saying what the thread did since the previous sample, and the time it
 * was due to run at that moment (its start time, or the end of a sleep; {@link LinuxDisturbance#NO_DUE} if none).
 *
 * <p>Written by its own thread only, on the real-time path: a preallocated array, no lock, no
 * allocation. When it is full the last sample is overwritten, which merges two intervals into one
 * (a coarser but still true record). Read after the thread has finished (or the run has ended);
 * {@code count} is volatile, so the samples it counts are visible to the reader.
 */
final class SchedSamples {
    /** Fields of a sample, in this order. */
    static final int TIME = 0;
    static final int CPU = 1;
    static final int WAITED = 2;
    static final int FLAGS = 3;
    static final int DUE = 4;
    static final int FIELDS = 5;

    /** Since the previous sample the thread never blocked: it ran or waited for a CPU throughout. */
    static final long BUSY = 1;
    /** The thread began its program here (its start's sleep ended). */
    static final long START = 2;
    /** The thread left its loop here: it uses no more CPU. */
    static final long END = 4;

    static final int CAPACITY = 8192;

    private final long[] data;
    private volatile int count;

    SchedSamples() {
        this(CAPACITY);
    }

    SchedSamples(int capacity) {
        data = new long[capacity * FIELDS];
    }

    /** Forgets the samples so far (those of the warm-up). */
    void reset() {
        count = 0;
    }

    void add(long time, long cpu, long waited, long flags, long due) {
        int c = count;
        int capacity = data.length / FIELDS;
        int at = c < capacity ? c : capacity - 1;
        int i = at * FIELDS;
        if (c >= capacity) {
            // merged with the interval before: busy only if both were, the start and due kept
            long old = data[i + FLAGS];
            flags = (old & flags & BUSY) | (old & START) | (flags & END);
            due = Math.max(due, data[i + DUE]);
        }
        data[i + TIME] = time;
        data[i + CPU] = cpu;
        data[i + WAITED] = waited;
        data[i + FLAGS] = flags;
        data[i + DUE] = due;
        count = Math.min(c + 1, capacity);
    }

    /** A copy of the samples, times (and due times) made relative to {@code origin}. */
    long[] snapshot(long origin) {
        int c = count;
        long[] out = new long[c * FIELDS];
        System.arraycopy(data, 0, out, 0, out.length);
        for (int i = 0; i < out.length; i += FIELDS) {
            out[i + TIME] -= origin;
            if (out[i + DUE] != LinuxDisturbance.NO_DUE) {
                out[i + DUE] -= origin;
            }
        }
        return out;
    }
}
