package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.chaos.History.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checker on histories of real runs with stalls the harness saw but did not inject (written
 * by hand; L = 3 s, so a kernel's and the pager's stalls must cover 1.65 s of a 2.4 s window):
 * OWNER_DIED after an episode is allowed, and the planted bugs a stall might hide are still caught
 * (a pager that says OWNER_DIED where no kernel lost anything, or grants with a stale token, or
 * loses a write without saying so, or lets a fenced owner act).
 */
class StarvationTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 3_000 * MS;
    private final History h = new History();

    private void acquire(long ms, String thread, int futex, long token, boolean ownerDied) {
        h.add(ms * MS, Kind.ACQUIRE, thread, futex, token, ownerDied, "");
    }

    private void release(long ms, String thread, int futex) {
        h.add(ms * MS, Kind.RELEASE, thread, futex, 0, false, "");
    }

    private void stall(long ms, String process, long forMs) {
        h.add(ms * MS, Kind.STALL, process, -1, forMs * MS, false, "");
    }

    private List<String> violations() {
        return HistoryChecker.check(h, LEASE).violations();
    }

    /** a/1 held f0 and let it go; kernel c may have held it since (cached). */
    private void heldAndReleased() {
        acquire(500, "a/1", 0, 5, false);
        release(600, "a/1", 0);
    }

    @Test
    void aKernelStalledLongEnoughMayHaveItsFutexesPassedOnWithOwnerDied() {
        heldAndReleased();
        stall(1_000, "c", 1_700);
        acquire(4_000, "b/1", 0, 6, true);
        assertThat(violations()).isEmpty();
    }

    @Test
    void aStallTooShortToCostTheLeaseExplainsNoOwnerDied() {
        heldAndReleased();
        stall(1_000, "c", 1_600);
        acquire(4_000, "b/1", 0, 6, true); // planted: OWNER_DIED where no kernel lost anything
        assertThat(violations()).singleElement().asString().contains("with EOWNERDEAD, but no owner died");
    }

    @Test
    void aKernelsStallsAndThePagersAddUpWithinTheWindow() {
        heldAndReleased();
        stall(1_000, "c", 900);
        stall(2_000, Starvation.PAGER, 800);
        acquire(5_000, "b/1", 0, 6, true);
        assertThat(violations()).isEmpty();
    }

    @Test
    void stallsFartherApartThanTheWindowDoNotAddUp() {
        heldAndReleased();
        stall(1_000, "c", 900);
        stall(4_000, Starvation.PAGER, 800);
        acquire(6_000, "b/1", 0, 6, true);
        assertThat(violations()).singleElement().asString().contains("with EOWNERDEAD, but no owner died");
    }

    @Test
    void twoKernelsStallsDoNotAddUp() {
        heldAndReleased();
        stall(1_000, "c", 900);
        stall(1_500, "b", 900);
        acquire(5_000, "a/1", 0, 6, true);
        assertThat(violations()).singleElement().asString().contains("with EOWNERDEAD, but no owner died");
    }

    @Test
    void aPagerStallCountsForEveryKernel() {
        heldAndReleased();
        stall(1_000, Starvation.PAGER, 1_700);
        acquire(4_000, "a/1", 0, 6, true);
        assertThat(violations()).isEmpty();
    }

    /** The kernel cannot have lost its lease before its stalls covered the threshold. */
    @Test
    void ownerDiedBeforeTheEpisodeBeganIsAViolation() {
        heldAndReleased();
        stall(1_000, "c", 3_000);
        acquire(2_000, "b/1", 0, 6, true);
        assertThat(violations()).singleElement().asString().contains("#3").contains("but no owner died");
    }

    /** Stall of 1.7 s from 1 s: the episode runs from 2.65 s to 3.45 s, its allowance to 9.45 s. */
    @Test
    void afterTheAllowanceOwnerDiedNeedsADeathAgain() {
        heldAndReleased();
        stall(1_000, "c", 1_700);
        acquire(9_000, "b/1", 0, 6, true);
        release(9_100, "b/1", 0);
        acquire(9_600, "b/1", 0, 6, false);
        release(9_700, "b/1", 0);
        acquire(10_000, "b/1", 0, 6, true); // planted: the last acquisition was after the allowance
        assertThat(violations()).singleElement().asString().contains("#7").contains("but no owner died");
    }

    @Test
    void aStallAllowsNoStaleToken() {
        heldAndReleased();
        stall(1_000, "c", 2_000);
        acquire(4_000, "b/1", 0, 4, true); // planted: a grant with an older token
        assertThat(violations()).singleElement().asString().contains("fencing token 4, not above 5");
    }

    @Test
    void aStallAllowsNoOlderDataWithoutOwnerDied() {
        acquire(500, "a/1", 0, 5, false);
        h.add(550 * MS, Kind.WRITE, "a/1", 0, 7, false, "");
        release(600, "a/1", 0);
        stall(1_000, "c", 2_000);
        acquire(4_000, "b/1", 0, 6, false);
        h.add(4_100 * MS, Kind.READ, "b/1", 0, 3, false, ""); // planted: the write of 7 lost silently
        assertThat(violations()).singleElement().asString().contains("a write was lost");
    }

    /** An owner on a starved kernel may be fenced off by OWNER_DIED; it may not act afterwards. */
    @Test
    void aStarvedKernelsOwnerIsFencedOffAndMayNotActAfterwards() {
        acquire(500, "c/1", 0, 5, false);
        stall(1_000, "c", 2_000);
        acquire(4_000, "b/1", 0, 6, true);
        h.add(4_100 * MS, Kind.READ, "c/1", 0, 0, false, "");
        assertThat(violations()).singleElement().asString().contains("c/1 read the counter of f0, which b/1 owned");
    }

    @Test
    void aStarvedKernelsOwnerStillNeedsOwnerDiedToBePassedOn() {
        acquire(500, "c/1", 0, 5, false);
        stall(1_000, "c", 2_000);
        acquire(4_000, "b/1", 0, 6, false); // planted: handed on without OWNER_DIED while c/1 owned it
        assertThat(violations()).singleElement().asString().contains("without EOWNERDEAD, but an owner died");
    }

    @Test
    void aHistoryWithStallsNeedsTheLease() {
        stall(1_000, "c", 2_000);
        assertThatThrownBy(() -> HistoryChecker.check(h)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEpisodeBeginsWhenTheStallsCoverTheThresholdAndEndsWhenTheyNoLongerDo() {
        stall(1_000, "c", 1_700);
        List<Starvation.Episode> episodes = new Starvation(LEASE).episodes(h.entries(), List.of("a", "c"));
        assertThat(episodes).singleElement().satisfies(e -> {
            assertThat(e.kernel()).isEqualTo("c");
            assertThat(e.start()).isEqualTo(2_650 * MS);
            assertThat(e.end()).isEqualTo(3_450 * MS);
            assertThat(e.until()).isEqualTo(9_450 * MS);
        });
    }
}
