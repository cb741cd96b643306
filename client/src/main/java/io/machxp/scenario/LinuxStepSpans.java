package io.machxp.scenario;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * When each thread of a linux-mode run may have held a CPU, from the run's own timestamps (each
 * step's beginning, {@link LinuxLateness.Start}, and its answer), for {@link LinuxLateness}.
 *
 * <ul>
 * <li>A step other than a sleep or a lock, from its beginning to its answer.
 * <li>A lock only while its word's holder (another thread, on any kernel) was running
 *     ({@link #spinning}): a PI waiter keeps its CPU only while it spins, and the rt_mutex spins
 *     only while the owner runs; otherwise it sleeps in the futex and holds no CPU.
 * <li>A step never answered (the run reached its limit while the thread was in it): a compute for
 *     the CPU time the file gives it, counted outside the time the threads of its kernel at or
 *     above its priority were in steps (they may have preempted it); a lock as above; any other
 *     step (a futex call, a read) not at all. Counted to the end of the run, such a step would
 *     excuse every later wait of its kernel.
 * </ul>
 *
 * <p>A word's holder, from the answers: a lock or trylock answered ok or EOWNERDEAD takes it, the
 * holder's unlock answered ok or its end (exit, die, ESRCH) gives it up. A holder runs during its
 * steps other than a sleep or a lock (one blocked in a lock of its own is off its CPU). A span
 * may still hold more than the CPU the thread took (a compute held back by the machine, a kernel
 * of two CPUs): the judgement's known excess, which makes it compare a doubtful run.
 */
final class LinuxStepSpans {
    private record Span(int step, Step.Kind kind, String word, long from, long to, boolean answered) {}

    private final Map<String, List<Span>> steps = new HashMap<>();
    /** Per word: its holders, as (thread, from, to). */
    private final Map<String, List<Object[]>> holders = new HashMap<>();

    LinuxStepSpans(List<LinuxLateness.Start> starts, ScenarioResult linux) {
        Map<String, ScenarioResult.StepOutcome> answers = new HashMap<>();
        for (ScenarioResult.StepOutcome o : linux.outcomes()) {
            answers.put(o.thread() + "#" + o.number(), o);
        }
        Map<String, Scenario.ThreadSpec> specs = new HashMap<>();
        if (linux.scenario() != null) {
            linux.scenario().threads().forEach(t -> specs.put(t.name(), t));
        }
        for (LinuxLateness.Start s : starts) {
            ScenarioResult.StepOutcome a = answers.get(s.thread() + "#" + s.step());
            Step written = written(specs.get(s.thread()), s.step());
            Step.Kind kind = a != null ? a.kind() : written == null ? null : written.kind();
            String word = a != null ? a.word() : written == null ? null : written.word();
            long to = a != null ? a.time() : written != null && kind == Step.Kind.COMPUTE ? written.nanos() : 0;
            steps.computeIfAbsent(s.thread(), k -> new ArrayList<>())
                    .add(new Span(s.step(), kind, word, s.beganNanos(), to, a != null));
        }
        holders(linux.outcomes());
        bound(linux.threads());
    }

    private static Step written(Scenario.ThreadSpec spec, int number) {
        if (spec == null || number < 1) {
            return null;
        }
        return number <= spec.program().size() ? spec.program().get(number - 1) : new Step(Step.Kind.EXIT, null, -1, 0, null);
    }

    private void holders(List<ScenarioResult.StepOutcome> outcomes) {
        List<ScenarioResult.StepOutcome> byTime = new ArrayList<>(outcomes);
        byTime.sort(Comparator.comparingLong(ScenarioResult.StepOutcome::time));
        Map<String, Object[]> held = new HashMap<>();
        for (ScenarioResult.StepOutcome o : byTime) {
            boolean takes = (o.kind() == Step.Kind.LOCK || o.kind() == Step.Kind.TRYLOCK) && o.word() != null
                    && (o.code().equals("ok") || o.code().equals("EOWNERDEAD"));
            if (takes) {
                Object[] before = held.get(o.word());
                if (before != null) {
                    before[2] = o.time();
                }
                Object[] h = {o.thread(), o.time(), LinuxSpans.OPEN};
                held.put(o.word(), h);
                holders.computeIfAbsent(o.word(), k -> new ArrayList<>()).add(h);
            } else if (o.kind() == Step.Kind.UNLOCK && o.code().equals("ok") && o.word() != null) {
                Object[] h = held.get(o.word());
                if (h != null && h[0].equals(o.thread())) {
                    h[2] = o.time();
                    held.remove(o.word());
                }
            }
            if (o.kind() == Step.Kind.EXIT || o.kind() == Step.Kind.DIE || o.code().equals("ESRCH")) {
                held.values().removeIf(h -> {
                    if (h[0].equals(o.thread())) {
                        h[2] = o.time();
                        return true;
                    }
                    return false;
                });
            }
        }
    }

    /** The end of each unanswered compute: its CPU time outside what may have preempted it. */
    private void bound(List<ScenarioResult.ThreadSummary> threads) {
        Map<String, ScenarioResult.ThreadSummary> byName = new HashMap<>();
        threads.forEach(t -> byName.put(t.name(), t));
        for (Map.Entry<String, List<Span>> e : steps.entrySet()) {
            ScenarioResult.ThreadSummary t = byName.get(e.getKey());
            List<Span> spans = e.getValue();
            for (int i = 0; i < spans.size(); i++) {
                Span s = spans.get(i);
                if (s.answered() || s.kind() != Step.Kind.COMPUTE) {
                    continue;
                }
                List<long[]> taken = new ArrayList<>();
                for (ScenarioResult.ThreadSummary o : threads) {
                    if (t != null && !o.name().equals(t.name()) && o.kernel().equals(t.kernel())
                            && Math.max(o.priority(), o.maxPriority()) >= t.priority()) {
                        taken.addAll(answeredCpu(o.name()));
                    }
                }
                long end = LinuxSpans.after(s.from(), s.to(), LinuxSpans.merge(taken));
                spans.set(i, new Span(s.step(), s.kind(), s.word(), s.from(), end, false));
            }
        }
    }

    private List<long[]> answeredCpu(String thread) {
        List<long[]> out = new ArrayList<>();
        for (Span s : steps.getOrDefault(thread, List.of())) {
            if (s.answered() && s.kind() != Step.Kind.SLEEP && s.kind() != Step.Kind.LOCK) {
                out.add(new long[] {s.from(), s.to()});
            }
        }
        return out;
    }

    /** The merged spans in which {@code thread} may have held a CPU (see the class comment). */
    List<long[]> cpu(String thread) {
        List<long[]> out = new ArrayList<>();
        for (Span s : steps.getOrDefault(thread, List.of())) {
            if (s.kind() == null || s.kind() == Step.Kind.SLEEP) {
                continue;
            }
            if (s.kind() == Step.Kind.LOCK) {
                out.addAll(spinning(thread, s.step()));
            } else if (s.answered() || s.kind() == Step.Kind.COMPUTE) {
                out.add(new long[] {s.from(), s.to()});
            }
        }
        return LinuxSpans.merge(out);
    }

    /**
     * The merged spans of lock step {@code step} of {@code thread} in which its word's holder (another
     * thread, on any kernel) was running: the only time a PI waiter keeps its CPU (the rt_mutex
     * spins while the owner runs, and sees its timeout only once the spin ends: docs/linux-mode.md).
     */
    List<long[]> spinning(String thread, int step) {
        Span lock = null;
        for (Span s : steps.getOrDefault(thread, List.of())) {
            if (s.step() == step) {
                lock = s;
            }
        }
        if (lock == null || lock.kind() != Step.Kind.LOCK || lock.word() == null) {
            return List.of();
        }
        long to = lock.answered() ? lock.to() : LinuxSpans.OPEN;
        List<long[]> out = new ArrayList<>();
        for (Object[] h : holders.getOrDefault(lock.word(), List.of())) {
            String holder = (String) h[0];
            if (holder.equals(thread)) {
                continue;
            }
            List<long[]> running = new ArrayList<>();
            for (Span s : steps.getOrDefault(holder, List.of())) {
                if (s.kind() != null && s.kind() != Step.Kind.SLEEP && s.kind() != Step.Kind.LOCK
                        && (s.answered() || s.kind() == Step.Kind.COMPUTE)) {
                    running.add(new long[] {s.from(), s.to()});
                }
            }
            out.addAll(LinuxSpans.clip(LinuxSpans.merge(running), Math.max(lock.from(), (long) h[1]),
                    Math.min(to, (long) h[2])));
        }
        return LinuxSpans.merge(out);
    }
}
