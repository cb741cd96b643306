package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static io.machxp.pager.page.XpKernels.page;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.machxp.pager.core.PagerCore;
import io.machxp.pager.store.FilePageStore;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A kernel asking again and again for a damaged page does not fill the log: the
 * damage is one ERROR line for the page until it is rewritten (then at most one a minute, with a
 * count), and every request is counted in machxp.store.damaged.
 */
class DamagedPageLogTest {
    @TempDir
    Path dir;

    @Test
    void aDamagedPageAskedForTenTimesIsOneLogLineAndTenInTheCount() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            XpKernels before = new XpKernels(store);
            long a = before.kernel(1, "A");
            before.write(a, PAGE);
            before.take(a);
            before.returnDirty(a, PAGE, page(0x22), false);
        }
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("obj.pages").toFile(), "rw")) {
            f.seek(PAGE + 5);
            f.write(0x23);
        }
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger core = (Logger) LoggerFactory.getLogger(PagerCore.class);
        Logger files = (Logger) LoggerFactory.getLogger(FilePageStore.class);
        logged.start();
        core.addAppender(logged);
        files.addAppender(logged);
        long damaged;
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            XpKernels after = new XpKernels(store);
            long b = after.kernel(1, "B");
            for (int i = 0; i < 10; i++) {
                after.read(b, PAGE);
                assertThat(after.one(b).hasMemoryObjectDataError()).isTrue();
            }
            damaged = after.stats.storeDamaged();
        } finally {
            core.detachAppender(logged);
            files.detachAppender(logged);
        }
        assertThat(logged.list).filteredOn(e -> e.getLevel() == Level.ERROR
                && e.getFormattedMessage().contains("page 0x1000 of 'obj'")).hasSize(1);
        assertThat(damaged).isEqualTo(10);
    }
}
