package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The contended mix (machxp chaos --mix contended) on the real cores: a few seeds pass, and
 * together reach every path the mix is there for, so that this test fails if the workload stops
 * reaching one (ContendedPaths; a session ended for an answer overdue needs a kernel that keeps
 * its lease without answering, which no fault makes: it must stay 0). The standard mix makes
 * none of the mix's calls.
 */
class ContendedMixTest {
    /** The CLI's defaults but for a shorter workload: about a second a seed on a loaded machine. */
    static final ChaosOptions CONTENDED = new ChaosOptions(3, 3, 4, 600_000_000L, 20_000_000L, 50_000L, 1_000_000L,
            100_000_000L, ChaosMix.CONTENDED);

    @Test
    void aFewSeedsPassAndReachEveryPath() {
        Map<String, Long> totals = new TreeMap<>();
        for (long seed = 1; seed <= 6; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, CONTENDED).run();
            assertThat(r.violations()).as("seed %d's violations", seed).isEmpty();
            assertThat(r.stuck()).as("seed %d's stuck waiters", seed).isEmpty();
            r.counts().forEach((k, v) -> totals.merge(k, v, Long::sum));
        }
        assertThat(totals.getOrDefault(ContendedPaths.TRYLOCKS_ACQUIRED, 0L))
                .as("trylocks that got the futex (not every one busy) in %s", totals).isPositive();
        for (String path : ContendedPaths.NAMES) {
            if (path.equals(ContendedPaths.ANSWERS_OVERDUE)) {
                assertThat(totals.getOrDefault(path, 0L)).as(path).isZero();
            } else {
                assertThat(totals.getOrDefault(path, 0L)).as("%s in %s", path, totals).isPositive();
            }
        }
    }

    /**
     * Contended seed 962 with the CLI's defaults: kernel k2 (id 1) held f2 with its TID in the word
     * of the page the pager stored, was cut off and died across a pager restart; the restarted
     * pager gave id 1 to the new kernel k3, and k3's thread 1048577 (k2's old owner's TID) got
     * EDEADLK on every lock of f2 and its other threads ESRCH, for 180 ms. Now the restarted pager
     * reads the stored word at grace end and keeps id 1 resting until k2's death is recorded.
     */
    @Test
    void seed962NewKernelAfterPagerRestartGetsNoDeadKernelsId() {
        ChaosRun.Result r = new ChaosRun(962, ChaosOptions.DEFAULT.withMix(ChaosMix.CONTENDED)).run();
        assertThat(r.violations()).isEmpty();
        assertThat(r.stuck()).isEmpty();
        assertThat(r.counts()).as("%s", r.counts()).doesNotContainKey("EDEADLK").containsKey("pager restarts");
        assertThat(r.history().entries()).as("k2 had kernel id 1 (TIDs 1048577...)")
                .anyMatch(e -> e.thread().equals("k2/1048577"));
        assertThat(r.history().entries()).as("k3, started after the restart, has another id")
                .anyMatch(e -> e.thread().startsWith("k3/"))
                .noneMatch(e -> e.thread().startsWith("k3/") && Long.parseLong(e.thread().substring(3)) >> 20 == 1);
    }

    /**
     * Contended seed 965 with the CLI's defaults: kernel k7 released f2 but kept its page writable;
     * f2 went to k4 without the page, and k7 was cut off and declared dead. Its page reverted to
     * the pager's older copy, whose f2 word still named k7's thread 8388611, and k4's lockers got
     * ESRCH. Now the pager writes OWNER_DIED over such a word before it serves the page again.
     */
    @Test
    void seed965ARevertedPageNamesNoThreadOfTheDeadWriter() {
        ChaosRun.Result r = new ChaosRun(965, ChaosOptions.DEFAULT.withMix(ChaosMix.CONTENDED)).run();
        assertThat(r.violations()).isEmpty();
        assertThat(r.stuck()).isEmpty();
        assertThat(r.counts()).as("%s", r.counts()).doesNotContainKey("EDEADLK");
    }

    /**
     * Contended seed 307: k7 died holding f2 with its thread 8388611 in the pager's copy of f2's
     * page; k3 got f2 with owner_died and recorded it in its own copy, and after a pager restart
     * died holding f2 and the page writable. The page reverted to the copy naming k7's thread and
     * f2's lockers got ESRCH for 160 ms. Now the revert writes OWNER_DIED over a dead kernel's TID.
     */
    @Test
    void seed307ARevertedPageNamesNoThreadOfAKernelThatDiedBefore() {
        ChaosRun.Result r = new ChaosRun(307, ChaosOptions.DEFAULT.withMix(ChaosMix.CONTENDED)).run();
        assertThat(r.violations()).isEmpty();
        assertThat(r.stuck()).isEmpty();
        assertThat(r.counts()).as("%s", r.counts()).containsKey("pager restarts");
    }

    /**
     * Contended seed 1304: k3 unlocked f3 in its writable copy of f3's page, whose pager copy named
     * its thread 4194307 (returned for a poke while it held f3), and gave f3 to k2 without the page;
     * the pager crashed before k3, cut off, answered the flush for k2, so the mark of that release
     * went with its memory. k2 reclaimed f3 as holder, k3 did not come back, and at grace end k2
     * read k3's thread in the word: ESRCH for every locker. Now the word of a futex reclaimed by a
     * holder not told owner_died, on a page nobody reclaimed, is judged at grace end.
     */
    @Test
    void seed1304AWriterLostInARestartLeavesNoThreadInAReclaimedFutexsWord() {
        ChaosRun.Result r = new ChaosRun(1304, ChaosOptions.DEFAULT.withMix(ChaosMix.CONTENDED)).run();
        assertThat(r.violations()).isEmpty();
        assertThat(r.stuck()).isEmpty();
        assertThat(r.counts()).as("%s", r.counts()).containsKey("pager restarts");
    }

    /**
     * Contended seed 3203 with the CLI's defaults: k3/4194305 (priority 60)
     * began to wait for f0, held by k4/5242883 (20), while k3/4194309's trylock of f0 was out; k3
     * sends its lock_futex(60) only with the try's busy (xp-spec 8.3), which came 5 ms later
     * (k4 fetched f0's page before it answered), so k4's owner ran at 20 past the harness's settle
     * time counted from the wait. The harness now counts it from the try's answer (PiWatch).
     */
    @Test
    void seed3203ABoostWaitsForATryOutOnTheWaitersKernel() {
        ChaosRun.Result r = new ChaosRun(3203, ChaosOptions.DEFAULT.withMix(ChaosMix.CONTENDED)).run();
        assertThat(r.violations()).isEmpty();
        assertThat(r.stuck()).isEmpty();
    }

    @Test
    void theStandardMixMakesNoneOfItsCalls() {
        ChaosRun.Result r = new ChaosRun(1, CONTENDED.withMix(ChaosMix.STANDARD)).run();
        assertThat(r.history().entries()).noneMatch(e -> e.kind() == History.Kind.CALL && (e.detail().startsWith("trylock")
                || e.detail().startsWith("peek") || e.detail().startsWith("poke") || e.detail().equals("compute")));
        assertThat(r.counts()).doesNotContainKeys(ContendedPaths.TRYLOCKS, ContendedPaths.OWNERS_KILLED);
    }
}
