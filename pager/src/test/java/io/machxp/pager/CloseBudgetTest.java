package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Close's one deadline ({@link Pager#CLOSE_BOUND}) adds up (review late10, L1): the store
 * thread's writes after the retry of the failed writes are part of it. Before, the retry could
 * wait for a busy core up to the whole 60 s of {@link Pager#STORE_CLOSE_ANSWER}, so a core that
 * answered late left the retry's writes, queued only then, 0 s on an 80 s deadline, and the store
 * open. On a test's clock: every phase takes its whole bound.
 */
class CloseBudgetTest {
    private long now;

    @Test
    void aLateRetryStillLeavesTheStoreThreadItsWritesAndTheCountItsTime() {
        CloseDeadline deadline = CloseDeadline.in(Pager.CLOSE_BOUND, () -> now);
        now += Duration.ofSeconds(15).toNanos(); // the server's shutdown (10 s) and the store's reads (5 s), whole
        Duration retry = StoreClose.retryBound(deadline, Pager.STORE_CLOSE_ANSWER, true);
        assertThat(retry).as("the retry still waits for a busy core").isGreaterThanOrEqualTo(Duration.ofSeconds(25));
        now += retry.toNanos(); // the core answers at the last moment
        Duration writes = StoreClose.writesBound(deadline);
        assertThat(writes).as("the store thread's writes after the retry").isEqualTo(StoreClose.STORE_WRITES);
        now += writes.toNanos();
        assertThat(deadline.left()).as("kept for the count and the store's close").isEqualTo(StoreClose.KEPT_FOR_COUNT);
    }

    @Test
    void withoutAStoreThreadTheRetryHasTheStoresWholeBound() {
        CloseDeadline deadline = CloseDeadline.in(Pager.CLOSE_BOUND, () -> now);
        now += Duration.ofSeconds(15).toNanos();
        assertThat(StoreClose.retryBound(deadline, Pager.STORE_CLOSE_ANSWER, false)).isEqualTo(Pager.STORE_CLOSE_ANSWER);
    }
}
