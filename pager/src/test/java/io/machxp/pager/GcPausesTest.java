package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.GarbageCollectorMXBean;
import java.util.List;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * Late11 review LOW-P2: close's stuck check discounts slices the JVM spent collecting, and read
 * every collector's time; concurrent collectors' cycle beans (ZGC, Shenandoah, G1's concurrent
 * marking) count time every thread may run in, so a JVM collecting concurrently half of each
 * slice never judged a stuck core stuck. Only pause beans count now.
 */
class GcPausesTest {
    private static GarbageCollectorMXBean bean(String name, long ms) {
        return new GarbageCollectorMXBean() {
            @Override
            public long getCollectionCount() {
                return 1;
            }

            @Override
            public long getCollectionTime() {
                return ms;
            }

            @Override
            public String getName() {
                return name;
            }

            @Override
            public boolean isValid() {
                return true;
            }

            @Override
            public String[] getMemoryPoolNames() {
                return new String[0];
            }

            @Override
            public ObjectName getObjectName() {
                return null;
            }
        };
    }

    @Test
    void concurrentCyclesAreNotPauses() {
        assertThat(GcPauses.nanos(List.of(bean("ZGC Cycles", 4_000), bean("ZGC Pauses", 3)))).isEqualTo(3_000_000L);
        assertThat(GcPauses.nanos(List.of(bean("ZGC Minor Cycles", 900), bean("ZGC Minor Pauses", 2),
                bean("ZGC Major Cycles", 900), bean("ZGC Major Pauses", 5)))).isEqualTo(7_000_000L);
        assertThat(GcPauses.nanos(List.of(bean("Shenandoah Cycles", 4_000), bean("Shenandoah Pauses", 10))))
                .isEqualTo(10_000_000L);
        assertThat(GcPauses.nanos(List.of(bean("G1 Young Generation", 20), bean("G1 Old Generation", 30),
                bean("G1 Concurrent GC", 4_000)))).isEqualTo(50_000_000L);
    }

    @Test
    void stopTheWorldCollectorsAllCount() {
        assertThat(GcPauses.nanos(List.of(bean("PS Scavenge", 1), bean("PS MarkSweep", 2)))).isEqualTo(3_000_000L);
        assertThat(GcPauses.nanos(List.of(bean("Copy", 1), bean("MarkSweepCompact", 2)))).isEqualTo(3_000_000L);
        assertThat(GcPauses.nanos(List.of(bean("G1 Young Generation", -1)))).isEqualTo(-1L);
        assertThat(GcPauses.nanos(List.of())).isZero();
    }

    /** With concurrent cycles taking over half of a slice, a core standing still is stuck all the same. */
    @Test
    void aJvmCollectingConcurrentlyStillJudgesAStuckCore() {
        long[] cycles = {0};
        StuckCheck.Readings core = new StuckCheck.Readings() {
            @Override
            public long cpuNanos() {
                return 1_000;
            }

            @Override
            public Thread.State state() {
                return Thread.State.WAITING;
            }

            @Override
            public long gcNanos() {
                return GcPauses.nanos(List.of(bean("ZGC Cycles", cycles[0]), bean("ZGC Pauses", 1)));
            }
        };
        StuckCheck check = new StuckCheck(core);
        long slice = StoreClose.STUCK_AFTER.toNanos();
        boolean stuck = false;
        for (int i = 0; i < StuckCheck.SLICES; i++) {
            cycles[0] += 4_000; // 4 s of each 5 s slice in concurrent cycles
            stuck = check.stuck(slice);
        }
        assertThat(stuck).isTrue();
    }
}
