package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * How a linux-mode run ends for its threads, on a {@link FakeLinuxScheduler} and scenario threads
 * that never start (no SCHED_FIFO needed): the run's end and its close make every thread still
 * there ordinary and unpinned, the runner is ordinary once every start is queued, the watchdog
 * fails a run the runner did not end and ends the process if the runner never closes it, the
 * priority sampler is made ordinary with the scenario threads (by the run's end and by the
 * watchdog) and kept for the next run's check if it has not ended, and a run does not start next
 * to a real-time thread of an earlier one.
 */
class LinuxRunStopTest {
    private static final int[] ALLOWED = {0, 1};

    private static Scenario scenario() {
        return new Scenario("stuck inversion", "", 1, 0, 0, List.of(new Scenario.KernelSpec("A", 1)),
                Map.of("shared", 4096L), Map.of("m", new Scenario.WordSpec("m", "shared", 0)),
                List.of(new Scenario.ThreadSpec("L", "A", "L", 10, 0, List.of()),
                        new Scenario.ThreadSpec("H", "A", "H", 90, 0, List.of())),
                List.of(), 60_000_000_000L);
    }

    private static LinuxWorker worker(LinuxPlatform p, String name, int tid) {
        LinuxWorker w = new LinuxWorker(p, new Scenario.ThreadSpec(name, "A", name, 10, 0, List.of()), new int[] {0},
                new CountDownLatch(1));
        w.tid = tid;
        p.workers.put(name, w);
        return w;
    }

    private static LinuxPlatform platform(FakeLinuxScheduler s, LinuxLeftovers left) {
        LinuxPlatform p = new LinuxPlatform(s, left);
        p.allowed = ALLOWED;
        return p;
    }

