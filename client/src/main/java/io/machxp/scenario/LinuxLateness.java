package io.machxp.scenario;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a linux-mode run was disturbed by a late start: the judgement behind linux mode's
 * reruns ({@link LinuxCompare}).
 *
 * <p>Each scenario thread notes, on itself (System.nanoTime, i.e. CLOCK_MONOTONIC, no allocation),
 * when each of its steps began, and when a step that waits for a time was due: its first step (due
 * at its start time) and each step after a {@code sleep} (due when the sleep ends). Such a step that
 * began more than {@link #TOLERANCE_NANOS} (10 ms, the gap the scenario format asks between events
 * whose order decides an outcome) after it was due, beyond the time the scenario itself kept its CPU
 * busy, was held back by something the scenario does not contain (the machine's other load): the
 * run was disturbed.
 *
 * <p>The scenario's own use of the CPU, from the same run's timestamps: the time in the late
 * interval during which another thread of its kernel whose highest priority in the run was at least
 * its priority was inside a step other than a sleep (a compute, or a lock, which may spin on Linux),
 * from that step's beginning to its answer (a step never answered counts to the end). This may
 * excuse more than the CPU such a thread really took (a lock that slept; a kernel of two CPUs), so
 * a doubtful case is compared as before, never rerun; it never excuses time in which no such
 * thread was in a step, which is what a late start from outside looks like.
 */
public final class LinuxLateness {
    /** The scenario format's 10 ms (ScenarioTiming.MIN_GAP_NANOS). */
    public static final long TOLERANCE_NANOS = ScenarioTiming.MIN_GAP_NANOS;

    /**
     * A step of a thread in the Linux run, times from the run's origin.
     *
     * @param step the step's number (1 = first, as in {@link ScenarioResult.StepOutcome#number})
     * @param dueNanos when it was due (its thread's start for step 1, a sleep's end after a sleep), or
     *     -1 for a step that follows the one before at once
     */
    public record Start(String thread, int step, long dueNanos, long beganNanos) {}

    private LinuxLateness() {}

    /**
     * The latest of the timed steps of {@code starts} beyond the tolerance, as a sentence ("H
     * started 85 ms late"), or null when the run was not disturbed. {@code linux} is the same run's
     * result (each thread's kernel, priorities, and its steps' kinds and answers).
     */
    public static String disturbed(List<Start> starts, ScenarioResult linux) {
        Map<String, ScenarioResult.ThreadSummary> threads = new HashMap<>();
        for (ScenarioResult.ThreadSummary t : linux.threads()) {
            threads.put(t.name(), t);
        }
        Map<String, ScenarioResult.StepOutcome> answers = new HashMap<>();
        for (ScenarioResult.StepOutcome o : linux.outcomes()) {
            answers.put(o.thread() + "#" + o.number(), o);
        }
        Start worst = null;
        long worstLate = TOLERANCE_NANOS;
        for (Start s : starts) {
            ScenarioResult.ThreadSummary t = threads.get(s.thread());
            if (s.dueNanos() < 0 || t == null || s.beganNanos() - s.dueNanos() <= TOLERANCE_NANOS) {
                continue;
            }
            long late = s.beganNanos() - s.dueNanos() - busy(s, t, starts, threads, answers);
            if (late > worstLate) {
                worst = s;
                worstLate = late;
            }
        }
        if (worst == null) {
            return null;
        }
        long ms = worstLate / 1_000_000;
        return worst.step() > 1 ? worst.thread() + "'s step " + worst.step() + " (after a sleep) began " + ms + " ms late"
                : worst.thread() + " started " + ms + " ms late";
    }

    /** How much of [due, began] of {@code s} threads of its kernel at or above its priority were in a step. */
    private static long busy(Start s, ScenarioResult.ThreadSummary t, List<Start> starts,
            Map<String, ScenarioResult.ThreadSummary> threads, Map<String, ScenarioResult.StepOutcome> answers) {
        List<long[]> spans = new ArrayList<>();
        for (Start o : starts) {
            ScenarioResult.ThreadSummary ot = threads.get(o.thread());
            if (o.thread().equals(s.thread()) || ot == null || !ot.kernel().equals(t.kernel())
                    || Math.max(ot.priority(), ot.maxPriority()) < t.priority()) {
                continue;
            }
            ScenarioResult.StepOutcome answer = answers.get(o.thread() + "#" + o.step());
            if (answer != null && answer.kind() == Step.Kind.SLEEP) {
                continue; // a sleeping thread leaves its CPU
            }
            long from = Math.max(o.beganNanos(), s.dueNanos());
            long to = Math.min(answer == null ? s.beganNanos() : answer.time(), s.beganNanos());
            if (to > from) {
                spans.add(new long[] {from, to});
            }
        }
        spans.sort((a, b) -> Long.compare(a[0], b[0]));
        long total = 0;
        long end = Long.MIN_VALUE;
        for (long[] span : spans) {
            long from = Math.max(span[0], end);
            if (span[1] > from) {
                total += span[1] - from;
            }
            end = Math.max(end, span[1]);
        }
        return total;
    }
}
