package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * What the lateness judgement ({@link LinuxLateness}) sees of threads stalled where no step of
 * theirs was due before (review linuxlate2, S2): a timed lock served late while the scenario's CPU
 * was taken from outside, a step that never answered in a run that reached its limit, and a lower
 * thread that was boosted only at another moment of the run. Recorded timestamps in milliseconds,
 * one CPU per kernel; no SCHED_FIFO.
 */
class LinuxLatenessStallTest {
    private static final long MS = 1_000_000;

    private static Step lock(long timeoutMs) {
        return new Step(Step.Kind.LOCK, "m", timeoutMs < 0 ? -1 : timeoutMs * MS, 0, null);
    }

    private static Step step(Step.Kind kind, long ms) {
        return new Step(kind, null, ms * MS, 0, null);
    }

    private static Scenario.ThreadSpec spec(String name, String kernel, int priority, Step... program) {
        return new Scenario.ThreadSpec(name, kernel, name, priority, 0, List.of(program));
    }

    private static Scenario file(Scenario.ThreadSpec... threads) {
        return new Scenario("stall", "", 1, 0, 0, List.of(new Scenario.KernelSpec("A", 1), new Scenario.KernelSpec("B", 1)),
                Map.of("shared", 4096L), Map.of("m", new Scenario.WordSpec("m", "shared", 0)), List.of(threads), List.of(),
                60_000 * MS);
    }

    private static ScenarioResult.ThreadSummary thread(Scenario.ThreadSpec t, int highest) {
        return new ScenarioResult.ThreadSummary(t.name(), t.kernel(), 1, t.priority(), highest, 0, -1, 0);
    }

    private static ScenarioResult.StepOutcome answer(String thread, int n, Step.Kind kind, String code, double atMs) {
        return new ScenarioResult.StepOutcome(thread, n, kind.key, kind, kind == Step.Kind.LOCK
                || kind == Step.Kind.UNLOCK ? "m" : null, code, "", (long) (atMs * MS));
    }

    private static LinuxLateness.Start began(String thread, int n, double dueMs, double beganMs) {
        return new LinuxLateness.Start(thread, n, dueMs < 0 ? -1 : (long) (dueMs * MS), (long) (beganMs * MS));
    }

    private static Event priority(double atMs, String thread, String event, int from, int to) {
        return new Event((long) (atMs * MS), "A", thread, event, from + " -> " + to);
    }

    private static ScenarioResult run(Scenario s, List<ScenarioResult.ThreadSummary> threads, List<Event> events,
            List<ScenarioResult.StepOutcome> outcomes) {
        return new ScenarioResult(s, "linux", -1, true, true, events, threads, List.of(), List.of(), outcomes);
    }

    /** Lock calls whose every futex call times out, with no futex word touched. */
    private static final class TimingOut extends LinuxLockCalls {
        TimingOut(Memory scratch) {
            super(scratch, null);
        }

        @Override
        long futex(long at, int op, long timeout) {
            return -1;
        }

        @Override
        int errno() {
            return LinuxSupport.ETIMEDOUT;
        }

        @Override
        boolean stopped() {
            return false;
        }
    }

    private static List<LinuxLateness.Start> performed(Step first) {
        LinuxPlatform p = new LinuxPlatform(new FakeLinuxScheduler(), new LinuxLeftovers());
        Scenario.ThreadSpec t = new Scenario.ThreadSpec("H", "A", "H", 90, 0, List.of(first));
        LinuxWorker w = new LinuxWorker(p, t, new int[] {0}, new CountDownLatch(1));
        w.calls = new TimingOut(w.scratch);
        p.workers.put("H", w);
        List<Outcome> answers = new ArrayList<>();
        // the words are at 0: the scripted futex call never touches them
        new LinuxWorker.Perform(w, new Step(Step.Kind.LOCK, null, first.nanos(), 0, null), answers::add).run();
        new LinuxWorker.Perform(w, new Step(Step.Kind.EXIT, null, -1, 0, null), answers::add).run();
        assertThat(answers).extracting(Outcome::code).containsExactly("ETIMEDOUT", "ok");
        return p.starts();
    }

