package io.machxp.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * When the priority sampler of a linux-mode run saw nothing ({@link LinuxSampler#blind}), and
 * whether that disturbed the run, for {@link LinuxLateness}.
 *
 * <p>A thread that sleeps or blocks cannot record its own boost; only the sampler sees it. A
 * stretch in which the sampler did not sample hides every boost that began and ended inside it, so
 * a run whose highest priorities differ from the simulator's for that reason would be a false
 * difference. CI saw it (waiter-times-out-and-exits-holding-across-kernels.yaml): the sampler, an
 * ordinary thread until its first sweep, first swept some 30 ms into the run under a load of 20,
 * after the 20 ms in which L was boosted to 30 and then 50; L's highest priority read 10.
 *
 * <p>Such a stretch counts from the first step any thread began to the last answer of the run
 * (before, nothing can be boosted; after, nothing is read), except while the scenario itself held
 * every CPU the sampler may use: where the scenario uses every CPU, the sampler (SCHED_FIFO 1)
 * waits behind its threads, which is the scenario's doing (a time is excused when, for each of the
 * sampler's CPUs, a thread of a kernel on that CPU was in a step that may hold a CPU,
 * {@link LinuxStepSpans#cpu}; a kernel of two CPUs counts as holding both, which excuses more, so a
 * doubtful run is compared as before). A stretch longer than {@link LinuxLateness#TOLERANCE_NANOS}
 * (the format's 10 ms between events whose order decides an outcome, so no boost that decides one
 * is shorter) disturbed the run.
 *
 * @param spans the stretches, nanoseconds from the run's origin (may reach below 0 and to
 *     {@link LinuxSpans#OPEN})
 * @param samplerCpus the sampler's CPUs where it shares them with the scenario, else empty (it has
 *     CPUs of its own: nothing excuses a stretch)
 * @param kernelCpus each kernel's CPUs
 */
public record LinuxSamplerBlind(List<long[]> spans, int[] samplerCpus, Map<String, int[]> kernelCpus) {
    /** A sampler that saw everything (recorded runs without its record). */
    public static final LinuxSamplerBlind NONE = new LinuxSamplerBlind(List.of(), new int[0], Map.of());

    /**
     * The longest stretch that disturbed the run, as a sentence ("the priority sampler saw nothing
     * for 21 ms from 10 ms"), or null.
     */
    String disturbed(List<LinuxLateness.Start> starts, ScenarioResult linux, LinuxStepSpans steps) {
        if (spans.isEmpty()) {
            return null;
        }
        long from = LinuxSpans.OPEN;
        for (LinuxLateness.Start s : starts) {
            from = Math.min(from, s.beganNanos());
        }
        long to = -LinuxSpans.OPEN;
        for (ScenarioResult.StepOutcome o : linux.outcomes()) {
            to = Math.max(to, o.time());
        }
        if (to <= from) {
            return null;
        }
        List<long[]> seen = LinuxSpans.clip(LinuxSpans.merge(spans), from, to);
        List<long[]> pieces = without(seen, held(linux.threads(), steps));
        long[] worst = null;
        for (long[] p : pieces) {
            if (p[1] - p[0] > LinuxLateness.TOLERANCE_NANOS && (worst == null || p[1] - p[0] > worst[1] - worst[0])) {
                worst = p;
            }
        }
        if (worst == null) {
            return null;
        }
        return "the priority sampler saw nothing for " + (worst[1] - worst[0]) / 1_000_000 + " ms from "
                + worst[0] / 1_000_000 + " ms (a boost of a thread that slept or blocked may have been missed)";
    }

    /** When the scenario's threads held every CPU of the sampler (none when it has CPUs of its own). */
    private List<long[]> held(List<ScenarioResult.ThreadSummary> threads, LinuxStepSpans steps) {
        if (samplerCpus.length == 0) {
            return List.of();
        }
        List<long[]> all = null;
        for (int cpu : samplerCpus) {
            List<long[]> on = new ArrayList<>();
            for (ScenarioResult.ThreadSummary t : threads) {
                int[] cpus = kernelCpus.get(t.kernel());
                if (cpus != null && java.util.Arrays.stream(cpus).anyMatch(c -> c == cpu)) {
                    on.addAll(steps.cpu(t.name()));
                }
            }
            List<long[]> merged = LinuxSpans.merge(on);
            all = all == null ? merged : LinuxSpans.intersect(all, merged);
        }
        return all;
    }

    /** The parts of the merged {@code a} outside the merged {@code b}. */
    private static List<long[]> without(List<long[]> a, List<long[]> b) {
        List<long[]> out = new ArrayList<>();
        for (long[] x : a) {
            long at = x[0];
            for (long[] y : b) {
                if (y[1] <= at || y[0] >= x[1]) {
                    continue;
                }
                if (y[0] > at) {
                    out.add(new long[] {at, y[0]});
                }
                at = Math.max(at, y[1]);
            }
            if (at < x[1]) {
                out.add(new long[] {at, x[1]});
            }
        }
        return out;
    }
}