    @Test
    void closeMakesEveryScenarioThreadStillThereOrdinaryAndLetsItRunOnEveryCpu() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxLeftovers left = new LinuxLeftovers();
        LinuxPlatform p = platform(s, left);
        worker(p, "L", 101);
        worker(p, "H", 102);
        worker(p, "N", 0); // no TID yet: it sees the stop itself (0 would be the caller)
        worker(p, "E", 103).finished = true; // ended: its TID may be another thread's now
        p.close();
        assertThat(p.stopped).isTrue();
        assertThat(s.calls).containsExactlyInAnyOrder("ordinary 101", "pin 101 [0, 1]", "ordinary 102", "pin 102 [0, 1]");
        assertThat(left.size()).as("the threads that had not ended are kept for the next run's check").isEqualTo(3);
    }

    @Test
    void theRunnerIsOrdinaryOnceEveryStartIsQueuedAndTheRunsEndStopsItsThreads() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        worker(p, "H", 102);
        p.runnerRealTime = true;
        AtomicBoolean ordinaryWhenPolled = new AtomicBoolean();
        boolean completed = p.runUntil(() -> {
            ordinaryWhenPolled.set(s.calls.contains("ordinary 0"));
            return true;
        }, Long.MAX_VALUE);
        assertThat(completed).isTrue();
        assertThat(ordinaryWhenPolled).as("the runner waits for the end as an ordinary thread").isTrue();
        assertThat(p.stopped).isTrue();
        assertThat(s.calls).contains("ordinary 102", "pin 102 [0, 1]");
    }

    @Test
    void aRunStoppedAtItsLimitStopsItsThreadsBeforeTheResultIsBuilt() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        worker(p, "H", 102);
        assertThat(p.runUntil(() -> false, Long.MIN_VALUE)).isFalse();
        assertThat(p.stopped).isTrue();
        assertThat(s.calls).containsExactly("ordinary 102", "pin 102 [0, 1]");
    }

    @Test
    void theRunsEndMakesThePrioritySamplerOrdinaryWithTheScenarioThreads() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        worker(p, "H", 102);
        p.sampler = new LinuxSampler(p, s);
        p.sampler.tid = 201; // as if it ran (it never starts here)
        assertThat(p.runUntil(() -> true, Long.MAX_VALUE)).isTrue();
        assertThat(s.calls).containsExactlyInAnyOrder("ordinary 201", "ordinary 102", "pin 102 [0, 1]");
    }

    @Test
    void thePrioritySamplerIsFifoOneAboveOrdinaryLoadUntilTheStopThenOrdinary() throws InterruptedException {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "the sampler needs the C library (gettid, clock_nanosleep)");
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        LinuxSampler sampler = new LinuxSampler(p, s);
        p.sampler = sampler;
        sampler.start();
        while (!s.calls.contains("realtime 1") && sampler.isAlive()) {
            Thread.onSpinWait();
        }
        p.stopThreads();
        sampler.join();
        assertThat(s.calls).as("FIFO 1 first; it makes itself ordinary when it sees the stop, whether or not"
                + " stopThreads did before").startsWith("realtime 1").contains("ordinary 0");
    }

    @Test
    void aWatchdogThatFiresStopsTheRunAndTheRunnerFailsItNamingTheScenario() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        worker(p, "L", 101);
        worker(p, "H", 102);
        p.runnerTid = 55;
        p.watchdog = new LinuxWatchdog(p, s, Long.MAX_VALUE, 0, scenario().name(), scenario().limitNanos());
        assertThat(p.watchdog.fire()).isTrue();
        assertThat(p.stopped).isTrue();
        assertThat(s.calls).as("the runner too is ordinary and free to run on every allowed CPU")
                .containsExactlyInAnyOrder("ordinary 101", "pin 101 [0, 1]", "ordinary 102", "pin 102 [0, 1]",
                        "ordinary 55", "pin 55 [0, 1]");
        assertThatThrownBy(() -> p.runUntil(() -> false, Long.MAX_VALUE)).isInstanceOf(LinuxRunStuck.class)
                .hasMessageContaining("scenario 'stuck inversion'").hasMessageContaining("70 s")
                .hasMessageContaining("its limit is 60 s");
    }

    /**
     * The watchdog fires where the runner cannot run, and a sampler queued behind the scenario's
     * real-time threads would otherwise stay SCHED_FIFO 1, above every ordinary thread, until it
     * next ran.
     */
    @Test
    void aWatchdogThatFiresMakesTheSamplerOrdinary() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        worker(p, "H", 102);
        p.runnerTid = 55;
        p.sampler = new LinuxSampler(p, s);
        p.sampler.tid = 201; // as if it ran (it never starts here)
        LinuxWatchdog w = new LinuxWatchdog(p, s, Long.MAX_VALUE, 0, "s", 1);
        assertThat(w.fire()).isTrue();
        assertThat(s.calls).containsExactlyInAnyOrder("ordinary 102", "pin 102 [0, 1]", "ordinary 201",
                "ordinary 55", "pin 55 [0, 1]");
    }

    @Test
    void aWatchdogLeavesASamplerThatHasNotRunOrHasEndedAlone() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        p.sampler = new LinuxSampler(p, s); // no TID yet: 0 would be the watchdog itself
        assertThat(new LinuxWatchdog(p, s, Long.MAX_VALUE, 0, "s", 1).fire()).isTrue();
        p.sampler.tid = 201;
        p.sampler.ended = true; // its TID may be another thread's now
        assertThat(new LinuxWatchdog(p, s, Long.MAX_VALUE, 0, "s", 1).fire()).isTrue();
        assertThat(s.calls).isEmpty();
    }

    /**
     * A sampler that has not ended (made itself ordinary) when its run closes is kept with the
     * scenario threads that had not ended, and made ordinary again before the next run; one that
     * stays real-time keeps the next run from starting. Never started here, it is not alive, so
     * the close's join returns at once.
     */
    @Test
    void aSamplerThatHasNotEndedWhenItsRunClosesIsMadeOrdinaryBeforeTheNextRun() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxLeftovers left = new LinuxLeftovers();
        LinuxPlatform p = platform(s, left);
        LinuxSampler sampler = new LinuxSampler(p, s);
        sampler.tid = 201;
        p.sampler = sampler;
        p.close();
        assertThat(left.size()).as("kept for the next run's check").isEqualTo(1);
        s.calls.clear();
        s.policies.put(201, LinuxNative.SCHED_FIFO);
        s.demotionWorks = false;
        assertThat(left.check(s, ALLOWED)).isEqualTo("Thread linux-priority-sampler of the earlier linux-mode run"
                + " of scenario '(not set up)' (TID 201) is still real-time in this JVM and could not be made"
                + " ordinary, so no other linux-mode run can start here.");
        s.demotionWorks = true;
        assertThat(left.check(s, ALLOWED)).isNull();
        assertThat(s.calls).containsExactly("ordinary 201", "pin 201 [0, 1]", "ordinary 201", "pin 201 [0, 1]");
        sampler.ended = true;
        assertThat(left.check(s, ALLOWED)).isNull();
        assertThat(left.size()).as("dropped once ended").isZero();
    }

    @Test
    void aSamplerThatHasEndedIsNotKeptWhenItsRunCloses() {
        LinuxLeftovers left = new LinuxLeftovers();
        LinuxPlatform p = platform(new FakeLinuxScheduler(), left);
        p.sampler = new LinuxSampler(p, new FakeLinuxScheduler());
        p.sampler.tid = 201;
        p.sampler.ended = true;
        p.close();
        assertThat(left.size()).isZero();
    }

    /**
     * At SCHED_FIFO 99 it must not wait for an ordinary thread it may starve: a JNA Memory (whose
     * cleaner's lock the "JNA Cleaner" thread takes) or any other allocation. The real calls, on
     * the caller itself (as a scenario thread, the sampler and the runner): made ordinary (it is)
     * and pinned to the CPUs it has, nothing changes.
     */
    @Test
    void aWatchdogFiresWithTheRealCallsWithoutAllocating() {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "needs the C library");
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
        int self = LinuxNative.gettid();
        assumeTrue(LinuxNative.sched_getscheduler(self) == LinuxNative.SCHED_OTHER, "the caller is ordinary");
        LinuxPlatform p = new LinuxPlatform(LinuxScheduler.NATIVE, new LinuxLeftovers());
        p.allowed = LinuxCpus.allowedCpus(); // the caller's own mask
        worker(p, "L", self);
        worker(p, "N", 0);
        worker(p, "E", 103).finished = true;
        p.runnerTid = self;
        p.sampler = new LinuxSampler(p, LinuxScheduler.NATIVE);
        p.sampler.tid = self;
        LinuxWatchdog w = new LinuxWatchdog(p, LinuxScheduler.NATIVE, Long.MAX_VALUE, 0, "s", 1);
        mx.getCurrentThreadAllocatedBytes();
        long before = mx.getCurrentThreadAllocatedBytes();
        boolean fired = w.fire();
        long after = mx.getCurrentThreadAllocatedBytes();
        assertThat(fired).isTrue();
        assertThat(p.stopped).isTrue();
        assertThat(after - before).as("bytes allocated by fire()").isZero();
        assertThat(LinuxNative.sched_getscheduler(self)).isEqualTo(LinuxNative.SCHED_OTHER);
    }

    @Test
    void aWatchdogThatTheRunnerDisarmedDoesNotFire() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        worker(p, "H", 102);
        p.watchdog = new LinuxWatchdog(p, s, Long.MAX_VALUE, 0, "s", 1);
        assertThat(p.runUntil(() -> true, Long.MAX_VALUE)).isTrue();
        assertThat(p.watchdog.fire()).isFalse();
        assertThat(s.calls).doesNotContain("ordinary 0");
    }

    @Test
    void aWatchdogWhoseRunnerNeverClosesTheRunEndsTheProcessWithItsSentence() throws InterruptedException {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        worker(p, "H", 102);
        LinuxWatchdog w = new LinuxWatchdog(p, s, System.nanoTime(), 0, "stuck inversion", 1_000_000_000L);
        assertThat(s.preparedKillMessage).as("the message is ready before the watchdog runs")
                .contains("so the process was ended");
        w.start();
        assertThat(s.killed.await(60, TimeUnit.SECONDS)).isTrue();
        w.join();
        assertThat(s.calls).startsWith("realtime 99").contains("ordinary 102", "kill");
        assertThat(s.killedWhy).contains("scenario 'stuck inversion'").contains("so the process was ended");
    }

    @Test
    void aWatchdogClosedBeforeItsDeadlineEndsWithoutFiring() throws InterruptedException {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = platform(s, new LinuxLeftovers());
        worker(p, "H", 102);
        LinuxWatchdog w = new LinuxWatchdog(p, s, Long.MAX_VALUE, 0, "s", 1);
        w.start();
        w.close();
        w.join();
        assertThat(w.fired()).isFalse();
        assertThat(s.calls).doesNotContain("ordinary 102", "kill");
    }

    @Test
    void aRunDoesNotStartNextToAThreadOfAnEarlierRunThatIsStillRealTime() {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "setup needs the C library (the allowed CPUs)");
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxLeftovers left = new LinuxLeftovers();
        LinuxPlatform earlier = platform(s, left);
        LinuxWorker h = worker(earlier, "H", 77);
        left.add("earlier file", h);
        s.policies.put(77, LinuxNative.SCHED_FIFO);
        s.demotionWorks = false;
        LinuxPlatform next = new LinuxPlatform(s, left);
        assertThatThrownBy(() -> next.setup(scenario(), true, new EventLog())).isInstanceOf(NotSupportedHere.class)
                .hasMessageContaining("Thread H of the earlier linux-mode run of scenario 'earlier file' (TID 77) is still real-time");
        next.close();
        assertThat(s.calls).contains("ordinary 77");
    }

    @Test
    void aThreadOfAnEarlierRunIsMadeOrdinaryAgainBeforeTheNextRunAndDroppedOnceEnded() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxLeftovers left = new LinuxLeftovers();
        LinuxPlatform earlier = platform(s, left);
        LinuxWorker h = worker(earlier, "H", 77);
        left.add("earlier file", h);
        s.policies.put(77, LinuxNative.SCHED_FIFO);
        assertThat(left.check(s, ALLOWED)).isNull();
        assertThat(s.calls).containsExactly("ordinary 77", "pin 77 [0, 1]");
        assertThat(left.size()).isEqualTo(1);
        h.finished = true;
        assertThat(left.check(s, ALLOWED)).isNull();
        assertThat(left.size()).isZero();
    }

    @Test
    void aLeftoverWithNoTidIsDroppedWithoutActingOnTheCaller() {
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxLeftovers left = new LinuxLeftovers();
        LinuxPlatform earlier = platform(s, left);
        worker(earlier, "N", 0); // never ran: tid 0, not finished
        earlier.close();
        assertThat(left.size()).isEqualTo(1);
        s.policies.put(0, LinuxNative.SCHED_OTHER); // what the caller reports
        assertThat(left.check(s, ALLOWED)).isNull();
        assertThat(s.calls).as("TID 0 is the caller").doesNotContain("ordinary 0", "pin 0 [0, 1]");
        assertThat(left.size()).isZero();
    }

    /**
     * A scenario thread that throws while it sets itself up is finished too, so that neither its
     * run's close nor a later run's check acts on its TID (another thread's, in time). Its CPU is
     * past the 1024 of a CPU mask (cpuSet throws); its priority 0 and the stopped run keep it from
     * ever being real-time.
     */
    @Test
    void aScenarioThreadThatThrowsWhileSettingItselfUpIsFinished() throws InterruptedException {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "the thread reads its TID first");
        LinuxLeftovers left = new LinuxLeftovers();
        LinuxPlatform p = platform(new FakeLinuxScheduler(), left);
        p.stopped = true;
        LinuxWorker w = new LinuxWorker(p, new Scenario.ThreadSpec("B", "A", "B", 0, 0, List.of()),
                new int[] {1 << 20}, new CountDownLatch(1));
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        w.setUncaughtExceptionHandler((t, e) -> thrown.set(e));
        w.start();
        w.join();
        assertThat(thrown.get()).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(w.tid).isNotZero();
        assertThat(w.finished).isTrue();
        p.workers.put("B", w);
        p.close();
        assertThat(left.size()).as("not kept for the next run's check").isZero();
    }

    @Test
    void realTimePoliciesAreFifoRoundRobinAndDeadline() {
        assertThat(LinuxLeftovers.realTime(0)).isFalse();
        assertThat(LinuxLeftovers.realTime(1)).isTrue();
        assertThat(LinuxLeftovers.realTime(1 | 0x40000000)).isTrue();
        assertThat(LinuxLeftovers.realTime(2)).isTrue();
        assertThat(LinuxLeftovers.realTime(3)).isFalse();
        assertThat(LinuxLeftovers.realTime(6)).isTrue();
    }

    @Test
    void theKernelsBoundOnRealTimeCpuIsTheRunsUnlessTheHardLimitIsLower() {
        assertThat(LinuxRtTimeLimit.bound(100_000_000, LinuxRtTimeLimit.UNLIMITED)).isEqualTo(100_000_000);
        assertThat(LinuxRtTimeLimit.bound(100_000_000, 200_000_000)).isEqualTo(100_000_000);
        assertThat(LinuxRtTimeLimit.bound(100_000_000, 50_000_000)).isEqualTo(50_000_000);
    }
}
