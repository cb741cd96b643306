package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.sim.SimCluster;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Chaos runs in the simulator: no violation over many seeds with faults, the same seed replays
 * exactly, and a planted protocol bug is found.
 */
class ChaosRunTest {
    @Test
    void manySeedsWithFaultsHaveNoViolation() {
        long faults = 0;
        long ownerDied = 0;
        long pi = 0;
        for (long seed = 1; seed <= 40; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT).run();
            assertThat(r.violations()).as("seed %d: %s", seed, r.counts()).isEmpty();
            assertThat(r.stuck()).as("seed %d: %s", seed, r.counts()).isEmpty();
            assertThat(r.counts().getOrDefault("acquisitions", 0L)).as("seed %d does work", seed).isPositive();
            faults += r.counts().getOrDefault("kernel crashes", 0L) + r.counts().getOrDefault("fatal partitions", 0L)
                    + r.counts().getOrDefault("fatal pauses", 0L) + r.counts().getOrDefault("survivable pauses", 0L);
            pi += r.counts().getOrDefault("priority checks with waiters", 0L);
            ownerDied += r.counts().getOrDefault("EOWNERDEAD", 0L);
        }
        assertThat(faults).as("kernels crashed, cut off and paused").isGreaterThan(100);
        assertThat(pi).as("settled owners with waiters checked for priority inheritance").isGreaterThan(200);
        assertThat(ownerDied).as("owners died").isGreaterThan(100);
    }

    /**
     * Seeds on which the harness once expected a pager still in its grace period to declare a
     * doomed kernel dead a lease after it last heard it; a restarted pager counts no lease out
     * before its grace ends, so its OWNER_DIED came later and was flagged.
     */
    @Test
    void aKernelDoomedInAPagersGracePeriodMayBeDeclaredDeadAfterIt() {
        for (long seed : new long[] {905, 1248, 3524, 4302}) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT).run();
            assertThat(r.passed()).as("seed %d: %s %s", seed, r.violations(), r.stuck()).isTrue();
        }
    }

    /**
     * Seed 3019 as the harness derived its randomness until the seeds' streams were decorrelated
     * (it now names another history, which must pass too; RestartAndReclaimTest keeps the case at
     * the pager): a kernel cut off in a restarted pager's grace period, after it reclaimed, was
     * declared dead a lease after grace ended rather than after it was last heard; the partition
     * healed first, its last keepalive kept it alive after it had stopped, and it was granted a
     * futex that went on with OWNER_DIED later than any bound allows (RestartAndReclaimTest has
     * the pager's side).
     */
    @Test
    void aKernelCutOffInGraceAfterItsReclaimIsNotKeptAliveByItsLateMessages() {
        ChaosRun.Result r = new ChaosRun(3019, ChaosOptions.DEFAULT).run();
        assertThat(r.passed()).as("%s %s", r.violations(), r.stuck()).isTrue();
    }

    @Test
    void theSameSeedGivesTheSameHistory() {
        ChaosRun.Result a = new ChaosRun(7, ChaosOptions.DEFAULT).run();
        ChaosRun.Result b = new ChaosRun(7, ChaosOptions.DEFAULT).run();
        assertThat(b.history().entries()).isEqualTo(a.history().entries());
        assertThat(new ChaosRun(8, ChaosOptions.DEFAULT).run().history().entries())
                .isNotEqualTo(a.history().entries());
    }

    /** Runs seeds with the planted bug until the checker finds it; the seed that shows it. */
    private static ChaosRun.Result firstFailing(UnaryOperator<PagerToKernel> plant) {
        return firstFailing(50, UnaryOperator.identity(), plant);
    }

    private static ChaosRun.Result firstFailing(int seeds, UnaryOperator<KernelToPager> toPager,
            UnaryOperator<PagerToKernel> toKernel) {
        for (long seed = 1; seed <= seeds; seed++) {
            ChaosRun run = new ChaosRun(seed, ChaosOptions.DEFAULT);
            run.cluster().filter(new SimCluster.MessageFilter() {
                @Override
                public KernelToPager toPager(String kernel, KernelToPager message) {
                    return toPager.apply(message);
                }

                @Override
                public PagerToKernel toKernel(String kernel, PagerToKernel message) {
                    return toKernel.apply(message);
                }
            });
            ChaosRun.Result r = run.run();
            if (!r.passed()) {
                return r;
            }
        }
        throw new AssertionError(seeds + " seeds did not find the planted bug");
    }

    /** A reclaim, rewritten object by object. */
    private static KernelToPager inReclaims(KernelToPager m, UnaryOperator<ReclaimedObject.Builder> change) {
        if (!m.hasKernelHello() || !m.getKernelHello().hasReclaim()) {
            return m;
        }
        var reclaim = m.getKernelHello().getReclaim().toBuilder();
        reclaim.getObjectsBuilderList().forEach(change::apply);
        return m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setReclaim(reclaim)).build();
    }

    @Test
    void pagerRestartsAreInjectedAndKernelsReclaimAcrossThem() {
        long restarts = 0;
        long reclaimed = 0;
        for (long seed = 1; seed <= 40; seed++) {
            ChaosRun.Result r = new ChaosRun(seed, ChaosOptions.DEFAULT).run();
            assertThat(r.violations()).as("seed %d", seed).isEmpty();
            restarts += r.counts().getOrDefault("pager restarts", 0L);
            reclaimed += r.counts().getOrDefault("kernels reclaimed", 0L);
        }
        assertThat(restarts).isGreaterThan(10);
        assertThat(reclaimed).as("most kernels reclaim").isGreaterThan(2 * restarts);
    }

    @Test
    void aPagerThatForgetsReclaimedFutexesMakesTwoOwners() {
        ChaosRun.Result r = firstFailing(50, m -> inReclaims(m, ReclaimedObject.Builder::clearFutexes),
                UnaryOperator.identity());
        // Two kernels own the futex at once, or one after the other with the forgotten holder's
        // last writes (acknowledged in its pages) never reaching the next owner: a lost write.
        assertThat(String.join("\n", r.violations())).containsAnyOf("two owners", "fencing token", "a write was lost");
    }

    @Test
    void aPagerThatRefusesReclaimsIsCaught() {
        ChaosRun.Result r = firstFailing(50, m -> m.hasKernelHello() && m.getKernelHello().hasReclaim()
                ? m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setReclaim(
                        m.getKernelHello().getReclaim().toBuilder().setKernelId(0))).build() : m,
                UnaryOperator.identity());
        assertThat(String.join("\n", r.violations())).containsAnyOf("got EIO although the harness injected no fault",
                "two owners");
    }

    @Test
    void aKernelThatDropsReturnsThePagerMayNotHaveTakenLosesWrites() {
        ChaosRun.Result r = firstFailing(50, m -> inReclaims(m, o -> {
            o.getPagesBuilderList().forEach(p -> p.clearData());
            return o;
        }), UnaryOperator.identity());
        assertThat(String.join("\n", r.violations())).contains("a write was lost");
    }

    @Test
    void aKernelThatIgnoresItsLeaseMakesTwoOwners() {
        ChaosRun.Result r = firstFailing(m -> m.hasPagerWelcome()
                ? m.toBuilder().setPagerWelcome(m.getPagerWelcome().toBuilder().setLeaseMillis(0)).build() : m);
        assertThat(String.join("\n", r.violations())).containsAnyOf("two owners", "got EIO although the harness");
    }

    @Test
    void aPagerThatDropsOwnerDiedIsCaught() {
        ChaosRun.Result r = firstFailing(m -> m.hasMemoryObjectFutexGranted()
                ? m.toBuilder().setMemoryObjectFutexGranted(m.getMemoryObjectFutexGranted().toBuilder()
                        .setOwnerDied(false)).build() : m);
        assertThat(String.join("\n", r.violations())).contains("without EOWNERDEAD, but an owner died");
    }

    @Test
    void aPagerThatRepeatsATokenIsCaught() {
        ChaosRun.Result r = firstFailing(m -> m.hasMemoryObjectFutexGranted()
                ? m.toBuilder().setMemoryObjectFutexGranted(m.getMemoryObjectFutexGranted().toBuilder()
                        .setFencingToken(1)).build() : m);
        assertThat(String.join("\n", r.violations())).contains("fencing token");
    }
}
