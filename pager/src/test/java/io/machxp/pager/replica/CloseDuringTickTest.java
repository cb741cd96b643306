package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.util.CodeInjectionForTesting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A replica closed while its ticker is inside a Raft append does not interrupt that append: an
 * interrupt there, while Ratis's log worker waits for room in its queue, closes the division with
 * an ERROR (Ratis 3.1.3 and 3.3.0 SegmentedRaftLogWorker.addIOTask; review F6 of ratis-latency). The
 * leader's first ticker append (its genesis) is held at the start of the append
 * ({@code RaftServerImpl.appendTransaction}, a point of Ratis's {@link CodeInjectionForTesting})
 * while the replicas close, then let go.
 */
class CloseDuringTickTest {
    /** Ratis's name (3.1.3 and 3.3.0) for the start of a leader's append (RaftServerImpl.APPEND_TRANSACTION). */
    private static final String APPEND_TRANSACTION = "RaftServerImpl.appendTransaction";

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aTickInsideARaftAppendIsNotInterruptedByClose() throws Exception {
        AtomicBoolean held = new AtomicBoolean();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        CountDownLatch left = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        CodeInjectionForTesting.put(APPEND_TRANSACTION, (local, remote, args) -> {
            if (!Thread.currentThread().getName().contains("-ticker-") || !held.compareAndSet(false, true)) {
                return false;
            }
            inside.countDown();
            try {
                letGo.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted.set(true);
                Thread.currentThread().interrupt(); // as it came: Ratis's log worker would meet it
            } finally {
                left.countDown();
            }
            return false;
        });
        try {
            try (ReplicaTrio group = new ReplicaTrio(Map.of("obj", 4096L), Duration.ofSeconds(5))) {
                assertThat(inside.await(60, TimeUnit.SECONDS)).as("a ticker's append started").isTrue();
            } // every replica closed, the one whose ticker is held among them
            letGo.countDown();
            assertThat(left.await(60, TimeUnit.SECONDS)).as("the held append went on").isTrue();

            assertThat(interrupted).as("the ticker's append was interrupted by close()").isFalse();
        } finally {
            letGo.countDown();
            CodeInjectionForTesting.remove(APPEND_TRANSACTION);
        }
    }
}
