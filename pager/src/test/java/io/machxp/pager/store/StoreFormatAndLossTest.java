package io.machxp.pager.store;

import static io.machxp.pager.store.StoreTestFiles.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * what the store cannot tell apart is at least said (a page written
 * once whose data was lost reads as never written, with a warning naming it), and only files of
 * a store of the format before checksums make a directory an upgraded store.
 */
class StoreFormatAndLossTest {
    private static final int PAGE = StoreTestFiles.PAGE;

    @TempDir
    Path dir;

    /** page 1 written once at 7, its data cut off: read as never written, and a WARN names it (once a minute). */
    @Test
    void aPageWrittenOnceWhoseDataIsLostIsWarnedOf() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(1), 1);
            store.write("obj", PAGE, page(2), 7);
            store.write("obj", 2L * PAGE, page(3), 8);
        }
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("obj.pages").toFile(), "rw")) {
            f.setLength(PAGE);
        }
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger files = (Logger) LoggerFactory.getLogger(FilePageStore.class);
        logged.start();
        files.addAppender(logged);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            long[] now = {0};
            store.reports.clock = () -> now[0];
            assertThat(store.read("obj", PAGE)).as("cannot be told from a first write cut off before its data")
                    .isNull();
            assertThat(store.version("obj", PAGE)).isZero();
            assertThat(store.read("obj", 2L * PAGE)).isNull();
            List<ILoggingEvent> warned = logged.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
            assertThat(warned).as("one a minute for the store").hasSize(1);
            assertThat(warned.get(0).getFormattedMessage()).contains("page 0x1000 of 'obj'").contains("version 7")
                    .contains("data lost");
            now[0] = DamageReports.DAMAGE_LOG_NANOS;
            store.read("obj", PAGE);
            warned = logged.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
            assertThat(warned).as("a minute later").hasSize(2);
            assertThat(warned.get(1).getFormattedMessage()).contains("3 such reads");
        } finally {
            files.detachAppender(logged);
        }
    }

    /** a directory with a stray entry but no file of an old store is a new, checked store. */
    @Test
    void aStrayEntryDoesNotMakeAnUpgradedStore() throws IOException {
        Files.createDirectory(dir.resolve("lost+found"));
        Files.writeString(dir.resolve("README"), "pages\n");
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.holder("obj", 0, "A");
        }
        assertThat(Files.readString(dir.resolve(FilePageStore.FORMAT_FILE))).doesNotContain("upgraded");
        Files.writeString(dir.resolve(FilePageStore.HOLDERS), "");
        assertThatThrownBy(() -> new FilePageStore(dir, PAGE)).isInstanceOf(IOException.class)
                .hasMessageContaining("it is empty");
    }

    /** each file of an old store does make it upgraded. */
    @Test
    void eachFileOfAnOldStoreMakesAnUpgradedStore() throws IOException {
        for (String name : List.of("obj.pages", "obj.versions", "holders", "epoch", "lease")) {
            Path d = dir.resolve(name.replace('.', '-'));
            Files.createDirectory(d);
            Files.writeString(d.resolve(name), name.equals("epoch") || name.equals("lease") ? "5\n" : "");
            try (FilePageStore store = new FilePageStore(d, PAGE)) {
                assertThat(Files.readString(d.resolve(FilePageStore.FORMAT_FILE))).as(name).contains("upgraded from 1");
            }
        }
    }
}
