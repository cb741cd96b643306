package io.machxp.scenario;

import io.machxp.scenario.Scenario.ThreadSpec;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The 10 ms rule: events whose order decides an outcome should be at least 10 ms apart, so that
 * the real timing of a Linux run (scheduling, the JIT, gRPC) cannot flip them. It warns when, as
 * far as a file shows statically:
 * <ul>
 * <li>two threads that use a common word (any step naming it) start less than 10 ms apart;
 * <li>a lock's timeout expires less than 10 ms from another thread's start, or from the end of
 *     another thread's run of compute and sleep steps.
 * </ul>
 * A thread's schedule is its start plus the compute and sleep before each step, as if every other
 * step took no time. It is known up to and including the thread's first lock of a word that
 * another thread starting no later also locks or trylocks (that lock may wait); later steps have
 * no known time and take no part.
 */
final class ScenarioTiming {
    static final long MIN_GAP_NANOS = 10_000_000;
    private static final String WHY = "; events whose order decides an outcome need 10ms between them, "
            + "or real timing may flip them";

    /** Where a thread is in the file: the line of its start (or name) and of each step. */
    record Lines(int thread, List<Integer> steps) {}

    /** The end of a run of compute and sleep steps at a known time. */
    private record RunEnd(long at, Step last, int line) {}

    private ScenarioTiming() {}

    static List<String> warnings(String source, List<ThreadSpec> threads, Map<String, Lines> lines) {
        List<Map.Entry<Integer, String>> out = new ArrayList<>();
        for (int i = 0; i < threads.size(); i++) {
            for (int j = i + 1; j < threads.size(); j++) {
                startsTooClose(threads.get(i), threads.get(j), lines, out);
            }
        }
        for (ThreadSpec t : threads) {
            long[] times = schedule(t, threads);
            List<Integer> stepLines = lines.get(t.name()).steps();
            for (int k = 0; k < t.program().size(); k++) {
                Step s = t.program().get(k);
                if (s.kind() == Step.Kind.LOCK && s.nanos() >= 0 && times[k] >= 0) {
                    timeoutTooClose(t, k, times[k] + s.nanos(), stepLines.get(k), threads, lines, out);
                }
            }
        }
        return out.stream().sorted(Map.Entry.comparingByKey())
                .map(e -> source + ":" + e.getKey() + ": warning: " + e.getValue()).toList();
    }

    private static void startsTooClose(ThreadSpec a, ThreadSpec b, Map<String, Lines> lines,
            List<Map.Entry<Integer, String>> out) {
        long gap = Math.abs(a.startNanos() - b.startNanos());
        Set<String> common = words(a);
        common.retainAll(words(b));
        if (gap >= MIN_GAP_NANOS || common.isEmpty()) {
            return;
        }
        ThreadSpec first = b.startNanos() < a.startNanos() ? b : a;
        ThreadSpec later = first == a ? b : a;
        String when = gap == 0 ? " starts at the same time as " : " starts " + Durations.format(gap) + " after ";
        out.add(Map.entry(lines.get(later.name()).thread(), "thread " + later.name() + when + first.name()
                + " (line " + lines.get(first.name()).thread() + "), and both use "
                + ScenarioFormat.and(List.copyOf(common)) + WHY));
    }

    private static void timeoutTooClose(ThreadSpec t, int step, long expiry, int line, List<ThreadSpec> threads,
            Map<String, Lines> lines, List<Map.Entry<Integer, String>> out) {
        String what = "thread " + t.name() + ", step " + (step + 1) + ": the lock's timeout expires at "
                + Durations.format(expiry) + ", ";
        for (ThreadSpec u : threads) {
            if (u == t) {
                continue;
            }
            if (Math.abs(expiry - u.startNanos()) < MIN_GAP_NANOS) {
                out.add(Map.entry(line, what + apart(expiry, u.startNanos()) + " " + u.name() + " starts (line "
                        + lines.get(u.name()).thread() + ")" + WHY));
            }
            for (RunEnd end : runEnds(u, threads, lines.get(u.name()))) {
                if (Math.abs(expiry - end.at()) < MIN_GAP_NANOS) {
                    out.add(Map.entry(line, what + apart(expiry, end.at()) + " " + u.name() + "'s "
                            + end.last().kind().key + " ends at " + Durations.format(end.at()) + " (line " + end.line()
                            + ")" + WHY));
                }
            }
        }
    }

    /** "3ms before", "2ms after", "just when". */
    private static String apart(long t, long other) {
        return t == other ? "just when" : Durations.format(Math.abs(t - other)) + (t < other ? " before" : " after");
    }

    /** When each step of {@code t} is asked, as far as it is known; -1 where it is not. */
    private static long[] schedule(ThreadSpec t, List<ThreadSpec> threads) {
        long[] times = new long[t.program().size()];
        long now = t.startNanos();
        boolean known = true;
        for (int k = 0; k < times.length; k++) {
            Step s = t.program().get(k);
            times[k] = known ? now : -1;
            if (s.kind() == Step.Kind.COMPUTE || s.kind() == Step.Kind.SLEEP) {
                now += s.nanos();
            } else if (s.kind() == Step.Kind.LOCK && mayWait(t, s.word(), threads)) {
                known = false;
            }
        }
        return times;
    }

    /** A lock may wait when another thread that starts no later also locks or trylocks the word. */
    private static boolean mayWait(ThreadSpec t, String word, List<ThreadSpec> threads) {
        return threads.stream().anyMatch(u -> u != t && u.startNanos() <= t.startNanos()
                && u.program().stream().anyMatch(s -> word.equals(s.word())
                        && (s.kind() == Step.Kind.LOCK || s.kind() == Step.Kind.TRYLOCK)));
    }

    /** The ends of {@code t}'s runs of compute and sleep steps that start at a known time. */
    private static List<RunEnd> runEnds(ThreadSpec t, List<ThreadSpec> threads, Lines lines) {
        long[] times = schedule(t, threads);
        List<RunEnd> ends = new ArrayList<>();
        List<Step> program = t.program();
        for (int k = 0; k < program.size(); k++) {
            boolean timed = isTimed(program.get(k));
            boolean runEnds = k + 1 == program.size() || !isTimed(program.get(k + 1));
            if (timed && runEnds && times[k] >= 0) {
                ends.add(new RunEnd(times[k] + program.get(k).nanos(), program.get(k), lines.steps().get(k)));
            }
        }
        return ends;
    }

    private static boolean isTimed(Step s) {
        return s.kind() == Step.Kind.COMPUTE || s.kind() == Step.Kind.SLEEP;
    }

    private static Set<String> words(ThreadSpec t) {
        Set<String> words = new LinkedHashSet<>();
        t.program().stream().filter(s -> s.word() != null && s.kind() != Step.Kind.PRIORITY).forEach(s -> words.add(s.word()));
        return words;
    }
}
