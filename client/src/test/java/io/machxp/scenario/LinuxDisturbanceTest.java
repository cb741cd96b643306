package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.scenario.LinuxDisturbance.RunnerTrace;
import io.machxp.scenario.LinuxDisturbance.ThreadTrace;
import io.machxp.scenario.LinuxDisturbance.Verdict;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The judgement of whether a linux-mode run kept its schedule, on recorded samples (no threads, no
 * clocks): a thread's wait for a CPU that a scenario thread of its kernel explains is the scenario;
 * a wait nothing of the scenario explains, a late wake-up, or a start the runner queued late is a
 * disturbance. Times in milliseconds from the run's origin.
 */
class LinuxDisturbanceTest {
    private static final long MS = 1_000_000;
    private static final long TOLERANCE = 2_500_000;
    private static final RunnerTrace ON_TIME = new RunnerTrace(Map.of("L", -19 * MS, "H", -19 * MS), 0);
    private static final Map<String, Integer> ONE_CPU = Map.of("A", 1);

    /** Builds one thread's samples the way a worker records them. */
    private static final class Samples {
        private final SchedSamples s = new SchedSamples();
        private double t;
        private double cpu;
        private double waited;

        /** The Release queued and run before the origin: the thread is parked, then sleeps to its start. */
        Samples(double cpuBefore) {
            t = -19;
            cpu = cpuBefore;
            add(0, LinuxDisturbance.NO_DUE);
        }

        /** It began its program at {@code at} for a start at {@code due}, having waited {@code queued} for a CPU. */
        Samples start(double at, double due, double queued) {
            t = at;
            waited += queued;
            add(SchedSamples.START, ns(due));
            return this;
        }

        /** It computed {@code ran} ms of CPU until {@code until}, off its CPU (runnable) the rest, in 0.2 ms samples. */
        Samples compute(double ran, double until) {
            double off = (until - t) - ran;
            int n = (int) Math.round(ran / 0.2);
            double t0 = t;
            double stretch = (until - t0) / n;
            for (int i = 1; i <= n; i++) {
                t = t0 + stretch * i;
                cpu += ran / n;
                waited += off / n;
                add(SchedSamples.BUSY, LinuxDisturbance.NO_DUE);
            }
            return this;
        }

        /** Its CPU time grows by {@code ran} ms within a step that may block (a lock), ending at {@code until}. */
        Samples blocked(double ran, double queued, double until) {
            t = until;
            cpu += ran;
            waited += queued;
            add(0, LinuxDisturbance.NO_DUE);
            return this;
        }

        Samples end() {
            t += 0.01;
            add(SchedSamples.END, LinuxDisturbance.NO_DUE);
            return this;
        }

        private void add(long flags, long due) {
            s.add(ns(t), ns(cpu), ns(waited), flags, due);
        }

        long[] samples() {
            return s.snapshot(0);
        }
    }

    private static long ns(double ms) {
        return Math.round(ms * MS);
    }

    private static ThreadTrace thread(String name, String kernel, int priority, double start, Samples s) {
        return new ThreadTrace(name, kernel, priority, priority, ns(start), s.samples(), true);
    }

    @Test
    void aLowerThreadWaitingWhileAHigherOneOfItsCpuRunsIsTheScenario() {
        // One CPU: L (10) computes from 0; H (90) starts at 10 and computes 20 ms; L runs on at 30.
        ThreadTrace l = thread("L", "A", 10, 0, new Samples(0).start(0.02, 0, 0.01).compute(9.98, 10)
                .compute(0.2, 30.2).compute(9.8, 40).end());
        ThreadTrace h = thread("H", "A", 90, 10, new Samples(0).start(10.01, 10, 0).compute(20, 30.01).end());
        Verdict v = LinuxDisturbance.judge(List.of(l, h), ONE_CPU, ON_TIME, TOLERANCE);
        assertThat(v.disturbed()).as(String.valueOf(v)).isFalse();
        assertThat(v.heldOff().get("L")).isLessThan(MS / 10);
    }

