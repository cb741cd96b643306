package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link StartedProcesses} with fake processes: what is killed, when, and what the wait counts. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StartedProcessesTest {
    /** A process that ends when killed, unless it ignores kills (a process the bound gives up on). */
    static class Fake {
        final AtomicInteger kills = new AtomicInteger();
        final CountDownLatch ended = new CountDownLatch(1);
        final boolean endsWhenKilled;

        Fake(boolean endsWhenKilled) {
            this.endsWhenKilled = endsWhenKilled;
        }

        void kill() {
            kills.incrementAndGet();
            if (endsWhenKilled) {
                ended.countDown();
            }
        }

        boolean awaitEnd(long nanos) throws InterruptedException {
            return ended.await(nanos, TimeUnit.NANOSECONDS);
        }
    }

    private final StartedProcesses<Fake> processes = new StartedProcesses<>(Fake::kill, Fake::awaitEnd);

    @Test
    void nothingIsKilledBeforeTheKill() {
        Fake a = processes.add(new Fake(true));
        assertThat(a.kills).hasValue(0);
        assertThat(processes.killed()).isFalse();
        assertThat(processes.all()).containsExactly(a);
    }

    @Test
    void theKillKillsEveryProcessAddedAndTheWaitCountsThem() {
        Fake a = processes.add(new Fake(true));
        Fake b = processes.add(new Fake(true));
        processes.killAll();
        assertThat(a.kills).hasValue(1);
        assertThat(b.kills).hasValue(1);
        assertThat(processes.killed()).isTrue();
        assertThat(processes.awaitAll(Duration.ofSeconds(20))).isEqualTo(2);
    }

    /** A process started after the kill (a restart racing the end) is killed as it joins, and waited for. */
    @Test
    void aProcessAddedAfterTheKillIsKilledAtOnceAndWaitedFor() {
        Fake before = processes.add(new Fake(true));
        processes.killAll();
        Fake after = processes.add(new Fake(true));
        assertThat(after.kills).as("killed as it joined").hasValue(1);
        assertThat(before.kills).as("not killed again").hasValue(1);
        assertThat(processes.all()).containsExactly(before, after);
        assertThat(processes.awaitAll(Duration.ofSeconds(20))).isEqualTo(2);
    }

    /**
     * A process added while the wait runs (a restart racing the end; here, added from within the
     * wait for the first) is killed as it joins and waited for too. Before, the wait went over the
     * list as it was when the wait began and counted 1.
     */
    @Test
    void aProcessAddedWhileTheWaitRunsIsWaitedFor() {
        Fake late = new Fake(false);
        Fake first = new Fake(true) {
            @Override
            boolean awaitEnd(long nanos) throws InterruptedException {
                if (processes.all().size() == 1) {
                    processes.add(late);
                    late.ended.countDown();
                }
                return super.awaitEnd(nanos);
            }
        };
        processes.add(first);
        processes.killAll();
        assertThat(processes.awaitAll(Duration.ofSeconds(20))).isEqualTo(2);
        assertThat(late.kills).as("killed as it joined").hasValue(1);
    }

    /** The wait gives up at its bound: a process that did not end is not counted. */
    @Test
    void theWaitCountsOnlyWhatEndedWithinItsBound() {
        processes.add(new Fake(true));
        processes.add(new Fake(false));
        processes.killAll();
        assertThat(processes.awaitAll(Duration.ZERO)).isEqualTo(1);
    }

    /** An interrupt ends the wait; the interrupt status is kept. */
    @Test
    void anInterruptEndsTheWait() {
        processes.add(new Fake(false));
        Thread.currentThread().interrupt();
        try {
            assertThat(processes.awaitAll(Duration.ofMinutes(10))).isZero();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }
}
