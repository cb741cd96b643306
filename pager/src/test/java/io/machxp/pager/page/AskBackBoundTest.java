package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * At the pager's bound on futex records, each lock_futex parked sets off an ask-back round
 * (FutexParking): it looked at every futex of every holder from the start of its set, busy ones
 * too, so with the records at the bound and the held futexes busy (another kernel waits for each)
 * every parked request walked them all. Counted in the held futexes looked at
 * ({@code PagerStats#walked}), no timing: four holders of {@link #QUOTA} futexes each (the bound:
 * 4 x QUOTA records), every one waited for but the last of H1, and a kernel parking
 * {@link #PARKED} requests. The idle futex must still be asked back, by the messages' rounds.
 */
class AskBackBoundTest {
    private static final long LEASE = 1_000_000_000L;
    private static final int QUOTA = 1024;
    private static final int PARKED = 500;

    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 1, QUOTA), 0,
            Map.of("obj", 16L * QUOTA * XpKernels.PAGE));

    @Test
    void aParkedLockFutexLooksAtABoundedNumberOfBusyFutexesAndTheIdleOneIsStillAskedBack() {
        long offset = 0;
        long idle = -1;
        for (int h = 1; h <= 4; h++) {
            long holder = x.kernel(h, "H" + h);
            long waiter = x.kernel(4 + h, "W" + h);
            for (int i = 0; i < QUOTA; i++, offset += 4) {
                x.lockFutex(holder, offset);
                if (h == 1 && i == QUOTA - 1) {
                    idle = offset; // nobody waits for it: the one idle futex, last of H1's set
                } else {
                    x.lockFutex(waiter, offset); // queued: busy
                }
            }
            assertThat(x.take(holder)).filteredOn(PagerToKernel::hasMemoryObjectFutexGranted).hasSize(QUOTA);
            // (and a relinquish_futex for each futex waited for: the holder keeps them, its threads own them)
            assertThat(x.take(waiter)).isEmpty();
        }
        assertThat(x.pager.recordCounts().get("futexes")).isEqualTo(4 * QUOTA);
        long late = x.kernel(9, "late");
        long before = x.stats.walked();
        for (int i = 0; i < PARKED; i++, offset += 4) {
            x.lockFutex(late, offset); // parked: no record is free
        }
        assertThat(x.take(late)).as("every request waits").isEmpty();
        assertThat(x.ended).isEmpty();
        // Old: each parked request looked at all 4 x QUOTA held futexes, 2 million in all.
        assertThat(x.stats.walked() - before).as("held futexes looked at for %d parked lock_futex", PARKED)
                .isLessThan(100L * PARKED);
        List<Long> asked = x.take(1).stream().filter(PagerToKernel::hasMemoryObjectRelinquishFutex)
                .map(m -> m.getMemoryObjectRelinquishFutex().getOffset()).toList();
        assertThat(asked).as("H1's idle futex asked back, once").containsExactly(idle);
        for (long k = 2; k <= 4; k++) {
            assertThat(x.take(k)).as("H%d has nothing idle", k).isEmpty();
        }
        x.futexReleased(1, idle); // given back: the first parked request takes its record
        assertThat(x.take(late)).hasSize(1).allMatch(PagerToKernel::hasMemoryObjectFutexGranted);
    }
}
