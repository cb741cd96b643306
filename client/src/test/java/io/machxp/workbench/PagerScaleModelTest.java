package io.machxp.workbench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pager-scaling model in virtual time: deterministic by seed, the futexes spread over the
 * pagers, and a pager-bound load that one pager's CPU saturates and a second pager relieves.
 */
class PagerScaleModelTest {
    @Test
    void onePagerSaturatesAndASecondTakesHalfTheLoad() {
        List<PagerScaleModel.Point> points = PagerScaleModel.run(List.of(1, 2), NetworkModel.LAN, PagerScaleModel.QUICK, 3);
        PagerScaleModel.Point one = points.get(0);
        PagerScaleModel.Point two = points.get(1);
        assertThat(one.pagers()).isEqualTo(1);
        assertThat(one.speedup()).isEqualTo(1.0);
        assertThat(one.busiestPagerCpu()).as("the load is pager-bound").isGreaterThan(0.9);
        assertThat(two.opsPerSecond()).isGreaterThan(one.opsPerSecond());
        // the same messages per operation: spreading the futexes adds no protocol work
        assertThat(two.msgsPerOp()).isCloseTo(one.msgsPerOp(), org.assertj.core.data.Offset.offset(0.2));
    }

    @Test
    void theSameSeedGivesTheSameModel() {
        WorkbenchRun.Setup tiny = new WorkbenchRun.Setup(8, 2, 16, 2_000_000L, 1_000, 5_000);
        assertThat(PagerScaleModel.run(List.of(1, 3), NetworkModel.DC, tiny, 5))
                .isEqualTo(PagerScaleModel.run(List.of(1, 3), NetworkModel.DC, tiny, 5));
    }

    @Test
    void futexesSpreadOverThePagersAllReachTheirPager() {
        WorkbenchRun.Setup tiny = new WorkbenchRun.Setup(4, 2, 8, 2_000_000L, 1_000, 5_000);
        WorkbenchRun.OnPagers r = WorkbenchRun.onPagers(io.machxp.variant.Variants.of("no-cache"),
                new Workload("locality", 0.5, 4, 8), 0.5, NetworkModel.LAN, tiny, 9, 4);
        assertThat(r.pagers()).isEqualTo(4);
        assertThat(r.result().ops()).isPositive();
        assertThat(r.pagerCpu()).hasSize(4).allSatisfy(cpu -> assertThat(cpu).isPositive());
    }
}
