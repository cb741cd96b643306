package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * How the priority sampler ({@link LinuxSampler}) sleeps between samples, on a
 * {@link FakeLinuxScheduler} (no SCHED_FIFO) and a scripted clock: its deadlines come from the
 * clock it sleeps on, its sleep is at least its last sample's work, and a clock call that fails
 * makes it ordinary (with a sentence in the log) instead of a busy loop at a real-time priority.
 */
class LinuxSamplerTest {
    private static final long MS = 1_000_000;

    /**
     * A clock that reads {@code step} later at each read, starting at {@code start}, and answers
     * each sleep with {@code answer}; it stops the run at the {@code stopAt}-th sleep.
     */
    private static final class ScriptedClock implements LinuxSamplerClock {
        final List<Long> reads = new CopyOnWriteArrayList<>();
        final List<Long> sleeps = new CopyOnWriteArrayList<>();
        private final LinuxPlatform run;
        private final long step;
        private final IntSupplier answer;
        private final int stopAt;
        private long now;

        ScriptedClock(LinuxPlatform run, long start, long step, IntSupplier answer, int stopAt) {
            this.run = run;
            this.now = start;
            this.step = step;
            this.answer = answer;
            this.stopAt = stopAt;
        }

        @Override
        public long now() {
            now += step;
            reads.add(now);
            return now;
        }

        @Override
        public int sleepUntil(long monotonic) {
            sleeps.add(monotonic);
            if (sleeps.size() == stopAt) {
                run.stopped = true;
            }
            return answer.getAsInt();
        }
    }

    @Test
    void theNextSampleIsAPeriodAfterTheLastDeadlineWhenTheSampleWasQuick() {
        assertThat(LinuxSampler.nextSample(0, 0, 10_000)).isEqualTo(LinuxSampler.PERIOD_NANOS);
    }

    @Test
    void aLateSampleSleepsAtLeastTheMinimumWithoutCatchingUp() {
        assertThat(LinuxSampler.nextSample(0, 5 * MS, 5 * MS + 10_000)).isEqualTo(5 * MS + 10_000
                + LinuxSampler.MIN_SLEEP_NANOS);
    }

    /** With many threads or a slow /proc a sample takes long: the sampler then sleeps as long. */
    @Test
    void aSlowSampleSleepsAtLeastItsOwnWorkSoTheSamplerIsBusyAtMostHalfTheTime() {
        assertThat(LinuxSampler.nextSample(0, 0, MS)).isEqualTo(2 * MS);
        assertThat(LinuxSampler.nextSample(0, 0, 3 * MS)).isEqualTo(6 * MS);
    }

