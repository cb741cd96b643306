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
 * at its start time), each step after a {@code sleep} (due when the sleep ends) and each step after
 * a lock with a timeout (due at the lock's deadline: by then the lock has answered, acquired or
 * ETIMEDOUT, unless something held the thread back). Such a step that began more than
 * {@link #TOLERANCE_NANOS} (10 ms, the gap the scenario format asks between events whose order
 * decides an outcome) after it was due, beyond the time the scenario itself kept its CPU busy, was
 * held back by something the scenario does not contain (the machine's other load): the run was
 * disturbed.
 *
 * <p>The scenario's own use of the CPU, from the same run's timestamps ({@link LinuxStepSpans}):
 * the time in the late interval during which another thread of its kernel may have held the CPU
 * (inside a compute or another step that is not a sleep or a lock, from its beginning to its
 * answer; inside a lock only while the word's holder was running, since a PI waiter spins then and
 * otherwise sleeps in the futex; a step never answered bounded by its CPU time), while that
 * thread's effective priority was at least the late thread's ({@link LinuxPriorityTimes}: a lower
 * thread boosted at another moment of the run excuses nothing); and, after a timed lock, the time
 * its word's holder was running (the waiter spun then, and a spinning waiter sees its timeout only
 * when the spin ends). This may excuse more than the CPU such threads really took (a compute held
 * back itself; a kernel of two CPUs), so a doubtful case is compared as before, never rerun; it
 * never excuses time in which no such thread was in such a step, which is what a late start from
 * outside looks like.
 *
 * <p>A run in which no step was late is still disturbed when the priority sampler saw nothing for
 * longer than the tolerance while a boost could have happened ({@link LinuxSamplerBlind}): a boost
 * of a thread that sleeps or blocks is seen by the sampler alone.
 */
public final class LinuxLateness {
    /** The scenario format's 10 ms (ScenarioTiming.MIN_GAP_NANOS). */
    public static final long TOLERANCE_NANOS = ScenarioTiming.MIN_GAP_NANOS;

    /**
     * A step of a thread in the Linux run, times from the run's origin.
     *
     * @param step the step's number (1 = first, as in {@link ScenarioResult.StepOutcome#number})
     * @param dueNanos when it was due (its thread's start for step 1, a sleep's end after a sleep, a
     *     timed lock's deadline after one), or -1 for a step that follows the one before at once
     */
    public record Start(String thread, int step, long dueNanos, long beganNanos) {}

    private LinuxLateness() {}

    /**
     * The latest of the timed steps of {@code starts} beyond the tolerance, as a sentence ("H
     * started 85 ms late"), or null when the run was not disturbed. {@code linux} is the same run's
     * result (each thread's kernel, priorities and boosts, and its steps' kinds and answers).
     */
    public static String disturbed(List<Start> starts, ScenarioResult linux) {
        return disturbed(starts, linux, LinuxSamplerBlind.NONE);
    }

    /**
     * The same, and (if no step was late) whether the priority sampler saw nothing for longer than
     * the tolerance while it mattered ({@link LinuxSamplerBlind}): then a boost may have been missed.
     */
    public static String disturbed(List<Start> starts, ScenarioResult linux, LinuxSamplerBlind blind) {
        Map<String, ScenarioResult.ThreadSummary> threads = new HashMap<>();
        for (ScenarioResult.ThreadSummary t : linux.threads()) {
            threads.put(t.name(), t);
        }
        Map<String, ScenarioResult.StepOutcome> answers = new HashMap<>();
        for (ScenarioResult.StepOutcome o : linux.outcomes()) {
            answers.put(o.thread() + "#" + o.number(), o);
        }
        LinuxStepSpans spans = new LinuxStepSpans(starts, linux);
        LinuxPriorityTimes priorities = new LinuxPriorityTimes(linux.threads(), linux.events());
        Start worst = null;
        long worstLate = TOLERANCE_NANOS;
        for (Start s : starts) {
            ScenarioResult.ThreadSummary t = threads.get(s.thread());
            if (s.dueNanos() < 0 || t == null || s.beganNanos() - s.dueNanos() <= TOLERANCE_NANOS) {
                continue;
            }
            ScenarioResult.StepOutcome before = answers.get(s.thread() + "#" + (s.step() - 1));
            long late = s.beganNanos() - s.dueNanos() - busy(s, t, before, linux.threads(), spans, priorities);
            if (late > worstLate) {
                worst = s;
                worstLate = late;
            }
        }
        if (worst == null) {
            return blind.disturbed(starts, linux, spans);
        }
        long ms = worstLate / 1_000_000;
        if (worst.step() == 1) {
            return worst.thread() + " started " + ms + " ms late";
        }
        ScenarioResult.StepOutcome before = answers.get(worst.thread() + "#" + (worst.step() - 1));
        String after = before != null && before.kind() == Step.Kind.LOCK ? "a timed lock" : "a sleep";
        return worst.thread() + "'s step " + worst.step() + " (after " + after + ") began " + ms + " ms late";
    }

    /**
     * How much of [due, began] of {@code s} threads of its kernel at or above its priority were in a
     * step, or (after a timed lock) the lock's holder was running.
     */
    private static long busy(Start s, ScenarioResult.ThreadSummary t, ScenarioResult.StepOutcome before,
            List<ScenarioResult.ThreadSummary> threads, LinuxStepSpans spans, LinuxPriorityTimes priorities) {
        List<long[]> taken = new ArrayList<>();
        for (ScenarioResult.ThreadSummary o : threads) {
            if (o.name().equals(t.name()) || !o.kernel().equals(t.kernel())) {
                continue;
            }
            taken.addAll(LinuxSpans.intersect(spans.cpu(o.name()), priorities.atLeast(o.name(), t.priority())));
        }
        if (before != null && before.kind() == Step.Kind.LOCK) {
            taken.addAll(spans.spinning(s.thread(), s.step() - 1));
        }
        return LinuxSpans.length(LinuxSpans.clip(LinuxSpans.merge(taken), s.dueNanos(), s.beganNanos()));
    }
}
