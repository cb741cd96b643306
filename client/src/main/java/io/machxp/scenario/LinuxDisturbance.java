package io.machxp.scenario;

import static io.machxp.scenario.SchedSamples.BUSY;
import static io.machxp.scenario.SchedSamples.CPU;
import static io.machxp.scenario.SchedSamples.DUE;
import static io.machxp.scenario.SchedSamples.END;
import static io.machxp.scenario.SchedSamples.FIELDS;
import static io.machxp.scenario.SchedSamples.FLAGS;
import static io.machxp.scenario.SchedSamples.TIME;
import static io.machxp.scenario.SchedSamples.WAITED;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Whether a linux-mode run kept the schedule its file describes, or was disturbed: a thread (or
 * the runner, which queues each thread's start) was held off its CPU by something that is not the
 * scenario - the machine's other work, the hypervisor, a JVM pause - long enough to change which
 * event came first. A disturbed run gets no verdict (docs/linux-mode.md, "Disturbed runs").
 *
 * <h2>The judgement</h2>
 * Each thread's samples ({@link SchedSamples}: time, CPU time, run-queue wait, at its start, after
 * each step and every 200us of a compute) cut its run into intervals. In each, the time it was
 * kept from running is
 * <ul>
 * <li>where it was due to run (its start, the end of a sleep): how late it began, of which only the
 *     run-queue wait can be the scenario's doing (a late timer or a stolen virtual CPU is not);
 * <li>where it never blocked (a compute): the wall time it did not spend on its CPU;
 * <li>otherwise (a lock, which may block): its run-queue wait.
 * </ul>
 * Of that, the scenario explains what the other threads of its kernel that could hold it off (their
 * highest priority at least its lowest) ran meanwhile, divided by the kernel's CPUs (the thread
 * waits only while every CPU of its kernel is taken). Their CPU time in an interval is bounded
 * above from their own samples around it, so the scenario is given the benefit of the doubt: a run
 * is called disturbed only for time no scenario thread can account for. A thread whose unexplained
 * time adds up to more than the tolerance (half the smallest gap between two distinct start times
 * of the file, between 1 and 3 ms) makes the run disturbed; so does a start the runner queued more
 * than the tolerance after the thread's start time, and a gap of more than 5 ms between two sweeps
 * of the priority sampler that scenario threads holding every CPU it may use do not explain (a
 * boost of a thread that does not run meanwhile is seen by the sampler only).
 */
public final class LinuxDisturbance {
    static final long MIN_TOLERANCE_NANOS = 1_000_000;
    static final long MAX_TOLERANCE_NANOS = 3_000_000;
    /** A sample's due time when it has none. */
    static final long NO_DUE = Long.MIN_VALUE;

    /**
     * One scenario thread of the run. {@code lowest} is the lowest priority it is set to (its own
     * and any priority step's for it), {@code highest} the highest it ran at (boosts included);
     * times are nanoseconds from the run's origin.
     */
    record ThreadTrace(String name, String kernel, int lowest, int highest, long start, long[] samples,
            boolean finished) {}

    /**
     * The JVM's own threads of the run: when the runner queued each thread's start (from the
     * origin) and its run-queue wait meanwhile (-1: unknown); the priority sampler's gaps of more
     * than a millisecond between two sweeps ({from, to}), and how many CPUs it shares with the
     * scenario's threads (0: it has a CPU of its own).
     */
    record RunnerTrace(Map<String, Long> queued, long waited, List<long[]> samplerGaps, int samplerSharedCpus) {
        RunnerTrace(Map<String, Long> queued, long waited) {
            this(queued, waited, List.of(), 0);
        }
    }

    /**
     * The longest the priority sampler may be kept from its sweep by something other than the
     * scenario: a boost of a thread that does not run meanwhile is seen only by the sampler, and
     * under the 10 ms rule one that matters lasts longer than this.
     */
    static final long SAMPLER_TOLERANCE_NANOS = 5_000_000;

