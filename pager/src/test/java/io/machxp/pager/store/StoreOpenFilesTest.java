package io.machxp.pager.store;

import static io.machxp.pager.store.StoreTestFiles.flipByte;
import static io.machxp.pager.store.StoreTestFiles.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
        assumeTrue(Files.isDirectory(fds), "no /proc/self/fd to count open files in (not Linux)");
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

    /**
     * Damage of an object whose files were closed is found when it is used again, as before (a
     * store holding 4 objects open, 8 objects: the same as at the default bound, at less cost).
     */
    @Test
    void damageIsFoundAfterAnObjectsFilesWereClosedAndOpenedAgain() throws IOException {
        int objects = 8;
        try (FilePageStore store = store(4)) {
            for (int i = 0; i < objects; i++) {
                store.write(name(i), 0, page(1), 1);
                store.write(name(i), 0, page(2), 2);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(store.version(name(i), 0)).isEqualTo(2); // known good, cached
            }
            flipByte(store.fileOf(name(0)), 100); // its data
            flipByte(store.sumsOf(name(1)), 16 + 2); // its version-2 record
            long closes = store.objectsClosed();
            for (int i = 3; i < objects; i++) {
                assertThat(store.read(name(i), 0)).isEqualTo(page(2)); // objects 0..2 least recently used
            }
            assertThat(store.objectsClosed() - closes).as("objects 7, 0, 1, 2, then 3 closed").isEqualTo(5);
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
     * A batch writing more objects than the store holds open (the pager puts every write queued
     * into one batch: a burst returning pages of many objects): the batch is ended early, its
     * writes forced as at its end, and another begun, so that the objects open stay within the
     * bound (with another object read meanwhile); every write reads back, from the batch, after
     * it, and after a restart. An object written in the open batch stays open until its end (a
     * read of another closes the least recently used one not written). Before, each object
     * written stayed open until the batch's end: 20 objects, 40 files, at a bound of 3.
     */
    @Test
    void aBatchOfMoreObjectsThanTheBoundKeepsTheFilesOpenWithinIt() throws IOException {
        int objects = 20;
        try (FilePageStore store = store(3)) {
            long before = openInDir();
            store.beginBatch();
            for (int i = 0; i < objects; i++) {
                store.write(name(i), 0, page(i + 1), i + 1);
                store.write(name(i), PAGE, page(i + 2), i + 2);
                assertThat(store.read(name(i), 0)).as("from the batch").isEqualTo(page(i + 1));
                store.read(name(100 + i), 0); // another object, never written, opened and closed meanwhile
                assertThat(store.openObjects()).as("objects open").isLessThanOrEqualTo(3);
                assertThat(store.openFiles()).as("files open").isLessThanOrEqualTo(6);
                assertThat(openInDir() - before).as("file descriptors in the directory").isLessThanOrEqualTo(6);
            }
            store.endBatch();
            assertThat(store.openObjects()).isLessThanOrEqualTo(3);
            for (int i = 0; i < objects; i++) {
                assertCopy(store.copy(name(i), 0), page(i + 1), i + 1);
                assertCopy(store.copy(name(i), PAGE), page(i + 2), i + 2);
            }
            assertThat(openInDir() - before).isLessThanOrEqualTo(6);
        }
        try (FilePageStore store = store(3)) {
            for (int i = 0; i < objects; i++) {
                assertCopy(store.copy(name(i), 0), page(i + 1), i + 1);
                assertCopy(store.copy(name(i), PAGE), page(i + 2), i + 2);
            }
        }
    }

    /**
     * A part of a batch ended early whose force fails: the batch's end throws, though its last part
     * was made durable, so that no write of the batch is acknowledged (the pager acknowledges a
     * batch's writes after its end) and the holders' journal is not written; the writes are done
     * again and read back.
     */
    @Test
    void aBatchWhosePartEndedEarlyFailedFailsAtItsEnd() throws IOException {
        try (FilePageStore store = store(3)) {
            int[] recordsForced = {0};
            store.steps = (s, object, offset) -> {
                if (s == FilePageStore.Step.RECORDS_FORCED && recordsForced[0]++ == 0) {
                    throw new IOException("fsync: EIO");
                }
            };
            store.beginBatch();
            store.holder(name(0), 0, "A");
            for (int i = 0; i < 4; i++) {
                store.write(name(i), 0, page(i + 1), i + 1); // the third ends the first part early
            }
            assertThatThrownBy(store::endBatch).hasMessageContaining("EIO");
            assertThat(recordsForced[0]).as("the first part, then the second").isEqualTo(2);
            assertThat(Files.exists(dir.resolve(FilePageStore.HOLDERS))).as("the journal not written").isFalse();
            store.steps = (s, object, offset) -> {};
            store.beginBatch();
            store.holder(name(0), 0, "A");
            for (int i = 0; i < 4; i++) {
                store.write(name(i), 0, page(i + 1), i + 1);
            }
            store.endBatch();
        }
        try (FilePageStore store = store(3)) {
            for (int i = 0; i < 4; i++) {
                assertCopy(store.copy(name(i), 0), page(i + 1), i + 1);
            }
            assertThat(store.holders()).containsExactly(new PageStore.Holder(name(0), 0, "A"));
        }
    }

    /**
     * With a bound of one, a batch holding its object keeps one more open while another is read:
     * it is closed at the batch's end. Before, it stayed open until another object was opened.
     */
    @Test
    void objectsOpenedBeyondTheBoundWhileABatchHeldItsObjectsAreClosedAtItsEnd() throws IOException {
        try (FilePageStore store = store(1)) {
            store.beginBatch();
            store.write(name(0), 0, page(1), 1);
            assertThat(store.read(name(1), 0)).isNull();
            assertThat(store.openObjects()).as("the batch's object and the one read").isEqualTo(2);
            store.endBatch();
            assertThat(store.openObjects()).isEqualTo(1);
            assertThat(store.read(name(0), 0)).isEqualTo(page(1));
            assertThat(store.openObjects()).isEqualTo(1);
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
     * a file closed under it, and each reads a version written, with its data. In the first batch
     * of each round the store thread waits, its batch open, until the readers have made 2 x 12
     * more reads, which open objects not in the batch: an object of the open batch closed under
     * its end (not held) fails that end.
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
            java.util.concurrent.Semaphore reads = new java.util.concurrent.Semaphore(0);
            java.util.List<java.util.concurrent.Future<Integer>> readers = new java.util.ArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            try {
                for (int t = 0; t < 3; t++) {
                    int first = t;
                    readers.add(pool.submit(() -> {
                        int done = 0;
                        for (int i = first; writing.get() || done < objects; i = (i + 1) % objects, done++) {
                            PageStore.Copy c = store.copy(name(i), 0);
                            assertThat(c.data()).isEqualTo(page((int) c.version()));
                            reads.release();
                        }
                        return done;
                    }));
                }
                for (int v = 2; v <= versions; v++) {
                    for (int i = 0; i < objects; i++) {
                        if (v % 3 == 0) {
                            store.beginBatch();
                            store.write(name(i), 0, page(v), v);
                            store.write(name((i + 5) % objects), 0, page(v), v);
                            if (i == 0) {
                                awaitReads(reads, 2 * objects, readers);
                            }
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
                assertThat(pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES))
                        .as("the readers ended before the store closes").isTrue();
            }
            for (int i = 0; i < objects; i++) {
                assertCopy(store.copy(name(i), 0), page(versions), versions);
            }
            assertThat(store.openObjects()).isLessThanOrEqualTo(3);
        }
    }

    /** Waits for {@code n} more reads; a reader that failed meanwhile fails the wait with its failure. */
    private static void awaitReads(java.util.concurrent.Semaphore reads, int n,
            java.util.List<java.util.concurrent.Future<Integer>> readers) throws Exception {
        reads.drainPermits();
        while (!reads.tryAcquire(n, 1, java.util.concurrent.TimeUnit.SECONDS)) {
            for (var r : readers) {
                if (r.isDone()) {
                    r.get(); // throws its failure; a reader ends only once writing is over
                    throw new AssertionError("a reader ended while the store thread waited for reads");
                }
            }
        }
    }
}
