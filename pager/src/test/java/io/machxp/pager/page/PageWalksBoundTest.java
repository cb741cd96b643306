package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A kernel's message costs the pager's core what that message asks for, not a walk of every
 * kernel's page records (review of the per-message walks): a range lock_completed looked at every
 * page of its range, or every page record if fewer, and a memory_object_terminate at every page
 * record of every kernel. Counted in the entries looked at ({@code PagerStats#walked}), no timing:
 * another kernel K holds {@link #HELD} pages, and a kernel repeats the cheap message
 * {@link #ROUNDS} times. The index that replaced the walks must still find what they did.
 */
class PageWalksBoundTest {
    private static final int PAGE = XpKernels.PAGE;
    /** Pages of "obj" K holds: page records the old walks looked at, each message. */
    private static final int HELD = 8192;
    private static final int ROUNDS = 200;
    private static final int SMALL = 9;

    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(0, 3), 0,
            Map.of("obj", 4L * HELD * PAGE, "small", 4L * PAGE));

    /** K holds {@link #HELD} pages of "obj". */
    private long kernelHoldingManyPages() {
        long k = x.kernel(1, "K");
        for (int page = 0; page < HELD; page++) {
            x.read(k, (long) page * PAGE); // a page record for each page
        }
        assertThat(x.take(k)).hasSize(HELD);
        assertThat(x.pager.pageReaders("obj", 0)).containsExactly("K");
        assertThat(x.pager.pageReaders("obj", (long) (HELD - 1) * PAGE)).containsExactly("K");
        return k;
    }

    private static KernelToPager.Builder lockCompleted(long offset, long length) {
        return KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                .setObjectId(XpKernels.OBJ).setOffset(offset).setLength(length));
    }

    @Test
    void aRangeLockCompletedLooksOnlyAtThePagesAwaitingItsSender() {
        kernelHoldingManyPages();
        long a = x.kernel(2, "A", "lock_ranges");
        long b = x.kernel(3, "B");
        long far = (long) (2 * HELD) * PAGE; // past K's pages
        x.write(a, far);
        x.write(a, far + 2L * PAGE);
        x.take(a);
        x.write(b, far);
        x.write(b, far + 2L * PAGE);
        assertThat(x.take(a)).as("two flushes awaited of A").hasSize(2);
        long before = x.stats.walked();
        // One range over the whole object: it completes both pages, and the others were not asked.
        x.xp(a, lockCompleted(0, 4L * HELD * PAGE));
        assertThat(x.take(b)).as("B's two writes answered").hasSize(2);
        assertThat(x.pager.pageWriter("obj", far)).isEqualTo("B");
        assertThat(x.pager.pageWriter("obj", far + 2L * PAGE)).isEqualTo("B");
        assertThat(x.stats.walked() - before).as("the two pages awaiting A").isEqualTo(2);
        for (int i = 0; i < ROUNDS; i++) {
            x.xp(a, lockCompleted(0, 4L * HELD * PAGE)); // nothing awaits A any more: refused, cheaply
        }
        // Old: each looked at every page record (HELD + 2), 1.6 million in all.
        assertThat(x.stats.walked() - before).as("entries looked at for %d range lock_completed", ROUNDS + 1)
                .isEqualTo(2);
        assertThat(x.ended).isEmpty();
    }

    @Test
    void aTerminateLooksOnlyAtThePagesItsKernelHadToDoWith() {
        long k = kernelHoldingManyPages();
        long t = x.kernel(2, "T");
        long before = x.stats.walked();
        for (int i = 0; i < ROUNDS; i++) {
            x.xp(t, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(SMALL)
                    .setName("small").setPageSize(PAGE)));
            assertThat(x.take(t)).as("ready").hasSize(1);
            x.xp(t, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(SMALL).setOffset(PAGE).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_READ)));
            assertThat(x.take(t)).as("the page").hasSize(1);
            assertThat(x.pager.pageReaders("small", PAGE)).containsExactly("T");
            x.xp(t, KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                    .setObjectId(SMALL)));
            assertThat(x.pager.pageReaders("small", PAGE)).as("given up at the terminate").isEmpty();
        }
        // Old: each terminate looked at every page record (HELD + 1), 1.6 million in all.
        assertThat(x.stats.walked() - before).as("entries looked at for %d terminates", ROUNDS).isEqualTo(ROUNDS);
        // T's terminate of "obj" gives up what it holds there, and K keeps its pages.
        x.read(t, 0);
        x.take(t);
        x.terminate(t);
        assertThat(x.pager.pageReaders("obj", 0)).containsExactly("K");
        assertThat(x.pager.pageReaders("obj", (long) (HELD - 1) * PAGE)).containsExactly("K");
        x.nothingTo(k);
        assertThat(x.ended).isEmpty();
    }
}
