package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The fast path runs on callers' threads while the core changes the same state. An unlock that
 * gives the futex back to the pager must never pass through FREE, where a fast-path lock would
 * take a futex that is leaving: a racing thread spins on the fast-path CAS through many such
 * unlocks, and whoever wins must really hold the futex.
 */
class FastPathRaceTest {
    @Test
    void aFastPathLockNeverWinsAFutexOnItsWayBackToThePager() throws InterruptedException {
        for (int i = 0; i < 2_000; i++) {
            CoreFixture k = new CoreFixture(true);
            MachThread owner = k.thread();
            MachThread other = k.thread();
            k.acquireFromPager(owner, k.base);
            k.relinquish(0);
            k.env.drain();
            FutexEntry e = k.futex(k.base);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean spinning = new AtomicBoolean();
            AtomicBoolean won = new AtomicBoolean();
            Thread racer = new Thread(() -> {
                spinning.set(true);
                while (!stop.get()) {
                    if (e.tryFastLock(other.tid)) {
                        won.set(true);
                        return;
                    }
                }
            });
            racer.start();
            while (!spinning.get()) {
                Thread.onSpinWait();
            }
            k.unlock(owner, k.base).value();
            stop.set(true);
            racer.join();
            assertThat(FutexWord.isAbsent(e.state())).as("given back to the pager").isTrue();
            assertThat(won.get()).as("round %d: a fast-path lock took a futex the kernel gave back", i).isFalse();
        }
    }
}
