package io.machxp.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A linux-mode sleep is one wait to its end (it was 5 ms slices, and a slice that ended while a
 * higher thread ran queued the sleeper early: scenarios/sleepers-wake-in-order-behind-higher.yaml),
 * and its task's death or the run's stop still ends it at once.
 */
class LinuxSleepTest {
    private static final long MS = 1_000_000;

    /** A clock that jumps to each wait's deadline, as a wait that times out. */
    static final class Scripted extends LinuxSleep {
        long now;
        final List<Long> waits = new ArrayList<>();

        @Override
        long now() {
            return now;
        }

        @Override
        void waitUntil(long monotonic) {
            waits.add(monotonic);
            now = monotonic;
        }
    }

    @Test
    void aSleepIsOneWaitToItsEnd() {
        Scripted sleep = new Scripted();
        sleep.now = 1_000 * MS;
        assertThat(sleep.until(1_030 * MS, () -> false)).isTrue();
        assertThat(sleep.waits).as("no wake-up before the end, where a higher thread may run").containsExactly(1_030 * MS);
    }

    @Test
    void aSleepThatIsDueOrGoneDoesNotWait() {
        Scripted sleep = new Scripted();
        sleep.now = 5 * MS;
        assertThat(sleep.until(5 * MS, () -> false)).isTrue();
        assertThat(sleep.until(60_000 * MS, () -> true)).as("its task died or the run stopped").isFalse();
        assertThat(sleep.waits).isEmpty();
    }

    /** The real futex wait: an interrupt ends a long sleep, also one that begins after it. */
    @Test
    void anInterruptEndsTheSleepAtOnce() throws Exception {
        Assumptions.assumeTrue(LinuxNative.UNAVAILABLE == null, String.valueOf(LinuxNative.UNAVAILABLE));
        LinuxSleep sleep = new LinuxSleep();
        AtomicBoolean gone = new AtomicBoolean();
        AtomicReference<Boolean> slept = new AtomicReference<>();
        Thread waiting = new Thread(() -> slept.set(sleep.until(System.nanoTime() + 600_000 * MS, gone::get)));
        waiting.start();
        gone.set(true);
        sleep.interrupt();
        waiting.join(); // a lost wake-up would hang here (ten minutes), not pass
        assertThat(slept.get()).isFalse();
        assertThat(sleep.until(System.nanoTime() + 600_000 * MS, gone::get)).isFalse();
    }
}
