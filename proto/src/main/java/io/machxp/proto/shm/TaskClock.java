package io.machxp.proto.shm;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * The clock a task process's fast path checks its kernel's lease on (docs/shared-memory.md, "The
 * futex fast path"): the lease's end the kernel publishes is a {@link System#nanoTime} of the
 * kernel's, Linux's {@code CLOCK_MONOTONIC}, and a lock may go ahead only while this process's
 * {@code CLOCK_MONOTONIC} is before it.
 *
 * <p>{@code System.nanoTime()} is most of a fast lock's cost on a VM (21-31 ns, against about 11
 * for {@code ReentrantLock}: docs/performance.md). {@code CLOCK_MONOTONIC_COARSE} is the same clock
 * as the kernel last updated it, read without the clock source; through a Panama downcall
 * ({@link CoarseMonotonic}) it costs about 10 ns. It lags {@code CLOCK_MONOTONIC} by up to two of
 * its ticks ({@code clock_getres}): Linux advances it only by whole ticks of the clock source,
 * counted from a point that need not be the tick interrupt's, and only at a tick - measured up to
 * 6.5 ms with a 4 ms tick - and longer if the CPU keeping time stalls (a vCPU the host does not run),
 * until another CPU's tick forces the update after five stalled ticks. So the check is:
 * <ol>
 *   <li>{@code coarse + allowance < end}, with an allowance of {@link #ALLOWANCE_TICKS} ticks (two
 *       for the lag, five for the stall, one to spare): the lease runs; no precise read;
 *   <li>otherwise {@code System.nanoTime() < end}, the check as it was. Only the last allowance
 *       before the end (32 ms with a 4 ms tick) pays for it, and a kernel renews its lease every
 *       eighth of it and publishes an end a fifth short of the pager's, so while the kernel is
 *       alive its task processes never come that close.
 * </ol>
 * Either step alone is a sufficient condition for the old check ({@code nanoTime() < end}) under the
 * stated bound on the lag, so nothing passes that it refused except through a lag longer than the
 * allowance - a stall of the time-keeping CPU the check cannot see, of the kind a pause between the
 * check and the CAS already is (LeaseGate: a narrowing, not a proof).
 *
 * <p>Without the incubator module ({@code --add-modules jdk.incubator.foreign}, with
 * {@code --enable-native-access=ALL-UNNAMED}: Java 17 refuses the downcall without it), on
 * another OS or a 32-bit JVM, or if the coarse clock fails its check at start (a resolution above
 * 100 ms, a value after {@code System.nanoTime()} or further behind it than the allowance: not the
 * same clock), only step 2 runs: a task library used by programs started without the flags works
 * as before. {@code ./machxp} and the JMH forks pass {@link #JVM_ARGS}.
 */
public final class TaskClock {
    /** The allowance in ticks of the coarse clock: 2 for its lag, 5 for a stalled update, 1 spare. */
    public static final int ALLOWANCE_TICKS = 8;
    /** What a JVM needs for the coarse clock (Java 17). The first prints a warning on stderr at start. */
    public static final List<String> JVM_ARGS = List.of("--add-modules", "jdk.incubator.foreign",
            "--enable-native-access=ALL-UNNAMED");
    /** What {@link Coarse#nanos} answers when the read failed. */
    static final long FAILED = Long.MIN_VALUE;
    private static final long MAX_RESOLUTION = 100_000_000L;
    private static final LongSupplier NANO_TIME = System::nanoTime;
    /** The coarse clock, or null (step 2 only). */
    private static final Coarse COARSE;
    /** {@link #ALLOWANCE_TICKS} of the coarse clock's resolution, in ns. */
    private static final long ALLOWANCE;

    static {
        Coarse coarse = load();
        long resolution = coarse == null ? -1 : coarse.resolution();
        long allowance = ALLOWANCE_TICKS * resolution;
        if (coarse != null && !(resolution > 0 && resolution <= MAX_RESOLUTION && sameClock(coarse, allowance, NANO_TIME))) {
            coarse = null;
        }
        COARSE = coarse;
        ALLOWANCE = coarse == null ? 0 : allowance;
    }

    private TaskClock() {}

    /**
     * A coarse monotonic clock: {@code CLOCK_MONOTONIC_COARSE} in production, a fake in tests.
     * One implementation per JVM outside tests, so the call inlines.
     */
    abstract static class Coarse {
        /** Now, in ns of {@code CLOCK_MONOTONIC}'s base, or {@link #FAILED}. */
        abstract long nanos();

        /** The tick, in ns, or -1 if unknown. */
        abstract long resolution();
    }

    /**
     * Whether a lease ending at {@code end} (a {@code System.nanoTime()} of the kernel's on this
     * host; {@link Long#MIN_VALUE}: closed) runs now.
     */
    public static boolean before(long end) {
        return before(end, COARSE, ALLOWANCE, NANO_TIME);
    }

    /** The check of {@link #before(long)}, on the given clocks. */
    static boolean before(long end, Coarse coarse, long allowance, LongSupplier fine) {
        if (coarse != null) {
            long now = coarse.nanos();
            if (now != FAILED && now + allowance < end) {
                return true;
            }
        }
        return fine.getAsLong() < end;
    }

    /** Whether the coarse clock is in use here (else every check reads {@code System.nanoTime()}). */
    public static boolean coarse() {
        return COARSE != null;
    }

    /** The allowance in use, in ns (0 without the coarse clock). */
    public static long allowanceNanos() {
        return ALLOWANCE;
    }

    /**
     * Whether {@code coarse} reads the clock {@code fine} reads, lagging by at most
     * {@code allowance}: a coarse read between two fine ones, at most the later one and within the
     * allowance of the earlier one. A few tries, for a thread preempted between the reads.
     */
    static boolean sameClock(Coarse coarse, long allowance, LongSupplier fine) {
        for (int i = 0; i < 5; i++) {
            long before = fine.getAsLong();
            long c = coarse.nanos();
            long after = fine.getAsLong();
            if (c != FAILED && c <= after && before - c <= allowance) {
                return true;
            }
        }
        return false;
    }

    /** {@link CoarseMonotonic} if this JVM can call it, else null; never throws. */
    private static Coarse load() {
        if (!System.getProperty("os.name", "").startsWith("Linux") || !"64".equals(System.getProperty("sun.arch.data.model"))
                || Boolean.getBoolean("machxp.shm.preciseClock") || ModuleLayer.boot().findModule("jdk.incubator.foreign").isEmpty()) {
            return null;
        }
        try {
            return (Coarse) Class.forName(TaskClock.class.getPackageName() + ".CoarseMonotonic")
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null; // no native access (--enable-native-access), no libc symbol: step 2 only
        }
    }
}