    /**
     * The judgement of one run.
     *
     * @param why who was held off and how long, null when the run kept its schedule
     * @param heldOff each thread's time off its CPU that the scenario does not explain, in nanoseconds
     */
    public record Verdict(String why, Map<String, Long> heldOff, long tolerance) {
        public boolean disturbed() {
            return why != null;
        }
    }

    private LinuxDisturbance() {}

    /** Half the smallest gap between two distinct start times, between 1 and 3 ms. */
    static long tolerance(List<Scenario.ThreadSpec> threads) {
        TreeSet<Long> starts = new TreeSet<>();
        threads.forEach(t -> starts.add(t.startNanos()));
        long gap = Long.MAX_VALUE;
        Long previous = null;
        for (long s : starts) {
            if (previous != null) {
                gap = Math.min(gap, s - previous);
            }
            previous = s;
        }
        return gap == Long.MAX_VALUE ? MAX_TOLERANCE_NANOS
                : Math.max(MIN_TOLERANCE_NANOS, Math.min(MAX_TOLERANCE_NANOS, gap / 2));
    }

    static Verdict judge(List<ThreadTrace> threads, Map<String, Integer> kernelCpus, RunnerTrace runner, long tolerance) {
        List<String> why = new ArrayList<>();
        String late = null;
        long worst = tolerance;
        for (ThreadTrace t : threads) {
            Long queued = runner.queued().get(t.name());
            if (queued != null && queued - t.start() > worst) {
                worst = queued - t.start();
                late = t.name();
            }
        }
        String sampler = samplerHeldOff(threads, runner);
        if (sampler != null) {
            why.add(sampler);
        }
        if (late != null) {
            why.add("the runner, held off its CPU: it queued " + late + "'s start " + Durations.format(worst)
                    + " after its start time" + (runner.waited() > 0 ? " (it waited " + Durations.format(runner.waited())
                    + " for a CPU)" : ""));
        }
        Map<String, Long> heldOff = new LinkedHashMap<>();
        String worstThread = null;
        long worstHeld = tolerance;
        long worstLate = 0;
        for (ThreadTrace t : threads) {
            long[] held = unexplained(t, threads, kernelCpus.getOrDefault(t.kernel(), 1));
            heldOff.put(t.name(), held[0]);
            if (held[0] > worstHeld) {
                worstHeld = held[0];
                worstThread = t.name();
                worstLate = held[1];
            }
        }
        if (worstThread != null) {
            String name = worstThread;
            long start = threads.stream().filter(x -> x.name().equals(name)).findFirst().map(ThreadTrace::start).orElse(0L);
            why.add(name + " held off its CPU " + Durations.format(worstHeld) + " that no scenario thread explains"
                    + (worstLate > 0 ? " (it began " + Durations.format(worstLate) + " after its start at "
                    + Durations.format(start) + ")" : ""));
        }
        return new Verdict(why.isEmpty() ? null : String.join("; ", why), heldOff, tolerance);
    }

    /**
     * The priority sampler's longest gap between two sweeps while the scenario's threads ran that
     * they do not explain (they explain it only where it shares their CPUs and they took them all),
     * as a reason if longer than {@link #SAMPLER_TOLERANCE_NANOS}; else null.
     */
    private static String samplerHeldOff(List<ThreadTrace> threads, RunnerTrace runner) {
        long end = 0;
        for (ThreadTrace t : threads) {
            long[] s = t.samples();
            if (s.length > 0) {
                end = Math.max(end, s[s.length - FIELDS + TIME]);
            }
        }
        long worst = SAMPLER_TOLERANCE_NANOS;
        long worstAt = -1;
        for (long[] gap : runner.samplerGaps()) {
            long a = Math.max(0, gap[0]);
            long b = Math.min(end, gap[1]);
            if (b <= a) {
                continue;
            }
            long explained = 0;
            if (runner.samplerSharedCpus() > 0) {
                for (ThreadTrace u : threads) {
                    explained += ranAtMost(u, a, b);
                }
                explained = Math.min(b - a, explained / runner.samplerSharedCpus());
            }
            if (b - a - explained > worst) {
                worst = b - a - explained;
                worstAt = a;
            }
        }
        return worstAt < 0 ? null : "the priority sampler, held off its CPU " + Durations.format(worst) + " from "
                + Durations.format(worstAt) + " (a boost of a thread that did not run meanwhile could be missed)";
    }

