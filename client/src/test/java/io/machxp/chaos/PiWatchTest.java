package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The harness's PI record: an owner is settled S after the last change of its waiters, and a
 * trylock of the futex out on a waiter's kernel holds that waiter's boost back until its answer
 * (the kernel sends no lock_futex while its try is out, xp-spec 8.3; contended seed 3203).
 */
class PiWatchTest {
    private static final long MS = 1_000_000L;
    private static final long S = 5 * MS;

    private static OptionalInt expected(PiWatch pi, long now) {
        return pi.expected(0, "k4", 20, 0, now, kernel -> true);
    }

    @Test
    void aWaiterElsewhereBoostsTheOwnerOnceSettled() {
        PiWatch pi = new PiWatch(S);
        pi.waits(0, "k3/2", 60, "k3", 1 * MS, Long.MAX_VALUE);
        assertThat(expected(pi, 1 * MS + S - 1)).isEmpty();
        assertThat(expected(pi, 1 * MS + S)).hasValue(60);
    }

    /**
     * Seed 3203: k3/4194309's trylock of f0 (priority 40) was out when k3/4194305 (60) began to
     * wait for f0, held by k4/5242883 (20); k4 answered the try only after fetching f0's page back
     * (futex_held 5 ms later), and k3's lock_futex(60) left with the busy, 6 ms after the wait
     * began: the owner ran at 20 when the harness, counting from the wait, expected 60.
     */
    @Test
    void aTryOutOnTheWaitersKernelHoldsItsBoostBackUntilAnswered() {
        PiWatch pi = new PiWatch(S);
        pi.tries(0, "k3/9", "k3");
        pi.waits(0, "k3/5", 60, "k3", 1 * MS, Long.MAX_VALUE);
        assertThat(expected(pi, 1 * MS + S + 1)).as("the try is still out").isEmpty();
        pi.tryAnswered(0, "k3/9", 8 * MS);
        assertThat(expected(pi, 8 * MS + S - 1)).as("the boost left k3 with the try's answer").isEmpty();
        assertThat(expected(pi, 8 * MS + S)).hasValue(60);
    }

    @Test
    void aTryOutOnAnotherKernelChangesNothing() {
        PiWatch pi = new PiWatch(S);
        pi.tries(0, "k1/2", "k1");
        pi.waits(0, "k3/5", 60, "k3", 1 * MS, Long.MAX_VALUE);
        assertThat(expected(pi, 1 * MS + S)).hasValue(60);
        pi.tryAnswered(0, "k1/2", 2 * MS);
        assertThat(expected(pi, 1 * MS + S)).hasValue(60);
    }

    @Test
    void aGoneTrierHoldsNothingBack() {
        PiWatch pi = new PiWatch(S);
        pi.tries(0, "k3/9", "k3");
        pi.waits(0, "k3/5", 60, "k3", 1 * MS, Long.MAX_VALUE);
        pi.stopsWaiting(0, "k3/9", 3 * MS);
        assertThat(expected(pi, 3 * MS + S)).hasValue(60);
    }
}