    @Test
    void aStartHeldOffByAHigherThreadOfItsCpuIsTheScenario() {
        // H (90) computes 0-30 ms; L (10) is due at 10 ms and gets the CPU at 30, after waiting on the run queue.
        ThreadTrace h = thread("H", "A", 90, 0, new Samples(0).start(0.01, 0, 0).compute(30, 30).end());
        ThreadTrace l = thread("L", "A", 10, 10, new Samples(0).start(30.05, 10, 20.05).compute(5, 35.05).end());
        Verdict v = LinuxDisturbance.judge(List.of(h, l), ONE_CPU, new RunnerTrace(Map.of("L", -19 * MS, "H", -19 * MS), 0),
                TOLERANCE);
        assertThat(v.disturbed()).as(String.valueOf(v)).isFalse();
    }

    @Test
    void twoThreadsWaitingWhileNothingOfTheScenarioRanIsADisturbance() {
        // The failure seen under load: L (start 0) and H (start 10) both waited for their CPU, which
        // ran other work until 15 ms; then H, the higher, ran first and took m before L.
        ThreadTrace h = thread("H", "A", 90, 10, new Samples(0).start(15.0, 10, 5).blocked(0.05, 0, 15.1).end());
        ThreadTrace l = thread("L", "A", 10, 0, new Samples(0).start(15.12, 0, 15.12).compute(2, 17.2).end());
        Verdict v = LinuxDisturbance.judge(List.of(l, h), ONE_CPU, new RunnerTrace(Map.of("L", -19 * MS, "H", -19 * MS), 0),
                TOLERANCE);
        assertThat(v.disturbed()).isTrue();
        assertThat(v.why()).startsWith("L held off its CPU 15").contains("it began 15.12ms after its start at 0");
        assertThat(v.heldOff().get("H")).as("H too: 5 ms late, nothing of the scenario ran").isGreaterThan(4 * MS);
    }

    @Test
    void aLateWakeUpWithNoWaitOnTheRunQueueIsADisturbanceEvenWithAHigherThreadAround() {
        // A stolen virtual CPU (or a JVM pause): L woke 8 ms late without waiting on the run queue;
        // H, though higher and on the same CPU, explains only run-queue waits.
        ThreadTrace h = thread("H", "A", 90, 0, new Samples(0).start(0.01, 0, 0).compute(30, 30).end());
        ThreadTrace l = thread("L", "A", 10, 40, new Samples(0).start(48, 40, 0).compute(1, 49).end());
        Verdict v = LinuxDisturbance.judge(List.of(h, l), ONE_CPU, new RunnerTrace(Map.of("L", -19 * MS, "H", -19 * MS), 0),
                TOLERANCE);
        assertThat(v.disturbed()).isTrue();
        assertThat(v.why()).startsWith("L held off its CPU 8ms");
    }

    @Test
    void aComputeStalledWhileNothingOfTheScenarioRanIsADisturbance() {
        // L computes from 0; from 10 ms its CPU ran H (90) for 2 ms, then other work for 10 ms.
        ThreadTrace l = thread("L", "A", 10, 0, new Samples(0).start(0.01, 0, 0).compute(9.99, 10)
                .compute(0.2, 22.2).compute(19.8, 42).end());
        ThreadTrace h = thread("H", "A", 90, 10, new Samples(0).start(10.01, 10, 0).compute(2, 12.01).end());
        Verdict v = LinuxDisturbance.judge(List.of(l, h), ONE_CPU, ON_TIME, TOLERANCE);
        assertThat(v.disturbed()).isTrue();
        assertThat(v.heldOff().get("L")).isBetween(10 * MS - MS / 10, 10 * MS + MS / 10);
    }

