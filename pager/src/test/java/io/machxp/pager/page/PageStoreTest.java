package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.assertReadCopy;
import static io.machxp.pager.page.XpKernels.assertWriteCopy;
import static io.machxp.pager.page.XpKernels.dirtyPage;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.FilePageStore;
import io.machxp.pager.store.PageStore;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What reaches the pager is in its page store: it survives a restart; a failing store loses nothing live. */
class PageStoreTest {
    @TempDir
    Path dir;

    @Test
    void returnedDataSurvivesAPagerRestart() throws IOException {
        FilePageStore first = new FilePageStore(dir, PAGE);
        XpKernels before = new XpKernels(first);
        long a = before.kernel(1, "A");
        before.write(a, PAGE);
        before.take(a);
        before.returnDirty(a, PAGE, page(0x42), false);
        before.lockFutex(a, 0);
        before.take(a);
        before.write(a, 2L * PAGE);
        before.take(a);
        before.futexReleased(a, 0, dirtyPage(2L * PAGE, page(0x43)));
        first.close();

        try (FilePageStore second = new FilePageStore(dir, PAGE)) {
            XpKernels after = new XpKernels(second);
            long b = after.kernel(1, "B");
            after.read(b, PAGE);
            assertReadCopy(after.one(b), PAGE, page(0x42));
            after.write(b, 2L * PAGE);
            assertWriteCopy(after.one(b), 2L * PAGE, page(0x43));
            after.read(b, 0);
            assertReadCopy(after.one(b), 0, null);
        }
    }

    @Test
    void aFailingStoreWriteKeepsThePagerCoherentAndIsCounted() {
        PageStore failing = new FailingStore(Integer.MAX_VALUE);
        XpKernels k = new XpKernels(failing);
        long a = k.kernel(1, "A");
        long b = k.kernel(2, "B");
        k.write(a, 0);
        k.take(a);
        k.returnDirty(a, 0, page(0x66), false);
        assertThat(k.stats.storeFailures()).isEqualTo(1);
        assertThat(k.stats.refused()).isZero();
        k.read(b, 0);
        assertReadCopy(k.one(b), 0, page(0x66));
        k.nothingTo(a);
    }
}
