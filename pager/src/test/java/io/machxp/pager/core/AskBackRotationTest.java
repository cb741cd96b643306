package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A message's ask-back round looks at {@link FutexParking#HOLDERS_PER_ASK} holders: the biggest
 * half, then smaller ones from a place that moves from round to round (review of branch burst,
 * L3). Before, always the 16 biggest, so a smaller holder's idle futexes waited for the timer's
 * round while the bigger holders were all busy. The place comes from the core's clock: a clock
 * moving in steps of a millisecond (the simulator's) still reaches every holder.
 */
class AskBackRotationTest {
    @Test
    void everyHolderIsLookedAtWithinAFewRounds() {
        List<KernelSession> biggest = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            biggest.add(new KernelSession(i + 1));
        }
        Set<KernelSession> seen = new HashSet<>();
        for (int round = 0; round < 200; round++) {
            List<KernelSession> chosen = FutexParking.chosen(biggest, FutexParking.HOLDERS_PER_ASK, round * 1_000_000L, 0);
            assertThat(chosen).hasSize(FutexParking.HOLDERS_PER_ASK).doesNotHaveDuplicates()
                    .startsWith(biggest.subList(0, FutexParking.HOLDERS_PER_ASK / 2).toArray(KernelSession[]::new));
            seen.addAll(chosen);
        }
        assertThat(seen).hasSize(biggest.size());
        // The same clock and messages, the same holders (every replica applies the same message at the same clock).
        assertThat(FutexParking.chosen(biggest, 16, 123_456_789L, 77)).isEqualTo(FutexParking.chosen(biggest, 16, 123_456_789L, 77));
        assertThat(FutexParking.chosen(biggest.subList(0, 10), 16, 5L, 0)).isEqualTo(biggest.subList(0, 10));
    }

    /**
     * Rounds in one instant of the clock (a burst of messages stamped together, the simulator's
     * rounds in one step) still move the place: each is set off by a message, which the sessions'
     * counts include (review late10, L3: before, every round in one instant looked at the same
     * smaller holders).
     */
    @Test
    void roundsInOneInstantStillReachEveryHolder() {
        List<KernelSession> biggest = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            biggest.add(new KernelSession(i + 1));
        }
        Set<KernelSession> seen = new HashSet<>();
        long messages = 1_000;
        for (int round = 0; round < 200; round++) {
            seen.addAll(FutexParking.chosen(biggest, FutexParking.HOLDERS_PER_ASK, 42_000_000L, messages++));
        }
        assertThat(seen).hasSize(biggest.size());
    }
}
