package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The judgement of a disturbed linux-mode run ({@link LinuxLateness}) and the reruns it causes
 * ({@link LinuxCompare}), on recorded timestamps (no SCHED_FIFO): CI's run of
 * timeout-deboost-across-kernels.yaml in which H started 85 ms late and answered ok. The file is
 * kept here as CI ran it (L's compute of 100 ms in one step); the shipped file now breaks that
 * compute with a sleep, so that a waiter spinning on L sees its timeout (docs/linux-mode.md).
 */
class LinuxLatenessTest {
    private static final long MS = 1_000_000;
    private static final Scenario FILE = ScenarioParser.parse("""
            name: a remote lock that times out deboosts the owner on the other kernel
            network: {latency: 100us, jitter: 20us}
            kernels:
              - {name: A}
              - {name: B}
            words:
              m: {object: shared, offset: 0}
            threads:
              - {name: L, kernel: A, priority: 10, program: [{lock: m}, {compute: 100ms}, {unlock: m}]}
              - {name: M, kernel: A, priority: 50, start: 5ms, program: [{compute: 50ms}]}
              - {name: H, kernel: B, priority: 90, start: 10ms, program: [{lock: m, timeout: 10ms, expect: ETIMEDOUT}]}
            expect:
              - {thread: L, boostedTo: 90, when: pi}
              - {thread: M, finishesBefore: L}
            """, "timeout-deboost-across-kernels.yaml (as CI ran it at ea480bf0)");

    private static ScenarioResult.StepOutcome answer(String thread, int n, Step.Kind kind, String code, double atMs) {
        return new ScenarioResult.StepOutcome(thread, n, kind.key, kind, kind == Step.Kind.LOCK
                || kind == Step.Kind.UNLOCK ? "m" : null, code, "", (long) (atMs * MS));
    }

    private static LinuxLateness.Start step(String thread, int n, double dueMs, double beganMs) {
        return new LinuxLateness.Start(thread, n, dueMs < 0 ? -1 : (long) (dueMs * MS), (long) (beganMs * MS));
    }

    /** The CI run: L (A, 10) holds m computing 100 ms, M (A, 50) from 5 ms, H (B, 90) due at 10 ms began at 95. */
    private static ScenarioRun.LinuxRun ciRun(double hBeganMs) {
        List<ScenarioResult.ThreadSummary> threads = List.of(
                new ScenarioResult.ThreadSummary("L", "A", 101, 10, 90, 0, 100 * MS, 0),
                new ScenarioResult.ThreadSummary("M", "A", 102, 50, 50, 5 * MS, 55 * MS, 0),
                new ScenarioResult.ThreadSummary("H", "B", 103, 90, 90, (long) (hBeganMs * MS), 100 * MS, 5 * MS));
        List<ScenarioResult.StepOutcome> outcomes = List.of(answer("L", 1, Step.Kind.LOCK, "ok", 0.1),
                answer("M", 1, Step.Kind.COMPUTE, "ok", 55.1), answer("M", 2, Step.Kind.EXIT, "ok", 55.2),
                answer("L", 2, Step.Kind.COMPUTE, "ok", 150.2), answer("L", 3, Step.Kind.UNLOCK, "ok", 150.3),
                answer("H", 1, Step.Kind.LOCK, "ok", 150.4), answer("L", 4, Step.Kind.EXIT, "ok", 150.5),
                answer("H", 2, Step.Kind.EXIT, "ok", 150.6));
        ScenarioResult r = new ScenarioResult(FILE, "linux", -1, true, true, List.of(), threads, List.of(), List.of(),
                outcomes);
        return new ScenarioRun.LinuxRun(r, List.of(step("L", 1, 0, 0.05), step("L", 2, -1, 0.11),
                step("L", 3, -1, 150.2), step("L", 4, -1, 150.4), step("M", 1, 5, 5.05), step("M", 2, -1, 55.1),
                step("H", 1, 10, hBeganMs), step("H", 2, -1, 150.5)));
    }

    @Test
    void hStartingEightyFiveMillisecondsLateOnItsOwnKernelIsADisturbedRun() {
        ScenarioRun.LinuxRun ci = ciRun(95);
        assertThat(LinuxLateness.disturbed(ci.starts(), ci.result())).isEqualTo("H started 85 ms late");
    }

    @Test
    void aStartWithinTheTenMillisecondToleranceIsNotDisturbed() {
        ScenarioRun.LinuxRun ci = ciRun(19.9);
        assertThat(LinuxLateness.disturbed(ci.starts(), ci.result())).isNull();
    }

    /** One CPU (kernel A): threads, their steps' answers, and their steps' times. */
    private static ScenarioResult oneCpu(List<ScenarioResult.ThreadSummary> threads, List<ScenarioResult.StepOutcome> o) {
        return new ScenarioResult(FILE, "linux", -1, true, true, List.of(), threads, List.of(), List.of(), o);
    }

    @Test
    void aStartThatAHigherComputeOfItsKernelHeldBackIsNotDisturbed() {
        // M (50) computes 5-55 ms on A; L (10), due at 6 ms, gets the CPU at 55: the scenario's own wait
        ScenarioResult r = oneCpu(List.of(new ScenarioResult.ThreadSummary("L", "A", 1, 10, 10, 0, 0, 0),
                new ScenarioResult.ThreadSummary("M", "A", 2, 50, 50, 0, 0, 0)),
                List.of(answer("M", 1, Step.Kind.COMPUTE, "ok", 55), answer("L", 1, Step.Kind.LOCK, "ok", 55.2)));
        assertThat(LinuxLateness.disturbed(List.of(step("M", 1, 5, 5.01), step("L", 1, 6, 55.1)), r)).isNull();
    }

    @Test
    void aLowerThreadComputingDoesNotExcuseAHigherOnesLateStart() {
        // L (10) computes 0-50 ms on A; H (90), due at 10 ms, began at 30: Linux (or the machine) held it back
        ScenarioResult r = oneCpu(List.of(new ScenarioResult.ThreadSummary("L", "A", 1, 10, 10, 0, 0, 0),
                new ScenarioResult.ThreadSummary("H", "A", 2, 90, 90, 0, 0, 0)),
                List.of(answer("H", 1, Step.Kind.LOCK, "ok", 30.1), answer("L", 1, Step.Kind.COMPUTE, "ok", 50)));
        assertThat(LinuxLateness.disturbed(List.of(step("L", 1, 0, 0.01), step("H", 1, 10, 30)), r))
                .isEqualTo("H started 20 ms late");
    }

    @Test
    void aStepAfterASleepThatBeganLateIsDisturbedButASleepingHigherThreadExcusesNothing() {
        // H sleeps 10-20 ms, its step 2 begins at 45; W (95) sleeps meanwhile (its CPU is free)
        ScenarioResult r = oneCpu(List.of(new ScenarioResult.ThreadSummary("H", "A", 1, 90, 90, 0, 0, 0),
                new ScenarioResult.ThreadSummary("W", "A", 2, 95, 95, 0, 0, 0)),
                List.of(answer("W", 1, Step.Kind.SLEEP, "ok", 60), answer("H", 1, Step.Kind.SLEEP, "ok", 45),
                        answer("H", 2, Step.Kind.LOCK, "ok", 45.1)));
        assertThat(LinuxLateness.disturbed(List.of(step("W", 1, 0, 0.01), step("H", 1, 10, 10.01),
                step("H", 2, 20, 45)), r)).isEqualTo("H's step 2 (after a sleep) began 25 ms late");
    }

    @Test
    void aDisturbedRunIsRunAgainAndTheReportSaysSo() {
        ScenarioResult sim = ScenarioRun.sim(FILE, FILE.seed(), true);
        List<Integer> runs = new ArrayList<>();
        // run 2: the sim's own result with every step on time stands for a run that agrees
        LinuxCompare c = LinuxCompare.run(sim, i -> {
            runs.add(i);
            return i == 1 ? ciRun(95) : new ScenarioRun.LinuxRun(sim, List.of(step("H", 1, 10, 10.05)));
        });
        assertThat(runs).containsExactly(1, 2);
        assertThat(c.failed()).isFalse();
        assertThat(c.comparison().agreed()).isTrue();
        assertThat(c.note()).isEqualTo("agreed on run 2 of 3: run 1 disturbed: H started 85 ms late");
    }

    @Test
    void aFileWhoseEveryRunIsDisturbedFailsNamingTheLateThread() {
        ScenarioResult sim = ScenarioRun.sim(FILE, FILE.seed(), true);
        List<Integer> runs = new ArrayList<>();
        LinuxCompare c = LinuxCompare.run(sim, i -> {
            runs.add(i);
            return ciRun(95);
        });
        assertThat(runs).containsExactly(1, 2, 3);
        assertThat(c.failed()).isTrue();
        assertThat(c.failure()).contains("every run of 3 on Linux was disturbed")
                .contains("run 3 disturbed: H started 85 ms late");
    }

    @Test
    void aRunThatIsNotDisturbedAndDiffersIsADifferenceWithoutRerun() {
        ScenarioResult sim = ScenarioRun.sim(FILE, FILE.seed(), true);
        List<Integer> runs = new ArrayList<>();
        LinuxCompare c = LinuxCompare.run(sim, i -> {
            runs.add(i);
            return ciRun(10.05); // H on time, and still ok: a real difference
        });
        assertThat(runs).containsExactly(1);
        assertThat(c.failed()).isFalse();
        assertThat(c.comparison().agreed()).isFalse();
        assertThat(c.note()).isEmpty();
    }
}