    /** {total unexplained time off its CPU, how late its start was} for one thread. */
    private static long[] unexplained(ThreadTrace t, List<ThreadTrace> all, int cpus) {
        long[] s = t.samples();
        int n = s.length / FIELDS;
        long total = 0;
        long startLate = 0;
        for (int k = 1; k < n; k++) {
            int p = (k - 1) * FIELDS;
            int i = k * FIELDS;
            long a = s[p + TIME];
            long b = s[i + TIME];
            long waited = s[p + WAITED] < 0 || s[i + WAITED] < 0 ? -1 : s[i + WAITED] - s[p + WAITED];
            long off;
            long from = a;
            if (s[i + DUE] != NO_DUE) {
                long late = b - s[i + DUE];
                if (late <= 0) {
                    continue;
                }
                from = Math.max(a, s[i + DUE]);
                // Only a wait on the run queue can be another thread's doing; a late wake-up cannot.
                long queueWait = waited < 0 ? late : Math.min(late, waited);
                long explained = Math.min(queueWait, explained(t, all, cpus, from, b));
                total += late - explained;
                if ((s[i + FLAGS] & SchedSamples.START) != 0) {
                    startLate = late;
                }
                continue;
            } else if ((s[i + FLAGS] & BUSY) != 0) {
                off = (b - a) - (s[i + CPU] - s[p + CPU]);
            } else {
                off = Math.max(0, waited);
            }
            if (off > 0) {
                total += Math.max(0, off - explained(t, all, cpus, from, b));
            }
        }
        return new long[] {total, startLate};
    }

    /** How much of [a, b] the threads of t's kernel that may hold it off can have run, per CPU of the kernel. */
    private static long explained(ThreadTrace t, List<ThreadTrace> all, int cpus, long a, long b) {
        long sum = 0;
        for (ThreadTrace u : all) {
            if (u != t && u.kernel().equals(t.kernel()) && u.highest() >= t.lowest()) {
                sum += ranAtMost(u, a, b);
            }
        }
        return sum / Math.max(1, cpus);
    }

    /**
     * The most CPU time u can have had in [a, b]: its CPU time from its last sample at or before a
     * (before its first sample it was parked) to its first sample at or after b (after its last, if
     * it ended, none), and never more than b - a.
     */
    static long ranAtMost(ThreadTrace u, long a, long b) {
        long[] s = u.samples();
        int n = s.length / FIELDS;
        if (n == 0 || b <= a) {
            return Math.max(0, b - a);
        }
        int before = lastAtOrBefore(s, n, a);
        long cpuBefore = s[Math.max(0, before) * FIELDS + CPU];
        int after = firstAtOrAfter(s, n, b, Math.max(0, before));
        long cpuAfter;
        if (after < n) {
            cpuAfter = s[after * FIELDS + CPU];
        } else if (u.finished() || (s[(n - 1) * FIELDS + FLAGS] & END) != 0) {
            cpuAfter = s[(n - 1) * FIELDS + CPU];
        } else {
            return b - a;
        }
        return Math.max(0, Math.min(b - a, cpuAfter - cpuBefore));
    }

    private static int lastAtOrBefore(long[] s, int n, long t) {
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (s[mid * FIELDS + TIME] <= t) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    private static int firstAtOrAfter(long[] s, int n, long t, int from) {
        int lo = from;
        int hi = n - 1;
        int found = n;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (s[mid * FIELDS + TIME] >= t) {
                found = mid;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return found;
    }
}
