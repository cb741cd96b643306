package io.machxp.pager.store;

import static io.machxp.pager.store.StoreTestFiles.flipByte;
import static io.machxp.pager.store.StoreTestFiles.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged store file is found, never served as good data nor dropped in silence: a page whose
 * bytes changed or were cut off, a damaged page record, a holders' journal cut short or damaged
 * in the middle, a number that is not one. Each error names the file, where in it, and what was
 * expected.
 */
class StoreDamageTest {
    private static final int PAGE = StoreTestFiles.PAGE;

    @TempDir
    Path dir;

    private void truncate(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(length);
        }
    }

    /** Pages 0, 1 and 2 of "obj", versions 1, 2 and 3, in a store closed again. */
    private void threePages() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(1), 1);
            store.write("obj", PAGE, page(2), 2);
            store.write("obj", 2L * PAGE, page(3), 3);
        }
    }

    @Test
    void aPageWithAFlippedByteIsNotServedAndTheOthersAre() throws IOException {
        threePages();
        flipByte(dir.resolve("obj.pages"), PAGE + 100);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.read("obj", PAGE))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("page 0x1000 of 'obj'")
                    .hasMessageContaining(dir.resolve("obj.pages").toAbsolutePath().toString())
                    .hasMessageContaining("is damaged")
                    .hasMessageContaining("expects 0x")
                    .hasMessageContaining("(version 2)");
            assertThat(store.read("obj", 0)).isEqualTo(page(1));
            assertThat(store.read("obj", 2L * PAGE)).isEqualTo(page(3));
            assertThat(store.version("obj", PAGE)).as("its only record is intact, its other slot empty: one below, "
                    + "so that the copy of version 2 replaces it").isEqualTo(1);
            store.write("obj", PAGE, page(4), 3); // a kernel gives the page back: it replaces the damaged one
            assertThat(store.read("obj", PAGE)).isEqualTo(page(4));
        }
    }

    @Test
    void aPageFileCutShortIsFound() throws IOException {
        threePages();
        truncate(dir.resolve("obj.pages"), 2L * PAGE + 10);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.read("obj", 2L * PAGE))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("page 0x2000 of 'obj'")
                    .hasMessageContaining("is damaged")
                    .hasMessageContaining("cut short");
            assertThat(store.read("obj", PAGE)).isEqualTo(page(2));
        }
    }

    @Test
    void aPageWhoseRecordIsGoneIsNotServed() throws IOException {
        threePages();
        truncate(dir.resolve("obj.sums"), 32); // the records of pages 1 and 2 cut off
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.read("obj", PAGE))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("page 0x1000 of 'obj'")
                    .hasMessageContaining("neither of its records in " + dir.resolve("obj.sums").toAbsolutePath())
                    .hasMessageContaining("slot 0: no record");
            assertThat(store.read("obj", 0)).isEqualTo(page(1));
        }
    }

    /**
     * a page whose only record is damaged does not take version 0 (a stale copy a kernel
     * gives back would replace it, and its versions restart below ones kernels saw) but one above
     * the object's high-water mark: only a copy newer than every version acknowledged replaces it.
     */
    @Test
    void aDamagedRecordIsNotServedAndItsVersionIsAboveTheObjectsHighest() throws IOException {
        threePages();
        flipByte(dir.resolve("obj.sums"), 32 + 3); // page 1's version, in its slot 0
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.read("obj", PAGE))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("the record in slot 0 of page 0x1000 of 'obj'")
                    .hasMessageContaining("at byte 32")
                    .hasMessageContaining("is damaged");
            assertThat(store.version("obj", PAGE)).as("above the mark written with version 1")
                    .isEqualTo(1 + HighWaterMark.MARK_STEP + 1);
            assertThat(store.version("obj", 2L * PAGE)).isEqualTo(3);
            store.write("obj", PAGE, page(5), 5);
            assertThat(store.read("obj", PAGE)).isEqualTo(page(5));
            assertThat(store.version("obj", PAGE)).isEqualTo(5);
        }
    }

    /**
     * with one slot damaged, the intact one may be the older version (here 6, with 7
     * acknowledged): the page takes one above the object's high-water mark, so that no copy up
     * to the acknowledged one replaces it.
     */
    @Test
    void aPageWithOneDamagedRecordTakesTheOthersVersion() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(6), 6); // slot 0
            store.write("obj", 0, page(7), 7); // slot 1
        }
        flipByte(dir.resolve("obj.sums"), 16 + 2); // version 7's record
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.read("obj", 0)).hasMessageContaining("slot 1")
                    .hasMessageContaining("slot 0: expects 0x").hasMessageContaining("(version 6)");
            assertThat(store.version("obj", 0)).as("above the mark: the copy of version 7 does not replace it")
                    .isEqualTo(6 + HighWaterMark.MARK_STEP + 1);
        }
    }

    /** in a store created checked, a holders' journal that is empty or of the old syntax is damage. */
    @Test
    void aCheckedStoresHoldersJournalEmptyOrUncheckedFailsTheOpening() throws IOException {
        threeHolders();
        Files.writeString(dir.resolve(FilePageStore.HOLDERS), "");
        assertThatThrownBy(() -> new FilePageStore(dir, PAGE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("futex holders' journal " + dir.resolve("holders").toAbsolutePath())
                .hasMessageContaining("it is empty")
                .hasMessageContaining("created in the checked format");
        Files.writeString(dir.resolve(FilePageStore.HOLDERS), "4096\tA\tobj\n");
        assertThatThrownBy(() -> new FilePageStore(dir, PAGE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("its first line is not 'machxp-holders 2'");
    }

    /** in a store created checked, an epoch or lease without its checksum is damage. */
    @Test
    void aCheckedStoresEpochOrLeaseWithoutChecksumIsDamage() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.nextEpoch();
            store.swapLease(5);
        }
        Files.writeString(dir.resolve(FilePageStore.EPOCH_FILE), "1\n");
        Files.writeString(dir.resolve(FilePageStore.LEASE_FILE), "1\n");
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(store::nextEpoch).hasMessageContaining(dir.resolve("epoch").toAbsolutePath().toString())
                    .hasMessageContaining("ends without its checksum");
            assertThatThrownBy(() -> store.swapLease(1)).hasMessageContaining("ends without its checksum");
        }
    }

    /**
     * a damaged page's error is to be logged the first time, then at most once a minute with
     * how many times it came; once the page is rewritten, damage found again is new.
     */
    @Test
    void aDamagedPagesErrorIsToBeLoggedOnceAMinuteUntilItIsRewritten() throws IOException {
        threePages();
        flipByte(dir.resolve("obj.pages"), PAGE + 100);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            long[] now = {0};
            store.reports.clock = () -> now[0];
            java.util.List<StoreDamage> found = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                try {
                    store.read("obj", PAGE);
                } catch (StoreDamage e) {
                    found.add(e);
                }
            }
            assertThat(found).extracting(StoreDamage::toBeLogged).containsExactly(true, false, false, false, false);
            assertThat(found).extracting(StoreDamage::seen).containsExactly(1L, 2L, 3L, 4L, 5L);
            now[0] = DamageReports.DAMAGE_LOG_NANOS;
            assertThatThrownBy(() -> store.read("obj", PAGE)).isInstanceOfSatisfying(StoreDamage.class,
                    e -> assertThat(e.toBeLogged() + " " + e.seen()).isEqualTo("true 6"));
            store.write("obj", PAGE, page(4), 3);
            assertThat(store.read("obj", PAGE)).isEqualTo(page(4));
            flipByte(dir.resolve("obj.pages"), PAGE + 100);
            assertThatThrownBy(() -> store.read("obj", PAGE)).as("damaged again after its rewrite: new")
                    .isInstanceOfSatisfying(StoreDamage.class,
                            e -> assertThat(e.toBeLogged() + " " + e.seen()).isEqualTo("true 1"));
        }
    }

    /** Three futexes checked out, in a store closed again; the journal's text. */
    private String threeHolders() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.holder("obj", 0, "A");
            store.holder("obj", PAGE, "B");
            store.holder("obj", 2L * PAGE, PageStore.DIED);
        }
        return Files.readString(dir.resolve(FilePageStore.HOLDERS));
    }

    @Test
    void aHoldersJournalCutShortInARecordFailsTheOpening() throws IOException {
        String text = threeHolders();
        int cut = text.indexOf("\tB\t") + 2;
        Files.writeString(dir.resolve(FilePageStore.HOLDERS), text.substring(0, cut));
        assertThatThrownBy(() -> new FilePageStore(dir, PAGE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("futex holders' journal " + dir.resolve("holders").toAbsolutePath())
                .hasMessageContaining("cut short")
                .hasMessageContaining("The pager does not start");
    }

    @Test
    void aHoldersJournalCutShortAfterAWholeRecordFailsTheOpening() throws IOException {
        String text = threeHolders();
        int cut = text.indexOf("\tB\t");
        cut = text.indexOf('\n', cut) + 1; // A's and B's entries left, whole
        Files.writeString(dir.resolve(FilePageStore.HOLDERS), text.substring(0, cut));
        assertThatThrownBy(() -> new FilePageStore(dir, PAGE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("futex holders' journal")
                .hasMessageContaining("cut short")
                .hasMessageContaining("'end'");
    }

    @Test
    void aDamagedRecordInTheMiddleOfTheHoldersJournalFailsTheOpening() throws IOException {
        String text = threeHolders();
        Files.writeString(dir.resolve(FilePageStore.HOLDERS), text.replace("\tB\t", "\tC\t"));
        assertThatThrownBy(() -> new FilePageStore(dir, PAGE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("line 3 of the futex holders' journal")
                .hasMessageContaining("its checksum is 0x")
                .hasMessageContaining("gives 0x")
                .hasMessageContaining("forgetting a holder could give its futex a second owner");
    }

    @Test
    void aBadOffsetInTheHoldersJournalSaysWhereAndWhat() throws IOException {
        Files.writeString(dir.resolve(FilePageStore.HOLDERS), "4096\tA\tobj\n12x4\tB\tobj\n"); // the old format
        assertThatThrownBy(() -> new FilePageStore(dir, PAGE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("line 2 of the futex holders' journal")
                .hasMessageContaining("the futex's offset is '12x4', not a decimal number")
                .hasRootCauseInstanceOf(IOException.class);
    }

    @Test
    void aBadEpochOrLeaseSaysWhichFileAndWhat() throws IOException {
        Files.writeString(dir.resolve(FilePageStore.EPOCH_FILE), "17z\n");
        Files.writeString(dir.resolve(FilePageStore.LEASE_FILE), "5000000000\t00000000\n");
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(store::nextEpoch)
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining(dir.resolve("epoch").toAbsolutePath().toString())
                    .hasMessageContaining("the pager's epoch is '17z', not a decimal number")
                    .hasMessageNotContaining("NumberFormatException");
            assertThatThrownBy(() -> store.swapLease(1))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining(dir.resolve("lease").toAbsolutePath().toString())
                    .hasMessageContaining("its checksum is 0x00000000");
        }
    }

    /**
     * A store written before checksums opens: pages and versions (8 bytes a page) are read
     * unchecked, the holders' journal, epoch and lease as they are; new writes are checked.
     */
    @Test
    void aStoreOfTheFormatBeforeChecksumsIsReadAndWrittenOnChecked() throws IOException {
        byte[] pages = new byte[2 * PAGE];
        Arrays.fill(pages, 0, PAGE, (byte) 7);
        Arrays.fill(pages, PAGE, 2 * PAGE, (byte) 8);
        Files.write(dir.resolve("obj.pages"), pages);
        Files.write(dir.resolve("obj.versions"), java.nio.ByteBuffer.allocate(16)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(5).putLong(6).array());
        Files.writeString(dir.resolve(FilePageStore.HOLDERS), "4096\tA\tobj\n0\t\tobj\n");
        Files.writeString(dir.resolve(FilePageStore.EPOCH_FILE), "41\n");
        Files.writeString(dir.resolve(FilePageStore.LEASE_FILE), "3000000000\n");
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.holders()).containsExactly(new PageStore.Holder("obj", PAGE, "A"),
                    new PageStore.Holder("obj", 0, PageStore.DIED));
            assertThat(store.nextEpoch()).isGreaterThanOrEqualTo(42);
            assertThat(store.restarted()).isTrue();
            assertThat(store.swapLease(1_000_000_000L)).isEqualTo(3_000_000_000L);
            assertThat(store.read("obj", 0)).isEqualTo(page(7));
            assertThat(store.version("obj", PAGE)).isEqualTo(6);
            store.write("obj", PAGE, page(9), 7);
        }
        flipByte(dir.resolve("obj.pages"), PAGE + 1);
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.version("obj", PAGE)).as("damaged: the lower of its records, the old data's (6) and "
                    + "version 7's, so that a kernel's copy of 7 replaces it").isEqualTo(6);
            assertThat(store.version("obj", 0)).as("still the old file's").isEqualTo(5);
            assertThatThrownBy(() -> store.read("obj", PAGE)).as("written since: checked")
                    .hasMessageContaining("is damaged");
            assertThat(store.read("obj", 0)).isEqualTo(page(7));
        }
        assertThat(Files.readString(dir.resolve("format"))).as("upgraded, for good: old files may remain")
                .startsWith("machxp-page-store\t2\tupgraded from 1\t");
        Files.writeString(dir.resolve(FilePageStore.EPOCH_FILE), "50\n"); // the old syntax, still read
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.nextEpoch()).isGreaterThanOrEqualTo(51);
        }
    }

    @Test
    void aStoreOfANewerFormatIsRefused() throws IOException {
        Files.writeString(dir.resolve("format"), CheckedText.line("machxp-page-store\t3") + "\n");
        assertThatThrownBy(() -> new FilePageStore(dir, PAGE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("names the format 'machxp-page-store?3'")
                .hasMessageContaining("a newer pager wrote this store");
    }

    @Test
    void theHoldersJournalReadsBackWhatWasWritten() throws IOException {
        threeHolders();
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.holders()).containsExactly(new PageStore.Holder("obj", 0, "A"),
                    new PageStore.Holder("obj", PAGE, "B"), new PageStore.Holder("obj", 2L * PAGE, PageStore.DIED));
        }
        assertThat(Files.readString(dir.resolve(FilePageStore.HOLDERS), StandardCharsets.UTF_8))
                .startsWith("machxp-holders\t2\t").contains("\nend\t3\t");
    }
}
