package io.machxp.pager.lib;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.Pager;
import io.machxp.pager.store.PageStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A library backend with a state directory ({@link XpPager#stateDir}) keeps what a restarted pager
 * needs to take its kernels' reclaims (xp-spec 9.2, 9.4): page versions, the holders' journal, the
 * epoch and the lease survive a restart. A first start on an empty directory knows nothing of the
 * pagers before it (the directory may be new, deleted, or an earlier pager kept its state in
 * memory): it waits a lease unless told it starts fresh (review of reclaim-left, F2). Without one ({@link BackendStore}) none of it survives, and the pager refuses every reclaim.
 */
class DurableBackendStoreTest {
    private static final int PAGE = 4096;

    /** A backend whose bytes survive the store (as a file's do). */
    private static final class Bytes implements PagerBackend {
        final Map<String, byte[]> pages = new HashMap<>();

        @Override
        public byte[] read(String object, long offset) {
            return pages.get(offset + "/" + object);
        }

        @Override
        public void write(String object, long offset, byte[] page) {
            pages.put(offset + "/" + object, page.clone());
        }
    }

    @Test
    void versionsHoldersEpochAndLeaseSurviveARestart(@TempDir Path dir) throws Exception {
        Bytes bytes = new Bytes();
        long epoch;
        try (PageStore first = new DurableBackendStore(bytes, PAGE, dir.resolve("state"))) {
            assertThat(first.persistent()).isTrue();
            epoch = first.nextEpoch();
            assertThat(first.restarted()).as("an empty directory: a first start").isFalse();
            first.swapLease(5_000_000_000L);
            first.write("obj", 3L * PAGE, new byte[PAGE], 7);
            first.write("obj", 3L * PAGE, new byte[PAGE], 8);
            first.write("other", 0, new byte[PAGE], 2);
            first.holder("obj", 3L * PAGE, "A");
        }
        try (PageStore again = new DurableBackendStore(bytes, PAGE, dir.resolve("state"))) {
            assertThat(again.nextEpoch()).isGreaterThan(epoch);
            assertThat(again.restarted()).isTrue();
            assertThat(again.keepLongerLease(1_000_000_000L)).isEqualTo(5_000_000_000L);
            assertThat(again.version("obj", 3L * PAGE)).isEqualTo(8);
            assertThat(again.version("obj", 0)).isZero();
            assertThat(again.version("other", 0)).isEqualTo(2);
            assertThat(again.holders()).containsExactly(new PageStore.Holder("obj", 3L * PAGE, "A"));
        }
        try (PageStore inMemory = new BackendStore(bytes, PAGE)) {
            assertThat(inMemory.persistent()).as("without a state directory nothing survives").isFalse();
            assertThat(inMemory.version("obj", 3L * PAGE)).isZero();
        }
    }

    @Test
    void aDamagedVersionFailsTheStartNamingTheFile(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        try (PageStore first = new DurableBackendStore(new Bytes(), PAGE, state)) {
            first.write("obj", PAGE, new byte[PAGE], 4);
        }
        Path versions;
        try (var found = Files.newDirectoryStream(state, "versions-*")) {
            versions = found.iterator().next();
        }
        try (FileChannel f = FileChannel.open(versions, StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.allocate(8).putLong(5).flip(), 16); // page 1's version, its CRC left as it was
        }
        assertThatThrownBy(() -> new DurableBackendStore(new Bytes(), PAGE, state)).isInstanceOf(IOException.class)
                .hasMessageContaining(versions.toString()).hasMessageContaining("damaged at page 1")
                .hasMessageContaining("waits a lease").hasMessageNotContaining("no grace period");
    }

    private static Pager start(Path state, boolean fresh) throws IOException {
        return XpPager.serve(new Bytes()).object("obj", 1 << 20).lease(Duration.ofSeconds(60)).freshStart(fresh)
                .stateDir(state).start();
    }

    /**
     * An empty state directory records no clean first start: kernels of an earlier pager on the port
     * (one run with its state in memory, an older build, a deleted or new --state) may still hold
     * futexes, so the pager grants nothing for a lease unless told it starts fresh. Before, it
     * started at once (grace 0) whatever freshStart said.
     */
    @Test
    void aFirstStartOnAnEmptyStateDirectoryWaitsALeaseUnlessToldItStartsFresh(@TempDir Path dir) throws Exception {
        try (Pager unknownPast = start(dir.resolve("new"), false)) {
            assertThat(unknownPast.status().getInGrace()).as("not told fresh: it waits a lease").isTrue();
        }
        try (Pager fresh = start(dir.resolve("fresh"), true)) {
            assertThat(fresh.status().getInGrace()).as("told fresh: it grants at once").isFalse();
        }
        try (Pager again = start(dir.resolve("fresh"), true)) {
            assertThat(again.status().getInGrace()).as("the directory records a start: a restart, in grace")
                    .isTrue();
        }
    }

    /**
     * A new versions file's name is durable before its first version is relied on: the state
     * directory is forced after the file is created, before the write returns, and again at the
     * next write if that failed (review of reclaim-left, F3). Before, only the file was forced: after
     * a power loss its name could be gone, every page back at version 0 while the backend kept the
     * newer bytes, and an older unconfirmed return would then be taken over an acknowledged write.
     */
    @Test
    void aNewVersionsFilesNameIsForcedBeforeItsFirstWriteReturns(@TempDir Path dir) throws Exception {
        List<Path> forced = new ArrayList<>();
        boolean[] failing = {true};
        try (DurableBackendStore store = new DurableBackendStore(new Bytes(), PAGE, dir.resolve("state"), d -> {
            if (failing[0]) {
                throw new IOException("no directory sync");
            }
            forced.add(d);
        })) {
            assertThatThrownBy(() -> store.write("obj", 0, new byte[PAGE], 1))
                    .as("a name not known durable fails the write: the pager writes it again")
                    .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("no directory sync");
            failing[0] = false;
            store.write("obj", 0, new byte[PAGE], 1);
            assertThat(forced).as("forced again at the next write").containsExactly(dir.resolve("state"));
            store.write("obj", PAGE, new byte[PAGE], 1);
            assertThat(forced).as("once the name is durable, not at every write").hasSize(1);
            store.write("other", 0, new byte[PAGE], 1);
            assertThat(forced).as("each new file's name").hasSize(2);
        }
    }
}
