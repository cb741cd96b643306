package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import java.lang.reflect.Field;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keeping the page index exact ({@link SessionPages#settle}, after every change to a page record)
 * costs what the change undid, not a look at every kernel indexed under the record (review late10,
 * L0): before, each change to a page looked at every kernel indexed under it and, for each, at
 * the page's queue, so a page many kernels queue on cost about K x 2K on every message, K^3 to
 * drain. Counted in the entries looked at ({@code PagerStats#settled}), no timing. The index must
 * still equal what a rebuild from the records ({@link PageTable#reindex}) makes, at every step.
 */
class HotPageSettleBoundTest {
    private static final int PAGE = XpKernels.PAGE;
    private static final int KERNELS = 256;

    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(0, 3), 0,
            Map.of("obj", 4L * PAGE));

    @Test
    void kernelsQueuedOnOnePageCostLinearWork() throws Exception {
        long[] k = new long[KERNELS];
        for (int i = 0; i < KERNELS; i++) {
            k[i] = x.kernel(i + 1, "K" + i);
        }
        x.write(k[0], 0);
        assertThat(x.take(k[0])).hasSize(1);
        long before = x.stats.settled();
        for (int i = 1; i < KERNELS; i++) {
            x.write(k[i], 0); // the first is in progress (K0 asked to flush), the others queued
            x.write(k[i], 0); // a repeat, merged
        }
        // Old: each write looked at every kernel queued so far and, for each, at the queue: ~K^3/3.
        assertThat(x.stats.settled() - before).as("entries looked at queueing %d writers", KERNELS - 1)
                .isLessThanOrEqualTo(4L * KERNELS);
        assertIndexAsRebuilt(KERNELS);
        before = x.stats.settled();
        assertThat(x.take(k[0])).as("K0's flush").hasSize(1);
        for (int i = 0; i < KERNELS - 1; i++) {
            x.lockCompleted(k[i], 0);
            // its write access, then (but for the last) the flush the next writer's turn asks of it
            assertThat(x.take(k[i + 1])).as("K%d's write access", i + 1).hasSize(i + 2 < KERNELS ? 2 : 1);
            if (i % 64 == 0) {
                assertIndexAsRebuilt(KERNELS - 1 - i);
            }
        }
        assertThat(x.pager.pageWriter("obj", 0)).isEqualTo("K" + (KERNELS - 1));
        assertThat(x.stats.settled() - before).as("entries looked at draining %d writers", KERNELS - 1)
                .isLessThanOrEqualTo(8L * KERNELS);
        assertIndexAsRebuilt(1);
        assertThat(x.ended).isEmpty();
    }

    @Test
    void aPageSharedByManyReadersCostsLinearWorkToTakeBack() throws Exception {
        long[] k = new long[KERNELS];
        for (int i = 0; i < KERNELS; i++) {
            k[i] = x.kernel(i + 1, "R" + i);
            x.read(k[i], PAGE);
            assertThat(x.take(k[i])).hasSize(1);
        }
        assertThat(x.pager.pageReaders("obj", PAGE)).hasSize(KERNELS);
        long w = x.kernel(KERNELS + 1, "W");
        long before = x.stats.settled();
        x.write(w, PAGE); // every reader is asked to flush
        for (int i = 0; i < KERNELS; i++) {
            assertThat(x.take(k[i])).as("R%d's flush", i).hasSize(1);
            x.lockCompleted(k[i], PAGE);
        }
        assertThat(x.take(w)).as("W's write access").hasSize(1);
        // Old: each lock_completed looked at every reader still indexed: ~K^2/2.
        assertThat(x.stats.settled() - before).as("entries looked at taking the page back from %d readers", KERNELS)
                .isLessThanOrEqualTo(4L * KERNELS);
        assertIndexAsRebuilt(1);
        assertThat(x.ended).isEmpty();
    }

    /** The live index has {@code entries} entries, and a rebuild from the records makes the same number. */
    private void assertIndexAsRebuilt(long entries) throws Exception {
        PageTable table = (PageTable) field(field(x.pager, "pages"), "pages");
        assertThat(table.sessions.touchedCount()).as("live index").isEqualTo(entries);
        table.reindex();
        assertThat(table.sessions.touchedCount()).as("index rebuilt from the records").isEqualTo(entries);
    }

    private static Object field(Object o, String name) throws Exception {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }
}