    @Test
    void theRunnerQueuingAStartAfterItsTimeIsADisturbance() {
        ThreadTrace l = thread("L", "A", 10, 0, new Samples(0).start(0.01, 0, 0).compute(1, 1.01).end());
        ThreadTrace h = thread("H", "A", 90, 10, new Samples(0).start(10.01, 10, 0).compute(1, 11.01).end());
        Verdict v = LinuxDisturbance.judge(List.of(l, h), ONE_CPU,
                new RunnerTrace(Map.of("L", -19 * MS, "H", 13 * MS), 31 * MS), TOLERANCE);
        assertThat(v.disturbed()).isTrue();
        assertThat(v.why()).isEqualTo("the runner, held off its CPU: it queued H's start 3ms after its start time"
                + " (it waited 31ms for a CPU)");
        assertThat(LinuxDisturbance.judge(List.of(l, h), ONE_CPU,
                new RunnerTrace(Map.of("L", -19 * MS, "H", 9 * MS), 28 * MS), TOLERANCE).disturbed())
                .as("queued late for the margin but before H's start: the schedule held").isFalse();
    }

    @Test
    void thePrioritySamplerHeldOffWhileNothingOfTheScenarioTookItsCpuIsADisturbance() {
        // L sleeps 0-40 ms holding m while W, elsewhere, boosts it from 10 to 30 ms: only the
        // sampler can see the boost, and it did not sweep from 8 to 33 ms.
        ThreadTrace l = thread("L", "A", 10, 0, new Samples(0).start(0.01, 0, 0).blocked(0.01, 0, 40).end());
        ThreadTrace h = thread("H", "B", 90, 0, new Samples(0).start(0.01, 0, 0).compute(40, 40).end());
        List<long[]> gap = List.of(new long[] {8 * MS, 33 * MS});
        Verdict own = LinuxDisturbance.judge(List.of(l, h), Map.of("A", 1, "B", 1),
                new RunnerTrace(Map.of(), 0, gap, 0), TOLERANCE);
        assertThat(own.why()).isEqualTo("the priority sampler, held off its CPU 25ms from 8ms"
                + " (a boost of a thread that did not run meanwhile could be missed)");
        Verdict shared = LinuxDisturbance.judge(List.of(l, h), Map.of("A", 1, "B", 1),
                new RunnerTrace(Map.of(), 0, gap, 2), TOLERANCE);
        assertThat(shared.disturbed()).as("sharing two CPUs with H, which took one: the other was free").isTrue();
        ThreadTrace k = thread("K", "A", 5, 0, new Samples(0).start(0.01, 0, 0).compute(40, 40).end());
        assertThat(LinuxDisturbance.judge(List.of(l, h, k), Map.of("A", 1, "B", 1),
                new RunnerTrace(Map.of(), 0, gap, 2), TOLERANCE).disturbed())
                .as("both CPUs taken by the scenario's threads: the scenario kept the sampler off").isFalse();
    }

    @Test
    void onTwoCpusAWaitIsTheScenarioOnlyWhileBothRanItsThreads() {
        Map<String, Integer> two = Map.of("A", 2);
        // H1 (90) computes 0-20 ms; L (10) due at 5 ms began at 20.
        ThreadTrace h1 = thread("H1", "A", 90, 0, new Samples(0).start(0.01, 0, 0).compute(20, 20).end());
        ThreadTrace l = thread("L", "A", 10, 5, new Samples(0).start(20.02, 5, 15.02).compute(1, 21.02).end());
        assertThat(LinuxDisturbance.judge(List.of(h1, l), two, ON_TIME, TOLERANCE).disturbed())
                .as("the other CPU ran something else").isTrue();
        ThreadTrace h2 = thread("H2", "A", 90, 0, new Samples(0).start(0.01, 0, 0).compute(20, 20).end());
        assertThat(LinuxDisturbance.judge(List.of(h1, h2, l), two, ON_TIME, TOLERANCE).disturbed())
                .as("both CPUs ran higher threads").isFalse();
    }

