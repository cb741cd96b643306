package io.machxp.pager.store;

import static io.machxp.pager.store.StoreTestFiles.flipByte;
import static io.machxp.pager.store.StoreTestFiles.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.store.FilePageStore.Step;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The version a damaged page takes. A kernel's copy replaces the
 * page only if its version is strictly higher (xp-spec 7.2), so the version must be at least
 * the one acknowledged for the page, and below the copy its kernel holds of a write a power
 * loss tore. Versions are per page: the object's other pages bound nothing, hence the object's
 * durable high-water mark ({@value FilePageStore#MARK}).
 */
class DamagedVersionTest {
    private static final int PAGE = StoreTestFiles.PAGE;

    @TempDir
    Path dir;

    /** A power loss leaves half of {@code data} written at the page's place in its file. */
    private void tear(FilePageStore store, long offset, byte[] data) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(store.fileOf("obj").toFile(), "rw")) {
            f.seek(offset);
            f.write(Arrays.copyOf(data, PAGE / 2));
        }
    }

    /** The store stops, as a crash would, the first time a write reaches {@code step}. */
    private static void crashAt(FilePageStore store, Step step) {
        store.steps = (s, object, offset) -> {
            if (s == step) {
                throw new StoreCrashTest.Crash(step);
            }
        };
    }

    /** Probe 1: page 1 acknowledged at 9 (page 0 at 1), both its records damaged: above 9, not 2. */
    @Test
    void aPageWhoseRecordsAreBothDamagedIsAboveItsAcknowledgedVersion() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(1), 1);
            for (int v = 5; v <= 9; v++) {
                store.write("obj", PAGE, page(v), v);
            }
        }
        flipByte(dir.resolve("obj.sums"), 32 + 2);
        flipByte(dir.resolve("obj.sums"), 48 + 2);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.read("obj", PAGE)).isInstanceOf(StoreDamage.class);
            assertThat(store.version("obj", PAGE)).as("a stale copy of 3..9 must not replace it").isGreaterThan(9)
                    .isEqualTo(1 + HighWaterMark.MARK_STEP + 1);
        }
    }

    /** Probe 2: a one-page object at 9 whose records file is cut to nothing: above 9, not 1. */
    @Test
    void aPageWhoseRecordsFileIsCutToNothingIsAboveItsAcknowledgedVersion() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            for (int v = 1; v <= 9; v++) {
                store.write("obj", 0, page(v), v);
            }
        }
        Files.write(dir.resolve("obj.sums"), new byte[0]);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.read("obj", 0)).isInstanceOf(StoreDamage.class);
            assertThat(store.version("obj", 0)).isGreaterThan(9);
        }
    }

    /** The mark is written ahead in steps: once for a first write, again only when a version passes it. */
    @Test
    void theMarkIsWrittenAheadInSteps() throws IOException {
        Path mark = dir.resolve("obj" + FilePageStore.MARK);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(1), 1);
            assertThat(Files.readString(mark)).startsWith(Long.toString(1 + HighWaterMark.MARK_STEP) + "\t");
            String first = Files.readString(mark);
            store.write("obj", PAGE, page(2), HighWaterMark.MARK_STEP + 1);
            assertThat(Files.readString(mark)).as("not passed").isEqualTo(first);
            store.write("obj", PAGE, page(3), HighWaterMark.MARK_STEP + 2);
            assertThat(Files.readString(mark)).startsWith(Long.toString(2 * HighWaterMark.MARK_STEP + 2) + "\t");
        }
    }

    /**
     * A store written before marks (this branch's format, or the one before checksums) gets its
     * mark from its intact records when an object is first written: damage after that is judged
     * against it.
     */
    @Test
    void aStoreWithoutMarksTakesOneFromItsRecords() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(3), 3);
            store.write("obj", PAGE, page(9), 9);
        }
        Files.delete(dir.resolve("obj" + FilePageStore.MARK));
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(4), 4);
        }
        assertThat(Files.readString(dir.resolve("obj" + FilePageStore.MARK)))
                .startsWith(Long.toString(9 + HighWaterMark.MARK_STEP) + "\t");
        flipByte(dir.resolve("obj.sums"), 32 + 2);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.version("obj", PAGE)).isEqualTo(9 + HighWaterMark.MARK_STEP + 1);
        }
    }

    /** An old store (no format file): its mark comes from its .versions files. */
    @Test
    void anUpgradedStoresMarkComesFromItsOldVersions() throws IOException {
        Files.write(dir.resolve("obj.pages"), page(7));
        Files.write(dir.resolve("obj.versions"), java.nio.ByteBuffer.allocate(16)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 5).putLong(8, 12).array());
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(6), 6);
        }
        assertThat(Files.readString(dir.resolve("obj" + FilePageStore.MARK)))
                .startsWith(Long.toString(12 + HighWaterMark.MARK_STEP) + "\t");
    }

    /** A damaged mark file is taken again from the records (logged), not trusted nor fatal. */
    @Test
    void aDamagedMarkIsTakenAgainFromTheRecords() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(9), 9);
        }
        flipByte(dir.resolve("obj" + FilePageStore.MARK), 1);
        Files.write(dir.resolve("obj.pages"), page(1)); // the page damaged too
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.version("obj", 0)).as("its only record intact, the other slot empty")
                    .isEqualTo(8);
            store.write("obj", PAGE, page(2), 2);
        }
        assertThat(Files.readString(dir.resolve("obj" + FilePageStore.MARK)))
                .startsWith(Long.toString(9 + HighWaterMark.MARK_STEP) + "\t");
    }

    /** a page's first write (version 3) torn by a power loss: version 2, so the kernel's copy of 3 replaces it. */
    @Test
    void aTornFirstWriteIsBelowTheKernelsCopy() throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        crashAt(store, Step.RECORD_FORCED);
        assertThatThrownBy(() -> store.write("obj", 0, page(3), 3)).isInstanceOf(StoreCrashTest.Crash.class);
        tear(store, 0, page(3));
        try (FilePageStore after = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> after.read("obj", 0)).isInstanceOf(StoreDamage.class);
            assertThat(after.version("obj", 0)).as("strictly below the kernel's copy, version 3").isEqualTo(2);
        }
    }

    /**
     * 5 acknowledged, 6 torn (damaged at 5); the kernel's 6 written again and cut off
     * after its record: the page is still at 5, so the kernel's 6 still replaces it.
     */
    @Test
    void aRepairCutOffAfterItsRecordKeepsTheLowerVersion() throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.write("obj", 0, page(5), 5);
        crashAt(store, Step.RECORD_FORCED);
        assertThatThrownBy(() -> store.write("obj", 0, page(6), 6)).isInstanceOf(StoreCrashTest.Crash.class);
        tear(store, 0, page(6));
        FilePageStore second = new FilePageStore(dir, PAGE);
        assertThat(second.version("obj", 0)).isEqualTo(5);
        crashAt(second, Step.RECORD_FORCED);
        assertThatThrownBy(() -> second.write("obj", 0, page(6), 6)).isInstanceOf(StoreCrashTest.Crash.class);
        try (FilePageStore third = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> third.read("obj", 0)).isInstanceOf(StoreDamage.class);
            assertThat(third.version("obj", 0)).as("the version-5 record kept").isEqualTo(5);
            third.write("obj", 0, page(6), 6);
            assertThat(third.read("obj", 0)).isEqualTo(page(6));
        }
    }

    /**
     * A torn first write with a page larger than a file system block (64 KiB): the first write's data only
     * partly written (ENOSPC, EIO) before the process died, the store thread not having retried.
     * The page's version is below the kernel's copy; the kernel's copy replaces it.
     */
    @Test
    void aFirstWriteOfABigPagePartlyWrittenIsBelowTheKernelsCopy() throws IOException {
        int big = 64 * 1024;
        byte[] data = new byte[big];
        Arrays.fill(data, (byte) 4);
        FilePageStore store = new FilePageStore(dir, big);
        crashAt(store, Step.RECORD_FORCED);
        assertThatThrownBy(() -> store.write("obj", big, data, 4)).isInstanceOf(StoreCrashTest.Crash.class);
        try (RandomAccessFile f = new RandomAccessFile(store.fileOf("obj").toFile(), "rw")) {
            f.seek(big);
            f.write(data, 0, 4096); // one block of sixteen
        }
        try (FilePageStore after = new FilePageStore(dir, big)) {
            assertThatThrownBy(() -> after.read("obj", big)).isInstanceOf(StoreDamage.class);
            assertThat(after.version("obj", big)).isEqualTo(3);
            after.write("obj", big, data, 4);
            assertThat(after.read("obj", big)).isEqualTo(data);
        }
    }

    /**
     * Data damaged after the page was read or written (cached as good): once a read finds it, its
     * version is a damaged page's (both records intact: the lower), while its object stays open
     * as after it was closed and opened again; and the next write keeps the lower record's slot,
     * so a crash before its data still leaves the page at 1, below the kernel's copy at 2. Before,
     * the cache answered 2 while the object stayed open (1 only once it was closed), and that
     * write's record went over the version-1 record.
     */
    @Test
    void aPageDamagedAfterItWasCachedTakesADamagedPagesVersionWhileItsObjectIsOpen() throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        try {
            store.write("obj", 0, page(1), 1);
            store.write("obj", 0, page(2), 2);
            assertThat(store.version("obj", 0)).isEqualTo(2);
            flipByte(store.fileOf("obj"), 100);
            assertThatThrownBy(() -> store.read("obj", 0)).isInstanceOf(StoreDamage.class);
            assertThat(store.openObjects()).as("its object still open").isEqualTo(1);
            assertThat(store.version("obj", 0)).as("both records intact: the lower").isEqualTo(1);
            crashAt(store, Step.RECORD_FORCED);
            assertThatThrownBy(() -> store.write("obj", 0, page(3), 3)).isInstanceOf(StoreCrashTest.Crash.class);
        } finally {
            store.close(); // crashed: its files are as the crash left them
        }
        try (FilePageStore after = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> after.read("obj", 0)).isInstanceOf(StoreDamage.class);
            assertThat(after.version("obj", 0)).as("the version-1 record kept").isEqualTo(1);
        }
    }
}
