package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A linux-mode run in which the priority sampler saw nothing for a while ({@link LinuxSamplerBlind},
 * {@link LinuxSampler#blind}): a boost of a thread that slept or blocked then may have been missed,
 * so the run is disturbed, not compared. Recorded timestamps in milliseconds; no SCHED_FIFO.
 */
class LinuxSamplerBlindTest {
    private static final long MS = 1_000_000;
    private static final long OPEN = LinuxSpans.OPEN;

    private static Step step(Step.Kind kind, String word, double ms) {
        return new Step(kind, word, ms < 0 ? -1 : (long) (ms * MS), 0, null);
    }

    private static Scenario.ThreadSpec spec(String name, String kernel, int priority, Step... program) {
        return new Scenario.ThreadSpec(name, kernel, name, priority, 0, List.of(program));
    }

    private static Scenario file(Scenario.ThreadSpec... threads) {
        return new Scenario("blind", "", 1, 0, 0, List.of(new Scenario.KernelSpec("A", 1), new Scenario.KernelSpec("B", 1)),
                Map.of("shared", 8192L), Map.of("m", new Scenario.WordSpec("m", "shared", 0),
                        "n", new Scenario.WordSpec("n", "shared", 4096)), List.of(threads), List.of(), 60_000 * MS);
    }

    private static ScenarioResult.ThreadSummary thread(Scenario.ThreadSpec t, int highest) {
        return new ScenarioResult.ThreadSummary(t.name(), t.kernel(), 1, t.priority(), highest, 0, -1, 0);
    }

    private static ScenarioResult.StepOutcome answer(String thread, int n, Step.Kind kind, String word, String code, double atMs) {
        return new ScenarioResult.StepOutcome(thread, n, kind.key, kind, word, code, "", (long) (atMs * MS));
    }

    private static LinuxLateness.Start began(String thread, int n, double dueMs, double beganMs) {
        return new LinuxLateness.Start(thread, n, dueMs < 0 ? -1 : (long) (dueMs * MS), (long) (beganMs * MS));
    }

    private static long[] span(double fromMs, double toMs) {
        return new long[] {(long) (fromMs * MS), (long) (toMs * MS)};
    }

    private static final Scenario.ThreadSpec L = spec("L", "A", 10, step(Step.Kind.LOCK, "m", -1),
            step(Step.Kind.SLEEP, null, 60), step(Step.Kind.READ, "m", -1), step(Step.Kind.UNLOCK, "m", -1),
            step(Step.Kind.READ, "m", -1));
    private static final Scenario.ThreadSpec W = spec("W", "B", 30, step(Step.Kind.LOCK, "n", -1),
            step(Step.Kind.LOCK, "m", 20), step(Step.Kind.EXIT, null, -1));
    private static final Scenario.ThreadSpec X = spec("X", "A", 50, step(Step.Kind.LOCK, "n", -1),
            step(Step.Kind.CONSISTENT, "n", -1), step(Step.Kind.READ, "n", -1), step(Step.Kind.UNLOCK, "n", -1),
            step(Step.Kind.READ, "n", -1));

    /**
     * waiter-times-out-and-exits-holding-across-kernels.yaml as CI compared it, a difference (L's
     * highest priority 10, the simulator's 50); the same shape again at a load of 20 (--mode linux):
     * every thread on time (X's lock of n at 20.1 ms, W's timeout at 30.7 ms), W saw its own boost
     * to 50 after its timed lock, but the sampler, still an ordinary thread, first swept at 31.2 ms,
     * after L's boosts to 30 (from W's wait at 10.4 ms) and 50 (from X's at 20.1 ms) had come and gone.
     */
    private static ScenarioResult ciRun() {
        return new ScenarioResult(file(L, W, X), "linux", -1, true, true,
                List.of(new Event((long) (30.68 * MS), "B", "W", "boost", "30 -> 50")),
                List.of(thread(L, 10), thread(W, 50), thread(X, 50)), List.of(), List.of(),
                List.of(answer("L", 1, Step.Kind.LOCK, "m", "ok", 0.72), answer("W", 1, Step.Kind.LOCK, "n", "ok", 10.2),
                        answer("W", 2, Step.Kind.LOCK, "m", "ETIMEDOUT", 30.74), answer("W", 3, Step.Kind.EXIT, null, "ok", 31.16),
                        answer("X", 1, Step.Kind.LOCK, "n", "EOWNERDEAD", 31.33),
                        answer("X", 2, Step.Kind.CONSISTENT, "n", "ok", 31.53), answer("X", 3, Step.Kind.READ, "n", "ok", 31.58),
                        answer("X", 4, Step.Kind.UNLOCK, "n", "ok", 31.62), answer("X", 5, Step.Kind.READ, "n", "ok", 31.65),
                        answer("X", 6, Step.Kind.EXIT, null, "ok", 31.69), answer("L", 2, Step.Kind.SLEEP, null, "ok", 61.22),
                        answer("L", 3, Step.Kind.READ, "m", "ok", 61.78), answer("L", 4, Step.Kind.UNLOCK, "m", "ok", 61.83),
                        answer("L", 5, Step.Kind.READ, "m", "ok", 61.88), answer("L", 6, Step.Kind.EXIT, null, "ok", 61.91)));
    }

    private static final List<LinuxLateness.Start> CI_STARTS = List.of(began("L", 1, 0, 0.18), began("L", 2, -1, 1.05),
            began("L", 3, 61.05, 61.72), began("L", 4, -1, 61.8), began("L", 5, -1, 61.85), began("L", 6, -1, 61.89),
            began("W", 1, 10, 10.1), began("W", 2, -1, 10.43), began("W", 3, 30.43, 31.11), began("X", 1, 20, 20.11),
            began("X", 2, -1, 31.49), began("X", 3, -1, 31.54), began("X", 4, -1, 31.59), began("X", 5, -1, 31.63),
            began("X", 6, -1, 31.66));

    private static LinuxSamplerBlind ownCpu(long[]... spans) {
        return new LinuxSamplerBlind(List.of(spans), new int[0], Map.of("A", new int[] {0}, "B", new int[] {1}));
    }

    @Test
    void aRunWhoseSamplerFirstSweptAfterTheBoostsIsDisturbed() {
        ScenarioResult r = ciRun();
        assertThat(LinuxLateness.disturbed(CI_STARTS, r)).as("no step was late: the steps alone judge it clean").isNull();
        assertThat(LinuxLateness.disturbed(CI_STARTS, r, ownCpu(new long[] {-OPEN, (long) (31.2 * MS)},
                new long[] {(long) (62.1 * MS), OPEN}))).isEqualTo("the priority sampler saw nothing for 31 ms from 0 ms"
                        + " (a boost of a thread that slept or blocked may have been missed)");
    }

    @Test
    void aSamplerThatSweptThroughoutLeavesTheRunClean() {
        // swept from before the start to after the last answer, once 1.3 ms apart (a slow /proc read)
        assertThat(LinuxLateness.disturbed(CI_STARTS, ciRun(), ownCpu(new long[] {-OPEN, -18 * MS}, span(40, 41.3),
                new long[] {(long) (62.1 * MS), OPEN}))).isNull();
        // a stretch longer than 10 ms before any step began or after the last answer hides nothing
        assertThat(LinuxLateness.disturbed(CI_STARTS, ciRun(), ownCpu(new long[] {-OPEN, 0}, span(62, 80),
                new long[] {80 * MS, OPEN}))).isNull();
    }

    @Test
    void aStretchInTheMiddleOfTheRunLongerThanTenMsIsDisturbed() {
        assertThat(LinuxLateness.disturbed(CI_STARTS, ciRun(), ownCpu(new long[] {-OPEN, -18 * MS}, span(12, 23),
                new long[] {(long) (62.1 * MS), OPEN}))).startsWith("the priority sampler saw nothing for 11 ms from 12 ms");
        assertThat(LinuxLateness.disturbed(CI_STARTS, ciRun(), ownCpu(new long[] {-OPEN, -18 * MS}, span(12, 21.9),
                new long[] {(long) (62.1 * MS), OPEN}))).as("10 ms or less: no boost that decides an outcome is shorter").isNull();
    }

    /**
     * Where the scenario uses every CPU, the sampler (SCHED_FIFO 1) waits behind its threads: H (A)
     * and K (B) compute from 5 to 45 ms while M (A) sleeps; a stretch of 30 ms then is the
     * scenario's doing. With K sleeping instead, B was free for the sampler: disturbed.
     */
    @Test
    void theScenarioHoldingEveryCpuOfTheSamplerExcusesItsStretch() {
        Scenario.ThreadSpec h = spec("H", "A", 90, step(Step.Kind.COMPUTE, null, 40));
        Scenario.ThreadSpec m = spec("M", "A", 20, step(Step.Kind.SLEEP, null, 50));
        Scenario.ThreadSpec k = spec("K", "B", 80, step(Step.Kind.COMPUTE, null, 40));
        Scenario.ThreadSpec ks = spec("K", "B", 80, step(Step.Kind.SLEEP, null, 40));
        List<LinuxLateness.Start> starts = List.of(began("H", 1, 5, 5), began("M", 1, 0, 0.1), began("K", 1, 5, 5.1));
        LinuxSamplerBlind shared = new LinuxSamplerBlind(List.of(new long[] {-OPEN, -18 * MS}, span(10, 40),
                new long[] {51 * MS, OPEN}), new int[] {0, 1}, Map.of("A", new int[] {0}, "B", new int[] {1}));
        ScenarioResult computing = new ScenarioResult(file(h, m, k), "linux", -1, true, true, List.of(),
                List.of(thread(h, 90), thread(m, 20), thread(k, 80)), List.of(), List.of(),
                List.of(answer("H", 1, Step.Kind.COMPUTE, null, "ok", 45), answer("K", 1, Step.Kind.COMPUTE, null, "ok", 45.1),
                        answer("M", 1, Step.Kind.SLEEP, null, "ok", 50.1)));
        assertThat(LinuxLateness.disturbed(starts, computing, shared)).isNull();
        ScenarioResult sleeping = new ScenarioResult(file(h, m, ks), "linux", -1, true, true, List.of(),
                List.of(thread(h, 90), thread(m, 20), thread(ks, 80)), List.of(), List.of(),
                List.of(answer("H", 1, Step.Kind.COMPUTE, null, "ok", 45), answer("K", 1, Step.Kind.SLEEP, null, "ok", 45.1),
                        answer("M", 1, Step.Kind.SLEEP, null, "ok", 50.1)));
        assertThat(LinuxLateness.disturbed(starts, sleeping, shared)).startsWith("the priority sampler saw nothing for 30 ms from 10 ms");
    }

    /** What the sampler keeps of its sweeps: its first, and stretches over 1 ms; when full, the longest. */
    @Test
    void theSamplerKeepsItsFirstSweepAndItsLongStretches() {
        LinuxSampler s = new LinuxSampler(new LinuxPlatform(new FakeLinuxScheduler(), new LinuxLeftovers()),
                new FakeLinuxScheduler());
        assertThat(s.blind()).extracting(b -> List.of(b[0], b[1])).containsExactly(List.of(-OPEN, OPEN));
        s.swept(100 * MS, 100 * MS + 50_000);
        s.swept(100 * MS + 250_000, 100 * MS + 300_000); // 0.3 ms: not kept
        s.swept(105 * MS, 105 * MS + 50_000); // 4.8 ms from the last sweep's beginning to this one's end
        assertThat(s.blind()).extracting(b -> List.of(b[0], b[1])).containsExactly(
                List.of(100 * MS + 250_000, 105 * MS + 50_000), List.of(-OPEN, 100 * MS), List.of(105 * MS, OPEN));
        long t = 200 * MS;
        for (int i = 0; i < LinuxSampler.MAX_BLIND + 10; i++) { // 2 ms stretches fill it, a 20 ms one stays
            long gap = i == 3 ? 20 * MS : 2 * MS;
            s.swept(t + gap, t + gap);
            t += gap;
        }
        s.swept(t + 30 * MS, t + 30 * MS); // full: it replaces a 2 ms one
        List<long[]> kept = new ArrayList<>(s.blind());
        assertThat(kept).hasSize(LinuxSampler.MAX_BLIND + 2);
        assertThat(kept).extracting(b -> b[1] - b[0]).contains(4_800_000L, 97 * MS, 20 * MS, 30 * MS);
    }
}
