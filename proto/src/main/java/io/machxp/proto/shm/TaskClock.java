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
 * stated bound on the lag. That bound is the kernel's, not this code's: the forced update after
 * five stalled ticks exists only from Linux 5.18 (backported to 5.15.127 and 5.10.192), and only
 * on a CPU that still ticks (not one of {@code nohz_full}). Elsewhere a stalled time-keeping CPU
 * freezes the coarse clock for as long as it stalls, and a thread would pass check after check
 * on it - unlike a pause between the check and the CAS (LeaseGate: a narrowing), where the thread
 * does not run. So each thread also compares the two clocks itself (its {@link Lane}): every
 * {@link #CROSS_CHECK_EVERY}th check that the coarse clock alone would pass reads
 * {@code System.nanoTime()} too, and so does every check step 2 makes anyway; if the coarse clock
 * lags it by more than the allowance, that check answers by the precise clock and the thread
 * reads only the precise clock for at least {@link #DISTRUST_NANOS} and until the two agree again.
 * So on any kernel, after the coarse clock falls behind by more than the allowance, each thread
 * passes at most {@code CROSS_CHECK_EVERY - 1} checks that {@code System.nanoTime()} would refuse.
 *
 * <p>Without the incubator module ({@code --add-modules jdk.incubator.foreign}, with
 * {@code --enable-native-access=ALL-UNNAMED}: Java 17 refuses the downcall without it), on
 * another OS or a 32-bit JVM, in a JVM without C2 (C1 only or no JIT: there the downcall costs
 * microseconds, {@link TopCompiler}), or if the coarse clock fails its check at start (a resolution above
 * 100 ms, a value after {@code System.nanoTime()} or further behind it than the allowance: not the
 * same clock), only step 2 runs: a task library used by programs started without the flags works
 * as before. {@code ./machxp demo}, {@code bench}, {@code jmh} pass the flags on Java 17 and 18
 * (Java 19+ has no such module), and the JMH forks and bench workers they start take
 * {@link #JVM_ARGS} from their parent; {@link #describe()} says which clock is in use and why.
 */
public final class TaskClock {
    /** The allowance in ticks of the coarse clock: 2 for its lag, 5 for a stalled update, 1 spare. */
    public static final int ALLOWANCE_TICKS = 8;
    /** Every this many checks a thread passes on the coarse clock alone, it reads the precise clock too (a power of 2). */
    public static final int CROSS_CHECK_EVERY = 64;
    /** How long a thread that caught the coarse clock lagging reads only the precise clock, at least. */
    public static final long DISTRUST_NANOS = 1_000_000_000L;
    /** The module the coarse clock needs: Java 17 and 18 have it (incubating), 19 and later not. */
    static final String MODULE = "jdk.incubator.foreign";
    /** What a JVM needs for the coarse clock (Java 17, 18). The first prints a warning on stderr at start. */
    private static final List<String> FLAGS = List.of("--add-modules", MODULE, "--enable-native-access=ALL-UNNAMED");
    /**
     * What to pass a task process this JVM starts (a bench worker, a JMH fork): {@link #FLAGS} if this
     * JVM has the module (./machxp passed it: a JDK that has it, no MACHXP_PRECISE_CLOCK), else none.
     */
    public static final List<String> JVM_ARGS = ModuleLayer.boot().findModule(MODULE).isPresent() ? FLAGS : List.of();
    /** What {@link Coarse#nanos} answers when the read failed. */
    static final long FAILED = Long.MIN_VALUE;
    private static final long MAX_RESOLUTION = 100_000_000L;
    private static final LongSupplier NANO_TIME = System::nanoTime;
    /** The coarse clock, or null (step 2 only). */
    private static final Coarse COARSE;
    /** {@link #ALLOWANCE_TICKS} of the coarse clock's resolution, in ns. */
    private static final long ALLOWANCE;
    /** Why there is no coarse clock, or null. */
    private static final String WHY_NOT;
    /** Each thread's lane of {@link #COARSE} (unused without it). */
    private static final ThreadLocal<Lane> LANES;

    static {
        String[] why = new String[1];
        Coarse coarse = load(why);
        long resolution = coarse == null ? -1 : coarse.resolution(coarse.newLane());
        long allowance = ALLOWANCE_TICKS * resolution;
        if (coarse != null && !(resolution > 0 && resolution <= MAX_RESOLUTION)) {
            coarse = null;
            why[0] = "clock_getres(CLOCK_MONOTONIC_COARSE) = " + resolution + " ns";
        } else if (coarse != null && !sameClock(coarse, coarse.newLane(), allowance, NANO_TIME)) {
            coarse = null;
            why[0] = "CLOCK_MONOTONIC_COARSE disagreed with System.nanoTime() at start";
        }
        COARSE = coarse;
        ALLOWANCE = coarse == null ? 0 : allowance;
        WHY_NOT = why[0];
        Coarse lanes = coarse;
        LANES = coarse == null ? null : ThreadLocal.withInitial(() -> lanes.newLane());
    }

    private TaskClock() {}

    /**
     * A coarse monotonic clock: {@code CLOCK_MONOTONIC_COARSE} in production, a fake in tests.
     * One implementation per JVM outside tests, so the call inlines.
     */
    abstract static class Coarse {
        /** Now, in ns of {@code CLOCK_MONOTONIC}'s base, or {@link #FAILED}; read with the caller's lane. */
        abstract long nanos(Lane lane);

        /** The tick, in ns, or -1 if unknown. */
        abstract long resolution(Lane lane);

        /** A new thread's lane (CoarseMonotonic's also holds its timespec). */
        Lane newLane() {
            return new Lane();
        }
    }

    /**
     * One thread's state of the check, touched by that thread only (no allocation, no shared
     * write): how many checks passed on the coarse clock alone since the last cross-check, and
     * until when the thread reads only the precise clock.
     */
    static class Lane {
        /** Checks passed on the coarse clock alone; every {@link #CROSS_CHECK_EVERY}th reads the precise clock too. */
        int passes;
        /** Whether the thread reads only the precise clock (it caught the coarse one lagging). */
        boolean distrust;
        /** With {@link #distrust}: the precise time from which the coarse clock is compared again. */
        long retryAt;
    }

    /**
     * Whether a lease ending at {@code end} (a {@code System.nanoTime()} of the kernel's on this
     * host; {@link Long#MIN_VALUE}: closed) runs now.
     */
    public static boolean before(long end) {
        Coarse coarse = COARSE;
        return coarse == null ? System.nanoTime() < end : before(end, coarse, LANES.get(), ALLOWANCE, NANO_TIME);
    }

    /** The check of {@link #before(long)}, on the given clocks and the calling thread's lane. */
    static boolean before(long end, Coarse coarse, Lane lane, long allowance, LongSupplier fine) {
        if (lane.distrust) {
            long f = fine.getAsLong();
            if (f - lane.retryAt >= 0) {
                long now = coarse.nanos(lane);
                if (agree(now, f, allowance)) {
                    lane.distrust = false;
                    lane.passes = 0;
                } else {
                    lane.retryAt = f + DISTRUST_NANOS;
                }
            }
            return f < end;
        }
        long now = coarse.nanos(lane);
        if (now != FAILED && now + allowance < end && (++lane.passes & (CROSS_CHECK_EVERY - 1)) != 0) {
            return true; // step 1
        }
        long f = fine.getAsLong(); // step 2, or the cross-check
        if (!agree(now, f, allowance)) {
            lane.distrust = true;
            lane.retryAt = f + DISTRUST_NANOS;
        }
        return f < end;
    }

    /** Whether a coarse read {@code now} lags the precise read {@code fine} by at most the allowance (ahead: agrees). */
    private static boolean agree(long now, long fine, long allowance) {
        return now != FAILED && fine - now <= allowance;
    }

    /** Whether the coarse clock is in use here (else every check reads {@code System.nanoTime()}). */
    public static boolean coarse() {
        return COARSE != null;
    }

    /** The allowance in use, in ns (0 without the coarse clock). */
    public static long allowanceNanos() {
        return ALLOWANCE;
    }

    /** Which clock the lease check reads in this JVM, and why, in one line (JMH, demo --verbose). */
    public static String describe() {
        return COARSE != null
                ? String.format(java.util.Locale.ROOT, "lease check: CLOCK_MONOTONIC_COARSE, allowance %.1f ms,"
                        + " System.nanoTime() every %dth check and near the end", ALLOWANCE / 1e6, CROSS_CHECK_EVERY)
                : "lease check: System.nanoTime() (" + WHY_NOT + ")";
    }

    /**
     * Whether {@code coarse} reads the clock {@code fine} reads, lagging by at most
     * {@code allowance}: a coarse read between two fine ones, at most the later one and within the
     * allowance of the earlier one. A few tries, for a thread preempted between the reads.
     */
    static boolean sameClock(Coarse coarse, Lane lane, long allowance, LongSupplier fine) {
        for (int i = 0; i < 5; i++) {
            long before = fine.getAsLong();
            long c = coarse.nanos(lane);
            long after = fine.getAsLong();
            if (c != FAILED && c <= after && before - c <= allowance) {
                return true;
            }
        }
        return false;
    }

    /** {@link CoarseMonotonic} if this JVM can call it, else null with the reason in {@code why[0]}; never throws. */
    private static Coarse load(String[] why) {
        if (!System.getProperty("os.name", "").startsWith("Linux") || !"64".equals(System.getProperty("sun.arch.data.model"))) {
            why[0] = "not a 64-bit Linux";
        } else if (Boolean.getBoolean("machxp.shm.preciseClock")) {
            why[0] = "-Dmachxp.shm.preciseClock=true";
        } else if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            why[0] = "no module " + MODULE + (Runtime.version().feature() >= 19 ? ": Java " + Runtime.version().feature()
                    + " has none" : ": run without --add-modules " + MODULE);
        } else if ((why[0] = TopCompiler.missingC2()) != null) {
            return null; // the downcall would cost more than System.nanoTime() (TopCompiler)
        } else {
            try {
                return (Coarse) Class.forName(TaskClock.class.getPackageName() + ".CoarseMonotonic")
                        .getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                Throwable cause = e instanceof java.lang.reflect.InvocationTargetException && e.getCause() != null ? e.getCause() : e;
                why[0] = "the downcall failed: " + cause; // no native access (--enable-native-access), no libc symbol
            }
        }
        return null;
    }
}
