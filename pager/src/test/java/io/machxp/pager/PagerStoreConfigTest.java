package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pager with --store DIR: the directory is made at start, or the start fails saying why. */
class PagerStoreConfigTest {
    @TempDir
    Path dir;

    @Test
    void aPagerStartsWithAStoreDirectory() throws IOException {
        Path store = dir.resolve("pages");
        try (Pager pager = Pager.start(PagerConfig.loopback(PagerConfig.defaultObjects()).withStoreDir(store))) {
            assertThat(pager.port()).isPositive();
            assertThat(store).isDirectory();
        }
    }

    @Test
    void anUnusableStoreDirectoryFailsTheStart() throws IOException {
        Path file = Files.createFile(dir.resolve("plain-file"));
        PagerConfig config = PagerConfig.loopback(PagerConfig.defaultObjects()).withStoreDir(file);
        assertThatThrownBy(() -> Pager.start(config))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("pager pager: page store directory")
                .hasMessageContaining(file.toString());
    }

    /**
     * A holders' journal damaged in the middle fails the pager's start with a sentence naming the
     * file and line, rather than the pager forgetting a holder (its futex could get a second owner).
     */
    @Test
    void aDamagedHoldersJournalFailsTheStart() throws IOException {
        Path store = dir.resolve("pages");
        PagerConfig config = PagerConfig.loopback(PagerConfig.defaultObjects()).withStoreDir(store);
        try (Pager pager = Pager.start(config)) {
            assertThat(pager.port()).isPositive();
        }
        Path journal = store.resolve("holders");
        try (var s = new io.machxp.pager.store.FilePageStore(store, config.pageSize())) {
            s.holder("obj", 0, "A");
            s.holder("obj", config.pageSize(), "B");
        }
        Files.writeString(journal, Files.readString(journal).replace("\tA\t", "\tX\t"));
        assertThatThrownBy(() -> Pager.start(config))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("pager pager: page store directory")
                .hasMessageContaining("line 2 of the futex holders' journal " + journal.toAbsolutePath())
                .hasMessageContaining("The pager does not start");
    }
}
