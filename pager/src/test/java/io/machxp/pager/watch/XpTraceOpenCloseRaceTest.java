package io.machxp.pager.watch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * One watch ends (its close, on the event loop or a tick's error path) while another opens
 * (late4 review A3). Before, close decremented the watchers and then wrote "off" outside the lock:
 * an open between the two was overwritten, and the new watch saw no messages until another watch
 * opened or closed. Here one thread opens and closes watches in a loop while the other opens one
 * and checks, while it is open, that recording is on; the old code lets the check see "off" (a
 * race, so it takes many rounds: the loop ends at the first such round, or after the last, 2 M
 * rounds, which caught the old code in 6 of 7 runs here in under 0.1 s; 20 M cost ~7 s of two busy
 * threads on the new code, late6 review A10); the new one derives "on" from the count, so it never does.
 */
class XpTraceOpenCloseRaceTest {
    @Test
    void aWatchThatIsOpenAlwaysRecords() throws Exception {
        XpTrace trace = new XpTrace();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong offWhileOpen = new AtomicLong();
        CountDownLatch started = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            started.countDown();
            while (!stop.get()) {
                trace.open();
                trace.close();
            }
        }, "other-watch");
        other.setDaemon(true);
        other.start();
        started.await();
        try {
            for (int round = 0; round < 2_000_000 && offWhileOpen.get() == 0; round++) {
                trace.open();
                for (int look = 0; look < 8; look++) {
                    if (!trace.on()) {
                        offWhileOpen.incrementAndGet();
                    }
                }
                trace.close();
            }
        } finally {
            stop.set(true);
            other.join();
        }
        assertThat(offWhileOpen.get()).as("checks that saw recording off while this watch was open").isZero();
        assertThat(trace.on()).as("no watch open: recording off").isFalse();
    }
}
