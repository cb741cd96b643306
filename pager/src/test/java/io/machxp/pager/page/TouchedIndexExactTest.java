package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import java.lang.reflect.Field;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The index of the pages each kernel has to do with ({@link SessionPages}) holds what kernels hold
 * and ask for now, not every page they ever touched (review of branch burst, M1): a kernel that
 * streams through an object, each page given back or taken by another kernel's write, leaves no
 * entries behind. Before: one entry per page ever touched, until a terminate or the session's end.
 */
class TouchedIndexExactTest {
    private static final int PAGE = XpKernels.PAGE;
    private static final int PAGES = 4096;

    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(0, 3), 0,
            Map.of("obj", 2L * PAGES * PAGE));

    @Test
    void pagesGivenBackLeaveNoEntries() throws Exception {
        long k = x.kernel(1, "K");
        for (int page = 0; page < PAGES; page++) {
            x.read(k, (long) page * PAGE);
            x.take(k);
            x.returnClean(k, (long) page * PAGE, false); // given back: K holds nothing of it
        }
        assertThat(x.pager.pageReaders("obj", 0)).isEmpty();
        assertThat(touched()).as("index entries of a kernel holding nothing").isZero();
        assertThat(x.ended).isEmpty();
    }

    @Test
    void pagesTakenByAnotherKernelsWriteLeaveOnlyTheWritersEntries() throws Exception {
        long k = x.kernel(1, "K");
        long w = x.kernel(2, "W");
        for (int page = 0; page < 64; page++) {
            x.read(k, (long) page * PAGE);
            x.take(k);
            x.write(w, (long) page * PAGE); // K is asked to flush the page
            assertThat(x.take(k)).as("flush of page %d", page).hasSize(1);
            x.lockCompleted(k, (long) page * PAGE);
            assertThat(x.take(w)).as("write access to page %d", page).hasSize(1);
        }
        assertThat(x.pager.pageWriter("obj", 63L * PAGE)).isEqualTo("W");
        assertThat(touched()).as("W's 64 pages, none of K's").isEqualTo(64);
        x.terminate(w);
        assertThat(touched()).isZero();
        assertThat(x.ended).isEmpty();
    }

    private long touched() throws Exception {
        Object coherence = field(x.pager, "pages");
        Object table = field(coherence, "pages");
        return ((PageTable) table).sessions.touchedCount();
    }

    private static Object field(Object o, String name) throws Exception {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }
}