    @Test
    void onlyThreadsOfItsKernelThatMayHoldItOffExplainAWait() {
        ThreadTrace h = thread("H", "B", 90, 0, new Samples(0).start(0.01, 0, 0).compute(20, 20).end());
        ThreadTrace l = thread("L", "A", 10, 5, new Samples(0).start(20.02, 5, 15.02).compute(1, 21.02).end());
        assertThat(LinuxDisturbance.judge(List.of(h, l), Map.of("A", 1, "B", 1), ON_TIME, TOLERANCE).disturbed())
                .as("another kernel's thread does not take A's CPU").isTrue();
        ThreadTrace lower = thread("M", "A", 5, 0, new Samples(0).start(0.01, 0, 0).compute(20, 20).end());
        assertThat(LinuxDisturbance.judge(List.of(lower, l), ONE_CPU, ON_TIME, TOLERANCE).disturbed())
                .as("a lower thread (never boosted) cannot hold L off").isTrue();
        ThreadTrace boosted = new ThreadTrace("M", "A", 5, 60, 0, new Samples(0).start(0.01, 0, 0).compute(20, 20).end()
                .samples(), true);
        assertThat(LinuxDisturbance.judge(List.of(boosted, l), ONE_CPU, ON_TIME, TOLERANCE).disturbed())
                .as("boosted above L it can").isFalse();
    }

    @Test
    void theToleranceIsHalfTheSmallestGapBetweenStartsWithinOneToThreeMs() {
        assertThat(LinuxDisturbance.tolerance(starts(0, 5, 10))).isEqualTo(2_500_000);
        assertThat(LinuxDisturbance.tolerance(starts(0, 100))).isEqualTo(3_000_000);
        assertThat(LinuxDisturbance.tolerance(starts(0, 1))).isEqualTo(1_000_000);
        assertThat(LinuxDisturbance.tolerance(starts(0, 0))).as("one start time").isEqualTo(3_000_000);
    }

    private static List<Scenario.ThreadSpec> starts(long... ms) {
        List<Scenario.ThreadSpec> out = new ArrayList<>();
        for (long m : ms) {
            out.add(new Scenario.ThreadSpec("T" + out.size(), "A", "t", 10, m * MS, List.of()));
        }
        return out;
    }

    @Test
    void samplesMergeIntoTheLastWhenFullAndSchedstatIsParsedInPlace() {
        SchedSamples s = new SchedSamples(2);
        s.add(1, 1, 0, SchedSamples.START, 0);
        s.add(2, 2, 0, SchedSamples.BUSY, LinuxDisturbance.NO_DUE);
        s.add(3, 3, 5, 0, LinuxDisturbance.NO_DUE);
        long[] a = s.snapshot(0);
        assertThat(a).hasSize(2 * SchedSamples.FIELDS);
        assertThat(a[SchedSamples.FIELDS + SchedSamples.TIME]).isEqualTo(3);
        assertThat(a[SchedSamples.FIELDS + SchedSamples.FLAGS] & SchedSamples.BUSY).as("busy only if both were").isZero();
        byte[] line = "123456 7890 42\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(SchedStat.field(line, line.length, 0)).isEqualTo(123456);
        assertThat(SchedStat.field(line, line.length, 1)).isEqualTo(7890);
        assertThat(SchedStat.field(line, 3, 1)).isEqualTo(-1);
    }

    @Test
    void aThreadLoweredByAPriorityStepCountsAtItsLowest() {
        Scenario.ThreadSpec t = new Scenario.ThreadSpec("T", "A", "t", 50, 0,
                List.of(new Step(Step.Kind.PRIORITY, null, -1, 20, null)));
        Scenario.ThreadSpec u = new Scenario.ThreadSpec("U", "A", "u", 30, 0,
                List.of(new Step(Step.Kind.PRIORITY, "T", -1, 5, null)));
        Scenario s = new Scenario("s", "", 1, 0, 0, List.of(new Scenario.KernelSpec("A", 1)), Map.of(), Map.of(),
                List.of(t, u), List.of(), 1_000_000_000L);
        assertThat(LinuxPlatform.lowestPriority(s, t)).isEqualTo(5);
        assertThat(LinuxPlatform.lowestPriority(s, u)).isEqualTo(30);
    }
}
