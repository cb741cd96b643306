package io.machxp.pager.store;

import static io.machxp.pager.store.StoreTestFiles.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.store.FilePageStore.Step;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A crash of the pager's process at any point of a write (the page cache keeps what was written:
 * the store's write sequence is stopped there, and a new store opened on the directory) leaves
 * each page at its previous version or at the new one, never damaged. Only data torn
 * by a power loss, which matches neither record, is damage.
 */
class StoreCrashTest {
    private static final int PAGE = StoreTestFiles.PAGE;

    @TempDir
    Path dir;

    /** What a crash does to the store's process: nothing after it runs. */
    static final class Crash extends RuntimeException {
        Crash(Step step) {
            super("crash after " + step);
        }
    }

    /** Makes the store crash at the {@code nth} time (from 1) it reaches {@code step}. */
    private static void crashAt(FilePageStore store, Step step, int nth) {
        int[] reached = {0};
        store.steps = (s, object, offset) -> {
            if (s == step && ++reached[0] == nth) {
                throw new Crash(step);
            }
        };
    }

    /** The page as a new store on the directory reads it: its data's fill byte and its version. */
    private String afterRestart(long offset) throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            byte[] data = store.read("obj", offset);
            return (data == null ? 0 : data[0]) + "@" + store.version("obj", offset);
        }
    }

    @ParameterizedTest
    @CsvSource({"RECORD_WRITTEN, 5@5", "RECORD_FORCED, 5@5", "DATA_WRITTEN, 6@6", "DATA_FORCED, 6@6"})
    void aWriteCutOffAnywhereLeavesTheOldVersionOrTheNew(Step step, String expected) throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.write("obj", 0, page(4), 4);
        store.write("obj", 0, page(5), 5); // the acknowledged version, in slot 1
        crashAt(store, step, 1);
        assertThatThrownBy(() -> store.write("obj", 0, page(6), 6)).isInstanceOf(Crash.class);
        assertThat(afterRestart(0)).isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(value = Step.class, names = {"RECORD_WRITTEN", "RECORD_FORCED"})
    void aFirstWriteCutOffBeforeItsDataLeavesThePageNeverWritten(Step step) throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.write("obj", PAGE, page(9), 1); // the file exists, page 0 a hole
        crashAt(store, step, 1);
        assertThatThrownBy(() -> store.write("obj", 0, page(6), 1)).isInstanceOf(Crash.class);
        assertThat(afterRestart(0)).isEqualTo("0@0");
    }

    /**
     * The spare slot is the one that does not describe the data on disk, not the lower version's:
     * a write cut off after its record, then another after the restart, must not overwrite the
     * only record that matches the data.
     */
    @Test
    void twoWritesCutOffAfterTheirRecordsLeaveTheOldVersion() throws IOException {
        FilePageStore first = new FilePageStore(dir, PAGE);
        first.write("obj", 0, page(5), 5); // slot 0
        crashAt(first, Step.RECORD_FORCED, 1);
        assertThatThrownBy(() -> first.write("obj", 0, page(6), 6)).isInstanceOf(Crash.class); // slot 1: v6
        FilePageStore second = new FilePageStore(dir, PAGE);
        assertThat(second.version("obj", 0)).isEqualTo(5);
        crashAt(second, Step.RECORD_FORCED, 1);
        assertThatThrownBy(() -> second.write("obj", 0, page(7), 7)).isInstanceOf(Crash.class); // slot 1 again
        assertThat(afterRestart(0)).isEqualTo("5@5");
    }

    /**
     * A batch: page 0 (at version 5) written twice, page 1 written the first time, page 2 once
     * over version 2. Cut off at each step, each page is at its old version or its new one.
     */
    @ParameterizedTest
    @CsvSource({
        "RECORD_WRITTEN, 1, 5@5 0@0 2@2",
        "RECORD_WRITTEN, 3, 5@5 0@0 2@2",
        "RECORDS_FORCED, 1, 5@5 0@0 2@2",
        "DATA_WRITTEN,   1, 7@7 0@0 2@2", // part of the data written
        "DATA_WRITTEN,   2, 7@7 1@1 2@2",
        "DATA_WRITTEN,   3, 7@7 1@1 3@3",
        "DATA_FORCED,    1, 7@7 1@1 3@3"})
    void aBatchCutOffAnywhereLeavesEachPageOldOrNew(Step step, int nth, String expected) throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.write("obj", 0, page(5), 5);
        store.write("obj", 2L * PAGE, page(2), 2);
        crashAt(store, step, nth);
        assertThatThrownBy(() -> {
            store.beginBatch();
            store.write("obj", 0, page(6), 6);
            store.write("obj", PAGE, page(1), 1);
            store.write("obj", 0, page(7), 7);
            store.write("obj", 2L * PAGE, page(3), 3);
            store.endBatch();
        }).isInstanceOf(Crash.class);
        assertThat(afterRestart(0) + " " + afterRestart(PAGE) + " " + afterRestart(2L * PAGE)).isEqualTo(expected);
    }

    /**
     * A batch whose end fails after part of its data (a full disk, an I/O error): the store thread
     * retries the write; cut off after the retry's record, the page is still readable. The store
     * must learn again which slot describes the data now on disk (the batch's new data), or the
     * retry would overwrite that slot's record.
     */
    @Test
    void aRetryAfterABatchFailedMidwayKeepsThePageReadable() throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.write("obj", 0, page(5), 5); // slot 0
        store.steps = (s, object, offset) -> {
            if (s == Step.DATA_WRITTEN && offset == PAGE) {
                throw new IOException("No space left on device");
            }
        };
        store.beginBatch();
        store.write("obj", 0, page(6), 6); // slot 1; its data written before the failure
        store.write("obj", PAGE, page(1), 1);
        assertThatThrownBy(store::endBatch).hasMessageContaining("No space left on device");
        crashAt(store, Step.RECORD_FORCED, 1);
        assertThatThrownBy(() -> store.write("obj", 0, page(8), 8)).isInstanceOf(Crash.class); // a newer one, retried
        assertThat(afterRestart(0)).as("the failed batch's data, which its record describes").isEqualTo("6@6");
        assertThat(afterRestart(PAGE)).as("its data was written before the failure came").isEqualTo("1@1");
    }

    /** The same, the retry not cut off: it makes the writes durable. */
    @Test
    void aRetryAfterABatchFailedMidwayWritesThePages() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(5), 5);
            boolean[] full = {true};
            store.steps = (s, object, offset) -> {
                if (full[0] && s == Step.DATA_WRITTEN && offset == PAGE) {
                    throw new IOException("No space left on device");
                }
            };
            store.beginBatch();
            store.write("obj", 0, page(6), 6);
            store.write("obj", PAGE, page(1), 1);
            assertThatThrownBy(store::endBatch).hasMessageContaining("No space left on device");
            full[0] = false;
            store.beginBatch();
            store.write("obj", 0, page(8), 8);
            store.write("obj", PAGE, page(1), 1);
            store.endBatch();
        }
        assertThat(afterRestart(0)).isEqualTo("8@8");
        assertThat(afterRestart(PAGE)).isEqualTo("1@1");
    }

    /**
     * A power loss tears the data of a write: it matches neither record, the page is damaged, and
     * takes the lower version, so that the copy the kernel still holds of the torn write replaces it.
     */
    @Test
    void dataTornByAPowerLossIsDamageAndTheKernelsCopyReplacesIt() throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.write("obj", 0, page(5), 5);
        crashAt(store, Step.RECORD_FORCED, 1);
        assertThatThrownBy(() -> store.write("obj", 0, page(6), 6)).isInstanceOf(Crash.class);
        try (RandomAccessFile f = new RandomAccessFile(store.fileOf("obj").toFile(), "rw")) {
            f.seek(0);
            f.write(Arrays.copyOf(page(6), PAGE / 2)); // half the new data reached the disk
        }
        try (FilePageStore after = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> after.read("obj", 0)).isInstanceOf(StoreDamage.class)
                    .hasMessageContaining("neither of its records");
            assertThat(after.version("obj", 0)).isEqualTo(5);
            after.write("obj", 0, page(6), 6); // the kernel's copy, newer
        }
        assertThat(afterRestart(0)).isEqualTo("6@6");
    }

    /**
     * A page of the format before checksums (no record, its version in the .versions file): its
     * first checked write records the old data beside the new record, so a crash before the new
     * data leaves the old page readable, at its old version.
     */
    @ParameterizedTest
    @CsvSource({"RECORD_WRITTEN, 7@5", "RECORD_FORCED, 7@5", "DATA_WRITTEN, 9@9"})
    void anUpgradedPagesFirstWriteCutOffLeavesTheOldPageOrTheNew(Step step, String expected) throws IOException {
        byte[] old = page(7);
        java.nio.file.Files.write(dir.resolve("obj.pages"), old);
        java.nio.file.Files.write(dir.resolve("obj.versions"), java.nio.ByteBuffer.allocate(8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(5).array());
        FilePageStore store = new FilePageStore(dir, PAGE);
        crashAt(store, step, 1);
        assertThatThrownBy(() -> store.write("obj", 0, page(9), 9)).isInstanceOf(Crash.class);
        assertThat(afterRestart(0)).isEqualTo(expected);
    }

    /**
     * A write whose data force failed leaves its data in the page cache,
     * read back but maybe not on disk (Linux marks it clean). Before the retry's record goes
     * over the other slot (the old record, maybe the only one describing the data on disk), the
     * data read back is written again and forced, so a power loss after it cannot bring back
     * data neither record describes. A crash of the process alone still leaves the failed write's
     * data and record (aRetryAfterABatchFailedMidwayKeepsThePageReadable).
     */
    @Test
    void aRetryAfterAFailedDataForceForcesTheDataReadBackBeforeItsRecord() throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.write("obj", 0, page(5), 5);
        store.steps = (s, object, offset) -> {
            if (s == Step.DATA_WRITTEN) {
                throw new IOException("fsync: EIO");
            }
        };
        assertThatThrownBy(() -> store.write("obj", 0, page(6), 6)).hasMessageContaining("EIO");
        java.util.List<String> steps = new java.util.ArrayList<>();
        store.steps = (s, object, offset) -> steps.add(s == Step.FILE_FORCED ? s + " " + object : s.toString());
        assertThat(store.read("obj", 0)).as("the page cache's copy").isEqualTo(page(6));
        store.write("obj", 0, page(7), 7);
        assertThat(steps).as("the data read back made durable before the record over the old one")
                .startsWith("FILE_FORCED obj.pages", "RECORD_WRITTEN");
        assertThat(afterRestart(0)).isEqualTo("7@7");
    }
}