    /**
     * The deadlines are on the clock it sleeps on (CLOCK_MONOTONIC), not System.nanoTime's: here
     * that clock reads far from nanoTime, and a sample takes 1 ms of it.
     */
    @Test
    void theSamplerSleepsOnTheDeadlinesOfItsOwnClockAtLeastItsWorkAfterEachSample() {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "the sampler reads its TID first");
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = new LinuxPlatform(s, new LinuxLeftovers());
        long start = System.nanoTime() + 1_000_000 * 1_000_000_000L;
        ScriptedClock clock = new ScriptedClock(p, start, MS, () -> 0, 3);
        new LinuxSampler(p, s, clock).run(); // on this thread: it returns when the run stops
        // reads: the first deadline's base, then each sample's start and end
        assertThat(clock.reads).hasSize(7);
        assertThat(clock.sleeps).containsExactly(start + 3 * MS + MS, start + 5 * MS + MS, start + 7 * MS + MS);
        assertThat(s.calls).containsExactly("realtime 1", "ordinary 0");
    }

    @Test
    void aClockNanosleepThatFailsMakesTheSamplerOrdinaryRatherThanABusyLoop() throws InterruptedException {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "the sampler reads its TID first");
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = new LinuxPlatform(s, new LinuxLeftovers());
        // On old code the sampler slept again at once after each EINVAL; this clock stops the
        // run at the thousandth sleep.
        ScriptedClock clock = new ScriptedClock(p, 0, 1000, () -> LinuxSupport.EINVAL, 1000);
        List<ILoggingEvent> logged = logOf(() -> {
            LinuxSampler sampler = new LinuxSampler(p, s, clock);
            p.sampler = sampler;
            sampler.start();
            while (!s.calls.contains("ordinary 0") && sampler.isAlive()) {
                Thread.onSpinWait();
            }
            p.stopThreads(); // it samples on, ordinary, until the run stops
            sampler.join();
        });
        assertThat(clock.sleeps).as("one clock_nanosleep, then no more").hasSize(1);
        assertThat(s.calls.subList(0, 2)).as("ordinary right after the failure").containsExactly("realtime 1",
                "ordinary 0");
        assertThat(logged).extracting(ILoggingEvent::getFormattedMessage).containsExactly("linux mode: the priority"
                + " sampler's clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) failed with EINVAL, so it samples as an"
                + " ordinary thread for the rest of the run (under load a boost of a thread that sleeps or blocks"
                + " may be missed).");
    }

    @Test
    void aClockGettimeThatFailsMakesTheSamplerOrdinaryBeforeItSleeps() throws InterruptedException {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "the sampler reads its TID first");
        FakeLinuxScheduler s = new FakeLinuxScheduler();
        LinuxPlatform p = new LinuxPlatform(s, new LinuxLeftovers());
        LinuxSamplerClock broken = new LinuxSamplerClock() {
            private int reads;

            @Override
            public long now() {
                if (++reads > 1) {
                    p.stopped = true; // once in the loop: the ordinary sampling that follows ends at once
                }
                return -LinuxSupport.EINVAL;
            }

            @Override
            public int sleepUntil(long monotonic) {
                throw new AssertionError("slept on a deadline from a clock that failed");
            }
        };
        List<ILoggingEvent> logged = logOf(() -> new LinuxSampler(p, s, broken).run());
        assertThat(s.calls).containsExactly("realtime 1", "ordinary 0", "ordinary 0");
        assertThat(logged).extracting(ILoggingEvent::getFormattedMessage).singleElement().asString()
                .contains("clock_gettime(CLOCK_MONOTONIC) failed with EINVAL");
    }

    /**
     * The real calls: CLOCK_MONOTONIC runs, a past deadline returns at once, a bad one is refused
     * with its error number; reading and sleeping allocate nothing (the sampler makes them at
     * SCHED_FIFO 1, where a JNA Memory's cleaner lock could be held by a thread it starves).
     */
    @Test
    void theRealClockReadsAndSleepsOnClockMonotonicWithoutAllocatingAndAnswersAnErrorNumber() {
        assumeTrue(LinuxNative.UNAVAILABLE == null, "needs the C library");
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        LinuxSamplerClock.Monotonic clock = new LinuxSamplerClock.Monotonic();
        clock.sleepUntil(clock.now()); // linked
        mx.getCurrentThreadAllocatedBytes();
        long before = mx.getCurrentThreadAllocatedBytes();
        long now = clock.now();
        long later = clock.now();
        int slept = clock.sleepUntil(now);
        long after = mx.getCurrentThreadAllocatedBytes();
        assertThat(now).isPositive();
        assertThat(later).isGreaterThanOrEqualTo(now);
        assertThat(slept).isZero();
        if (mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled()) {
            assertThat(after - before).as("bytes allocated by the clock's calls").isZero();
        }
        assertThat(clock.sleepUntil(-1)).as("tv_nsec -1").isEqualTo(LinuxSupport.EINVAL);
    }

    private interface Body {
        void run() throws InterruptedException;
    }

    private static List<ILoggingEvent> logOf(Body body) throws InterruptedException {
        Logger log = (Logger) LoggerFactory.getLogger(LinuxSampler.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        log.addAppender(appender);
        try {
            body.run();
        } finally {
            log.detachAppender(appender);
        }
        return appender.list;
    }
}