    @Test
    void aTimedLockMakesTheNextStepDueAtItsDeadline() {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "needs the C library (clock_gettime)");
        List<LinuxLateness.Start> starts = performed(lock(10));
        assertThat(starts).hasSize(2);
        long deadline = starts.get(1).dueNanos() - 10 * MS; // when the lock was called
        assertThat(deadline).isBetween(starts.get(0).beganNanos(), starts.get(1).beganNanos());
        assertThat(performed(lock(-1)).get(1).dueNanos()).as("a lock without a timeout makes nothing due").isEqualTo(-1);
    }

    /**
     * The review's probe 3: L (10) holds m and sleeps to 40 ms; H1 (80) and H2 (90) lock m with
     * timeouts expiring at 10 and 12 ms; the CPU is taken from 8 to 33 ms (the sampler, on its own
     * CPU, sees no gap). Both timeouts are served at 33 ms, H2's first: the file's order of the two
     * is lost. Neither waiter held the CPU (each slept in the futex: its holder L did not run), so
     * neither excuses the other: the later one (H1, 23 ms) is named.
     */
    @Test
    void twoLockTimeoutsServedWhileTheScenarioCpuWasTakenAreADisturbedRun() {
        Scenario.ThreadSpec l = spec("L", "A", 10, lock(-1), step(Step.Kind.SLEEP, 40));
        Scenario.ThreadSpec h1 = spec("H1", "A", 80, lock(10));
        Scenario.ThreadSpec h2 = spec("H2", "A", 90, lock(12));
        ScenarioResult r = run(file(l, h1, h2), List.of(thread(l, 90), thread(h1, 80), thread(h2, 90)), List.of(),
                List.of(answer("L", 1, Step.Kind.LOCK, "ok", 0.03), answer("H2", 1, Step.Kind.LOCK, "ETIMEDOUT", 33.1),
                        answer("H1", 1, Step.Kind.LOCK, "ETIMEDOUT", 33.2), answer("L", 2, Step.Kind.SLEEP, "ok", 40)));
        List<LinuxLateness.Start> starts = List.of(began("L", 1, 0, 0.01), began("L", 2, -1, 0.05),
                began("H1", 1, 0, 0.06), began("H1", 2, 10.06, 33.2), began("H2", 1, 0, 0.1), began("H2", 2, 12.1, 33.1));
        assertThat(LinuxLateness.disturbed(starts, r)).isEqualTo("H1's step 2 (after a timed lock) began 23 ms late");
    }

    /**
     * The same with H1 and H2 equals (90): each was blocked in the futex while the other was late, a
     * waiter that held no CPU (its holder L slept), so neither excuses the other.
     */
    @Test
    void equalWaitersBlockedInTheFutexDoNotExcuseEachOther() {
        Scenario.ThreadSpec l = spec("L", "A", 10, lock(-1), step(Step.Kind.SLEEP, 40));
        Scenario.ThreadSpec h1 = spec("H1", "A", 90, lock(10));
        Scenario.ThreadSpec h2 = spec("H2", "A", 90, lock(12));
        ScenarioResult r = run(file(l, h1, h2), List.of(thread(l, 90), thread(h1, 90), thread(h2, 90)),
                List.of(priority(0.07, "L", "boost", 10, 90)),
                List.of(answer("L", 1, Step.Kind.LOCK, "ok", 0.03), answer("H2", 1, Step.Kind.LOCK, "ETIMEDOUT", 33.1),
                        answer("H1", 1, Step.Kind.LOCK, "ETIMEDOUT", 33.2), answer("L", 2, Step.Kind.SLEEP, "ok", 40)));
        List<LinuxLateness.Start> starts = List.of(began("L", 1, 0, 0.01), began("L", 2, -1, 0.05),
                began("H1", 1, 0, 0.06), began("H1", 2, 10.06, 33.2), began("H2", 1, 0, 0.1), began("H2", 2, 12.1, 33.1));
        assertThat(LinuxLateness.disturbed(starts, r)).isEqualTo("H1's step 2 (after a timed lock) began 23 ms late");
    }

    /**
     * Measured on Linux (docs/linux-mode.md): a waiter spins while the holder runs on another CPU and
     * sees its timeout only when the spin ends. H (B, 90) locks m at 25 ms with a 20 ms timeout while
     * L (A, 10) computes holding it, and gets m at 62.7 ms: Linux's own behaviour, not a disturbance.
     */
    @Test
    void aTimedLockThatSpunWhileItsHolderRanOnAnotherCpuIsNotLate() {
        Scenario.ThreadSpec l = spec("L", "A", 10, lock(-1), step(Step.Kind.COMPUTE, 60), new Step(Step.Kind.UNLOCK, "m", -1, 0, null));
        Scenario.ThreadSpec h = spec("H", "B", 90, step(Step.Kind.SLEEP, 25), lock(20));
        ScenarioResult r = run(file(l, h), List.of(thread(l, 10), thread(h, 90)), List.of(),
                List.of(answer("L", 1, Step.Kind.LOCK, "ok", 0.05), answer("H", 1, Step.Kind.SLEEP, "ok", 25),
                        answer("L", 2, Step.Kind.COMPUTE, "ok", 62.5), answer("L", 3, Step.Kind.UNLOCK, "ok", 62.6),
                        answer("H", 2, Step.Kind.LOCK, "ok", 62.7), answer("L", 4, Step.Kind.EXIT, "ok", 62.8),
                        answer("H", 3, Step.Kind.EXIT, "ok", 62.9)));
        List<LinuxLateness.Start> starts = List.of(began("L", 1, 0, 0.01), began("L", 2, -1, 0.06),
                began("L", 3, -1, 62.5), began("L", 4, -1, 62.7), began("H", 1, 0, 0.02), began("H", 2, 25, 25.01),
                began("H", 3, 45.01, 62.8));
        assertThat(LinuxLateness.disturbed(starts, r)).isNull();
    }

    /**
     * A run at its limit: X (90) blocked from 1 ms in a lock of m that L (10) holds while it sleeps,
     * never answered; W (50) woke from its sleep 25 ms late. X held no CPU (its holder did not run),
     * so it excuses nothing; counted to the end of the run it excused every later wait.
     */
    @Test
    void aLockNeverAnsweredExcusesNoWaitWhileItsHolderDoesNotRun() {
        Scenario.ThreadSpec l = spec("L", "A", 10, lock(-1), step(Step.Kind.SLEEP, 100_000));
        Scenario.ThreadSpec x = spec("X", "A", 90, lock(-1));
        Scenario.ThreadSpec w = spec("W", "A", 50, step(Step.Kind.SLEEP, 10), step(Step.Kind.COMPUTE, 1));
        ScenarioResult r = run(file(l, x, w), List.of(thread(l, 90), thread(x, 90), thread(w, 50)),
                List.of(priority(1.1, "L", "boost", 10, 90)),
                List.of(answer("L", 1, Step.Kind.LOCK, "ok", 0.05), answer("W", 1, Step.Kind.SLEEP, "ok", 45),
                        answer("W", 2, Step.Kind.COMPUTE, "ok", 46)));
        List<LinuxLateness.Start> starts = List.of(began("L", 1, 0, 0.01), began("L", 2, -1, 0.06), began("X", 1, 1, 1),
                began("W", 1, 10, 10), began("W", 2, 20, 45));
        assertThat(LinuxLateness.disturbed(starts, r)).isEqualTo("W's step 2 (after a sleep) began 25 ms late");
    }

    /** The same with X computing 5 ms from 1 ms, never answered: it excuses its 5 ms, not the rest of the run. */
    @Test
    void aComputeNeverAnsweredExcusesItsCpuTimeOnly() {
        Scenario.ThreadSpec x = spec("X", "A", 90, step(Step.Kind.COMPUTE, 5));
        Scenario.ThreadSpec w = spec("W", "A", 50, step(Step.Kind.SLEEP, 10), step(Step.Kind.COMPUTE, 1));
        ScenarioResult r = run(file(x, w), List.of(thread(x, 90), thread(w, 50)), List.of(),
                List.of(answer("W", 1, Step.Kind.SLEEP, "ok", 45), answer("W", 2, Step.Kind.COMPUTE, "ok", 46)));
        List<LinuxLateness.Start> starts = List.of(began("X", 1, 18, 18), began("W", 1, 10, 10), began("W", 2, 20, 45));
        // X's compute 18-23 ms excuses 20-23: 22 ms late
        assertThat(LinuxLateness.disturbed(starts, r)).isEqualTo("W's step 2 (after a sleep) began 22 ms late");
    }

    /** L (10) was boosted to 90 from 1 to 3 ms only; its compute 20-50 ms cannot have kept H (90) off its CPU. */
    @Test
    void aLowerThreadBoostedAtAnotherMomentExcusesNoWait() {
        Scenario.ThreadSpec l = spec("L", "A", 10, step(Step.Kind.COMPUTE, 30));
        Scenario.ThreadSpec h = spec("H", "A", 90, step(Step.Kind.SLEEP, 15), step(Step.Kind.COMPUTE, 1));
        List<ScenarioResult.StepOutcome> outcomes = List.of(answer("H", 1, Step.Kind.SLEEP, "ok", 50),
                answer("L", 1, Step.Kind.COMPUTE, "ok", 50), answer("H", 2, Step.Kind.COMPUTE, "ok", 51));
        List<LinuxLateness.Start> starts = List.of(began("L", 1, 20, 20), began("H", 1, 10, 10), began("H", 2, 25, 50));
        ScenarioResult early = run(file(l, h), List.of(thread(l, 90), thread(h, 90)),
                List.of(priority(1, "L", "boost", 10, 90), priority(3, "L", "deboost", 90, 10)), outcomes);
        assertThat(LinuxLateness.disturbed(starts, early)).isEqualTo("H's step 2 (after a sleep) began 25 ms late");
        // boosted to 90 while it computed (seen at 25.5 ms, within a sampler's lag): it held H off
        ScenarioResult during = run(file(l, h), List.of(thread(l, 90), thread(h, 90)),
                List.of(priority(25.5, "L", "boost", 10, 90), priority(50, "L", "deboost", 90, 10)), outcomes);
        assertThat(LinuxLateness.disturbed(starts, during)).isNull();
    }
}
