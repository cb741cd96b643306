package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.dirtyPage;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * The pager sends its copy of a page without copying it (the message wraps the array it keeps):
 * that is right only because no page array is changed once it is the pager's. These check that
 * what was sent stays as it was sent, whatever comes back later, and that nothing a caller keeps
 * can change the pager's copy.
 */
class PageSharingTest {
    private final MemoryPageStore store = new MemoryPageStore();
    private final XpKernels k = new XpKernels(store);
    private final long a = k.kernel(1, "A");
    private final long b = k.kernel(2, "B");
    private final long c = k.kernel(3, "C");

    @Test
    void aPageSentStaysAsSentWhenANewerOneComesBack() {
        k.write(a, 0);
        k.take(a);
        k.returnDirty(a, 0, page(0x11), false);
        k.read(b, 0);
        PagerToKernel sentToB = k.one(b);
        assertReadCopy(sentToB, 0, page(0x11));

        k.write(c, 0);                  // B's copy is flushed, C writes and gives back another page
        k.take(b);
        k.lockCompleted(b, 0);
        k.take(c);
        k.returnDirty(c, 0, page(0x22), false);

        assertReadCopy(sentToB, 0, page(0x11));
        k.read(a, 0);
        assertReadCopy(k.one(a), 0, page(0x22));
    }

    @Test
    void aPageHandedOnWithItsFutexStaysAsSentWhenTheNextOwnerReleasesAnother() {
        k.lockFutex(a, 0);
        k.take(a);
        k.write(a, 0);
        k.take(a);
        k.lockFutex(b, 0);
        k.take(a);                      // relinquish
        k.futexReleased(a, 0, dirtyPage(0, page(0x33)));
        PageData toB = k.one(b).getMemoryObjectFutexGranted().getPages(0);

        k.lockFutex(c, 0);
        k.take(b);
        k.futexReleased(b, 0, dirtyPage(0, page(0x44)));
        PageData toC = k.one(c).getMemoryObjectFutexGranted().getPages(0);

        assertThat(toB.getData().toByteArray()).isEqualTo(page(0x33));
        assertThat(toC.getData().toByteArray()).isEqualTo(page(0x44));
    }

    @Test
    void anArrayWrittenToAnObjectIsNotTheObjectsCopy() {
        MemoryObject object = new MemoryObject("obj", 4L * PAGE, store);
        byte[] mine = page(0x55);
        object.write(PAGE, mine, 1);
        mine[0] = 0x66;                 // the caller's array is its own

        assertThat(object.page(PAGE)).isEqualTo(page(0x55));
        assertThat(store.read("obj", PAGE)).isEqualTo(page(0x55));
    }

    @Test
    void aStagedPageOfZerosIsSuppliedAsAZeroFill() {
        MemoryObject object = new MemoryObject("obj", 4L * PAGE, store);
        object.stage(0, new byte[PAGE], 3);

        assertThat(object.page(0)).isNull();
        assertThat(object.staged(0).data()).isNull();
        assertThat(object.staged(0).version()).isEqualTo(3);
    }
}
