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
}
