package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.History.Kind;
import org.junit.jupiter.api.Test;

/**
 * Chaos with several pagers (docs/multi-pager.md): pagers crash independently and the same
 * checker finds nothing; the checker judges a crash by the futexes of the pager that crashed.
 */
class MultiPagerChaosTest {
    @Test
    void twoPagersCrashingIndependentlyBreakNoRule() {
        long pager1Crashes = 0;
        long reclaims = 0;
        for (long seed = 1; seed <= 12; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT, 2).run();
            assertThat(r.violations()).as("seed %d: %s", seed, r.counts()).isEmpty();
            assertThat(r.stuck()).as("seed %d: %s", seed, r.counts()).isEmpty();
            pager1Crashes += r.history().entries().stream()
                    .filter(e -> e.kind() == Kind.PAGER && e.thread().equals("pager1") && e.detail().startsWith("crash"))
                    .count();
            reclaims += r.counts().getOrDefault("kernels reclaimed", 0L);
        }
        assertThat(pager1Crashes).as("the second pager crashed on its own").isPositive();
        assertThat(reclaims).as("kernels reclaimed from a restarted pager").isPositive();
    }

    /**
     * Kernels cut off from one secondary pager past the lease: each loses only that pager's
     * futexes, opens a new session with it by itself and its workers map its object again - and
     * the checker finds nothing.
     */
    @Test
    void aKernelCutOffFromOneSecondaryPagerJoinsItAgainAndBreaksNoRule() {
        long cuts = 0;
        long rejoined = 0;
        long mappedAgain = 0;
        for (long seed = 1; seed <= 8; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT, 3).run();
            assertThat(r.violations()).as("seed %d: %s", seed, r.counts()).isEmpty();
            assertThat(r.stuck()).as("seed %d: %s", seed, r.counts()).isEmpty();
            cuts += r.counts().getOrDefault("fatal partitions from one pager", 0L);
            rejoined += r.counts().getOrDefault("secondary pagers joined again", 0L);
            mappedAgain += r.counts().getOrDefault("objects mapped again", 0L);
        }
        assertThat(cuts).isPositive();
        assertThat(rejoined).isPositive();
        assertThat(mappedAgain).isPositive();
    }

    /**
     * The bug xp-spec A.24 records, planted: a kernel that lost a secondary pager keeps serving its
     * resident pages. The checker finds it within a few seeds; the real cores pass those seeds.
     */
    @Test
    void aLostPagersPagesServedAfterTheLeaseAreFound() {
        io.machxp.kernel.core.KernelPlants keepsPages = new io.machxp.kernel.core.KernelPlants() {
            @Override
            public boolean dropsLostPagersPages(boolean drop) {
                return false;
            }
        };
        ChaosRun.Result found = null;
        for (long seed = 1; seed <= 40 && found == null; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT, 3)
                    .withPlants(keepsPages, io.machxp.pager.core.PagerPlants.NONE).run();
            if (!r.passed()) {
                found = r;
            }
        }
        assertThat(found).as("found within 40 seeds").isNotNull();
        assertThat(String.join("\n", found.violations())).containsAnyOf("the counter of f", "on a mapping made before");
        for (long seed = 1; seed <= found.seed(); seed++) {
            assertThat(new ChaosRun(seed, ChaosOptions.DEFAULT, 3).run().passed()).as("the real cores, seed %d", seed).isTrue();
        }
    }

    /**
     * A kernel cut off from pager1 only: EIO is allowed for pager1's futex, not for pager 0's; a
     * read on the old mapping that succeeds after the kernel must have stopped breaks the rules;
     * once the worker mapped pager1's object again, its calls count as a new session's.
     */
    @Test
    void theCheckerJudgesALostLinkByThatPagersFutexesOnly() {
        History h = new History();
        h.add(0, Kind.PAGER, "pager", 0, 0, false, "serves");
        h.add(0, Kind.PAGER, "pager1", 1, 0, false, "serves");
        h.add(1, Kind.LINK_DOOMED, "k0", -1, 9, false, "pager1");
        h.add(2, Kind.CALL, "k0/1", -1, -1, false, "lock f1");
        h.add(3, Kind.ANSWER, "k0/1", -1, 0, false, "EIO");
        h.add(4, Kind.CALL, "k0/2", -1, -1, false, "lock f0");
        h.add(5, Kind.ANSWER, "k0/2", -1, 0, false, "EIO");
        h.add(6, Kind.LINK_DEAD, "k0", -1, 9, false, "pager1");
        h.add(7, Kind.CALL, "k0/1", -1, -1, false, "read f1");
        h.add(8, Kind.ANSWER, "k0/1", -1, 0, false, "OK");
        h.add(10, Kind.CALL, "k0/1", -1, -1, false, "vm_map pager1");
        h.add(11, Kind.ANSWER, "k0/1", -1, 0, false, "OK");
        h.add(12, Kind.CALL, "k0/1", -1, -1, false, "lock f1");
        h.add(13, Kind.ANSWER, "k0/1", -1, 0, false, "OK");
        h.add(13, Kind.ACQUIRE, "k0/1", 1, 5, true, "GRANTED");
        assertThat(HistoryChecker.check(h).violations()).satisfiesExactly(
                v -> assertThat(v).contains("k0/2 got EIO"),
                v -> assertThat(v).contains("k0/1's read f1 succeeded after the time its kernel must have stopped using "
                        + "pager1, on a mapping made before"));
    }

    @Test
    void aSeedReplaysExactlyWithThreePagers() {
        assertThat(new ChaosRun(5, ChaosOptions.DEFAULT, 3).run().history().entries())
                .isEqualTo(new ChaosRun(5, ChaosOptions.DEFAULT, 3).run().history().entries());
    }

    /** A pager's crash puts only its own futexes at risk: a loss on another pager's futex is still caught. */
    @Test
    void aCrashOfOnePagerExcusesNoLossOnAnother() {
        assertThat(HistoryChecker.check(lossAfterCrashOf("pager1")).violations()).as("f0 is pager 0's: its write is lost")
                .anyMatch(v -> v.contains("f0") && v.contains("a write was lost"));
        assertThat(HistoryChecker.check(lossAfterCrashOf("pager")).violations())
                .as("f0's own pager crashed after a kernel that asked for it died: it may lose it").isEmpty();
    }

    /** k0 writes 1 under f0 (pager 0's) and dies; {@code crashed} crashes and restarts; k1 then reads 0 under f0. */
    private static History lossAfterCrashOf(String crashed) {
        History h = new History();
        h.add(0, Kind.PAGER, "pager", 0, 0, false, "serves");
        h.add(0, Kind.PAGER, "pager1", 1, 0, false, "serves");
        h.add(1, Kind.CALL, "k0/1", -1, -1, false, "lock f0");
        h.add(2, Kind.ANSWER, "k0/1", -1, 0, false, "OK");
        h.add(2, Kind.ACQUIRE, "k0/1", 0, 1, false, "GRANTED");
        h.add(3, Kind.WRITE, "k0/1", 0, 1, false, "");
        h.add(4, Kind.RELEASE, "k0/1", 0, 0, false, "");
        h.add(5, Kind.DEAD, "k0", -1, 6, true, "crash");
        h.add(7, Kind.PAGER, crashed, -1, 0, false, "crash, down 1 ms");
        h.add(9, Kind.PAGER, crashed, -1, 0, false, "grace-end");
        h.add(10, Kind.CALL, "k1/1", -1, -1, false, "lock f0");
        h.add(11, Kind.ANSWER, "k1/1", -1, 0, false, "OK");
        h.add(11, Kind.ACQUIRE, "k1/1", 0, 2, false, "GRANTED");
        h.add(12, Kind.READ, "k1/1", 0, 0, false, "");
        return h;
    }
}
