package io.machxp.bench.pagerload;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.PagerAdminClient;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.admin.PagerStatisticsReply;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The synthetic XP load speaks XP as the pager expects: over an in-process pager, every virtual
 * thread runs its cycles, the pager's counters agree with the load's, and nothing is a protocol
 * error. Waits on the load's completion, never on time.
 */
class SyntheticLoadTest {
    private static final int PAGE = PagerConfig.DEFAULT_PAGE_SIZE;

    @Test
    void everyThreadRunsItsCyclesAndThePagerCountsThreeMessagesEach() throws Exception {
        SyntheticLoad.Options o = new SyntheticLoad.Options(6, 8, 2, 2, false, 40);
        PagerStatisticsReply stats = run(o);
        long cycles = 6L * 8 * 40;
        assertThat(stats.getXpReceivedMap()).containsEntry("memory_object_lock_futex", cycles)
                .containsEntry("memory_object_futex_released", cycles).containsEntry("kernel_hello", 6L)
                .containsEntry("memory_object_init", 6L);
        assertThat(stats.getXpSentMap()).containsEntry("memory_object_futex_granted", cycles)
                .containsEntry("pager_welcome", 6L).containsEntry("memory_object_ready", 6L)
                .doesNotContainKey("memory_object_relinquish_futex");
        assertThat(stats.getFutexGrants()).isEqualTo(cycles);
    }

    @Test
    void sharedFutexesAreHandedFromKernelToKernelOneHolderAtATime() throws Exception {
        SyntheticLoad.Options o = new SyntheticLoad.Options(5, 4, 0, 2, true, 60);
        PagerStatisticsReply stats = run(o);
        long cycles = 5L * 4 * 60;
        assertThat(stats.getXpReceivedMap()).containsEntry("memory_object_lock_futex", cycles)
                .containsEntry("memory_object_futex_released", cycles);
        assertThat(stats.getXpSentMap()).containsEntry("memory_object_futex_granted", cycles);
        assertThat(stats.getFutexGrants()).isEqualTo(cycles);
        // 5 kernels lock each of the 4 futexes 60 times: they queue at the pager, so some grants go
        // to a kernel other than the last holder (how many depends on arrival order, not time).
        assertThat(stats.getFutexHandoffs()).isPositive();
    }

    @Test
    void optionsThatPutTooManyStreamsOnAConnectionAreRefusedWithTheNumberNeeded() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SyntheticLoad.Options(100, 4, 2, 1, false, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("use at least 7");
    }

    /** Runs {@code o} to its end on a fresh in-process pager; the pager's statistics after. */
    private static PagerStatisticsReply run(SyntheticLoad.Options o) throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of(SyntheticLoad.OBJECT, o.objectBytes(PAGE))));
                SyntheticLoad load = SyntheticLoad.start(pager.target(), o, PAGE);
                PagerAdminClient admin = PagerAdminClient.connect(pager.target())) {
            // Every thread runs its cycles, then its kernel half-closes: done means all ran (a hang's bound only).
            load.done().get(5, TimeUnit.MINUTES);
            assertThat(load.firstError()).isNull();
            assertThat(load.errors()).isZero();
            assertThat(load.cycles()).isEqualTo((long) o.streams() * o.inFlight() * o.cycles());
            return admin.statistics();
        }
    }
}
