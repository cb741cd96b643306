package io.machxp.pager.store;

import static io.machxp.pager.store.StoreTestFiles.flipByte;
import static io.machxp.pager.store.StoreTestFiles.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pager serves many memory objects over its life: the store keeps the files (and page records)
 * of a bounded number of them open, closing the least recently used, and rebuilds an object's
 * records from its files when it is used again, checking them as before.
 */
class StoreOpenFilesTest {
    private static final int PAGE = StoreTestFiles.PAGE;
    /** More objects than the store keeps open. */
    private static final int OBJECTS = 300;
    /** The files the store may hold open: two an object (pages and records) for those it keeps open. */
    private static final int BOUND = 2 * OpenObjects.DEFAULT_LIMIT;

    @TempDir
    Path dir;

    /** The file descriptors of this process open on a file of the store's directory (Linux's /proc/self/fd). */
    private long openInDir() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        try (Stream<Path> list = Files.list(fds)) {
            return list.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).startsWith(dir.toRealPath());
                } catch (IOException e) {
                    return false; // closed meanwhile (the listing's own descriptor)
                }
            }).count();
        }
    }

    private static String name(int i) {
        return "obj-" + i;
    }

    @Test
    void manyObjectsKeepABoundedNumberOfFilesOpenAndReadBackAfterTheirFilesAreClosed() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            long before = openInDir();
            for (int i = 0; i < OBJECTS; i++) {
                store.write(name(i), 0, page(i % 100 + 1), 10 + i);
                store.write(name(i), PAGE, page(i % 100 + 2), 20 + i);
            }
            assertThat(openInDir() - before).as("files open in the store's directory").isLessThanOrEqualTo(BOUND);
            assertThat(store.openFiles()).isEqualTo(BOUND);
            assertThat(store.openObjects()).isEqualTo(OpenObjects.DEFAULT_LIMIT);
            for (int i = 0; i < OBJECTS; i++) {
                assertThat(store.read(name(i), 0)).as(name(i)).isEqualTo(page(i % 100 + 1));
                assertThat(store.version(name(i), 0)).isEqualTo(10 + i);
                assertThat(store.copy(name(i), PAGE).version()).isEqualTo(20 + i);
                assertThat(store.read(name(i), 2L * PAGE)).as("never written").isNull();
            }
            assertThat(openInDir() - before).isLessThanOrEqualTo(BOUND);
            assertThat(store.openObjects()).as("reads of pages never written too").isEqualTo(OpenObjects.DEFAULT_LIMIT);
            // written again after its files were closed and opened again: the spare slot, read back
            store.write(name(0), 0, page(99), 50);
            assertThat(store.read(name(0), 0)).isEqualTo(page(99));
            assertThat(store.version(name(0), 0)).isEqualTo(50);
        }
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.version(name(0), 0)).isEqualTo(50);
            assertThat(store.read(name(OBJECTS - 1), PAGE)).isEqualTo(page((OBJECTS - 1) % 100 + 2));
        }
    }

    /** Damage of an object whose files were closed is found when it is used again, as before. */
    @Test
    void damageIsFoundAfterAnObjectsFilesWereClosedAndOpenedAgain() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            for (int i = 0; i < OBJECTS; i++) {
                store.write(name(i), 0, page(1), 1);
                store.write(name(i), 0, page(2), 2);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(store.version(name(i), 0)).isEqualTo(2); // known good, cached
            }
            flipByte(store.fileOf(name(0)), 100); // its data
            flipByte(store.sumsOf(name(1)), 16 + 2); // its version-2 record
            for (int i = 3; i < OBJECTS; i++) {
                assertThat(store.read(name(i), 0)).isEqualTo(page(2)); // objects 0..2 least recently used
            }
            assertThatThrownBy(() -> store.read(name(0), 0)).isInstanceOf(StoreDamage.class)
                    .hasMessageContaining("neither of its records");
            assertThat(store.version(name(0), 0)).as("both records intact: the lower").isEqualTo(1);
            assertThatThrownBy(() -> store.read(name(1), 0)).isInstanceOf(StoreDamage.class)
                    .hasMessageContaining("slot 1");
            assertThat(store.version(name(1), 0)).as("above the mark").isEqualTo(2 + HighWaterMark.MARK_STEP - 1 + 1);
            assertThat(store.read(name(2), 0)).isEqualTo(page(2));
            store.write(name(0), 0, page(3), 3);
            assertThat(store.read(name(0), 0)).isEqualTo(page(3));
        }
    }

    private static void assertCopy(PageStore.Copy copy, byte[] data, long version) {
        assertThat(copy.data()).isEqualTo(data);
        assertThat(copy.version()).isEqualTo(version);
    }

    /** A store holding at most {@code limit} objects open. */
    private FilePageStore store(int limit) throws IOException {
        return new FilePageStore(dir, PAGE, DirectorySync.FSYNC, limit);
    }

    /**
     * An object with a write in the open batch stays open (its files are forced at the batch's
     * end), beyond the bound; once the batch ended, the next object opened closes them down to it.
     */
    @Test
    void anObjectWrittenInTheOpenBatchStaysOpenUntilItsEnd() throws IOException {
        try (FilePageStore store = store(2)) {
            store.beginBatch();
            for (int i = 0; i < 6; i++) {
                store.write(name(i), 0, page(i + 1), i + 1);
                store.read(name(100 + i), 0); // another object, never written, opened and closed meanwhile
            }
            assertThat(store.openFiles()).as("the batch's six objects' files").isEqualTo(12);
            store.endBatch();
            assertThat(store.read(name(6), 0)).isNull();
            assertThat(store.openObjects()).isEqualTo(2);
            assertThat(store.openFiles()).isLessThanOrEqualTo(4);
            for (int i = 0; i < 6; i++) {
                assertCopy(store.copy(name(i), 0), page(i + 1), i + 1);
            }
        }
        try (FilePageStore store = store(2)) {
            for (int i = 0; i < 6; i++) {
                assertThat(store.read(name(i), 0)).isEqualTo(page(i + 1));
            }
        }
    }

    /**
     * A page whose data write failed is unsettled: its data read back is written again and forced
     * before its next write's record (StoreCrashTest). That is not a cache: it stays when the
     * object's files are closed and its records dropped.
     */
    @Test
    void aPageUnsettledStaysSoWhenItsObjectIsClosed() throws IOException {
        try (FilePageStore store = store(1)) {
            store.write("obj", 0, page(5), 5);
            store.steps = (s, object, offset) -> {
                if (s == FilePageStore.Step.DATA_WRITTEN) {
                    throw new IOException("fsync: EIO");
                }
            };
            assertThatThrownBy(() -> store.write("obj", 0, page(6), 6)).hasMessageContaining("EIO");
            store.steps = (s, object, offset) -> {};
            store.write("other", 0, page(1), 1); // closes obj
            assertThat(store.openObjects()).isEqualTo(1);
            java.util.List<String> steps = new java.util.ArrayList<>();
            store.steps = (s, object, offset) -> steps.add(s == FilePageStore.Step.FILE_FORCED ? s + " " + object
                    : s.toString());
            store.write("obj", 0, page(7), 7);
            assertThat(steps).as("the data read back made durable before the record over the old one")
                    .startsWith("FILE_FORCED obj.pages", "RECORD_WRITTEN");
        }
        try (FilePageStore store = store(1)) {
            assertCopy(store.copy("obj", 0), page(7), 7);
        }
    }

    /**
     * Page threads read while the store thread writes, more objects than the bound: no read meets
     * a file closed under it, and each reads a version written, with its data.
     */
    @Test
    void readsOnOtherThreadsMeetNoFileClosedUnderThem() throws Exception {
        int objects = 12;
        int versions = 30;
        try (FilePageStore store = store(3)) {
            for (int i = 0; i < objects; i++) {
                store.write(name(i), 0, page(1), 1);
            }
            java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
            java.util.List<java.util.concurrent.Future<Integer>> readers = new java.util.ArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            try {
                for (int t = 0; t < 3; t++) {
                    int first = t;
                    readers.add(pool.submit(() -> {
                        int reads = 0;
                        for (int i = first; writing.get() || reads < objects; i = (i + 1) % objects, reads++) {
                            PageStore.Copy c = store.copy(name(i), 0);
                            assertThat(c.data()).isEqualTo(page((int) c.version()));
                        }
                        return reads;
                    }));
                }
                for (int v = 2; v <= versions; v++) {
                    for (int i = 0; i < objects; i++) {
                        if (v % 3 == 0) {
                            store.beginBatch();
                            store.write(name(i), 0, page(v), v);
                            store.write(name((i + 5) % objects), 0, page(v), v);
                            store.endBatch();
                        } else {
                            store.write(name(i), 0, page(v), v);
                        }
                    }
                }
                writing.set(false);
                for (var r : readers) {
                    assertThat(r.get()).isGreaterThanOrEqualTo(objects);
                }
            } finally {
                writing.set(false);
                pool.shutdown();
            }
            for (int i = 0; i < objects; i++) {
                assertCopy(store.copy(name(i), 0), page(versions), versions);
            }
            assertThat(store.openObjects()).isLessThanOrEqualTo(3);
        }
    }
}
