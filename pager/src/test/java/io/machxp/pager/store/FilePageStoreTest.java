package io.machxp.pager.store;

import static io.machxp.pager.store.StoreTestFiles.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pages in files: they survive a new store on the same directory; failures say what failed. */
class FilePageStoreTest {
    private static final int PAGE = StoreTestFiles.PAGE;

    @TempDir
    Path dir;

    @Test
    void pagesSurviveANewStoreOnTheSameDirectory() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 3L * PAGE, page(7));
            store.write("obj", 0, page(1));
            store.write("obj", 0, page(2));
        }
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.read("obj", 3L * PAGE)).isEqualTo(page(7));
            assertThat(store.read("obj", 0)).isEqualTo(page(2));
            assertThat(store.read("obj", PAGE)).as("a hole").isNull();
            assertThat(store.read("obj", 9L * PAGE)).as("past the end").isNull();
        }
    }

    @Test
    void aPageOfZerosReadsAsNeverWritten() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(5));
            store.write("obj", 0, new byte[PAGE]);
            assertThat(store.read("obj", 0)).isNull();
        }
    }

    @Test
    void readingAnObjectNeverWrittenCreatesNoFile() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.read("nothing", 0)).isNull();
            assertThat(store.fileOf("nothing")).doesNotExist();
        }
    }

    @Test
    void objectNamesBecomeSafeDistinctFileNames() throws IOException {
        List<String> names = List.of("a/b", "a%2Fb", "../up", "a b", "a+b", "é");
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            for (int i = 0; i < names.size(); i++) {
                store.write(names.get(i), 0, page(i + 1));
            }
            for (int i = 0; i < names.size(); i++) {
                Path file = store.fileOf(names.get(i));
                assertThat(file.getParent()).isEqualTo(dir.toAbsolutePath());
                assertThat(file.getFileName().toString()).matches("[A-Za-z0-9%._*+-]+\\.pages");
                assertThat(store.read(names.get(i), 0)).isEqualTo(page(i + 1));
            }
        }
        try (var files = Files.list(dir)) {
            assertThat(files.count()).as("pages, their records and high-water marks, and the format file")
                    .isEqualTo(3L * names.size() + 1);
        }
    }

    /**
     * Group commit: in a batch each page's record goes into its spare slot at once and its data
     * only at the end, after the records files are forced (a crash inside the batch leaves old
     * data under its old record, the new record beside it); the store already answers with the
     * new version and data. A page written twice in the batch keeps the slot it had.
     */
    @Test
    void aBatchWritesItsRecordsBeforeItsData() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(1), 1);
            assertThat(versionOnDisk(0, 0)).as("a first write: slot 0").isEqualTo(1);
            store.beginBatch();
            store.write("obj", 0, page(2), 2);
            store.write("obj", PAGE, page(3), 5);
            store.write("obj", 0, page(6), 4); // twice in the batch: the same spare slot
            assertThat(store.version("obj", 0)).as("the batch's version, as the store answers").isEqualTo(4);
            assertThat(versionOnDisk(0, 0)).as("the slot describing the data on disk is untouched").isEqualTo(1);
            assertThat(versionOnDisk(0, 1)).as("the spare slot").isEqualTo(4);
            assertThat(versionOnDisk(1, 0)).isEqualTo(5);
            assertThat(store.read("obj", PAGE)).isEqualTo(page(3));
            assertThat(Files.size(store.fileOf("obj"))).as("no data written yet").isEqualTo(PAGE);
            store.endBatch();
            assertThat(Files.readAllBytes(store.fileOf("obj"))).startsWith(page(6));
            store.write("obj", 0, page(4), 7); // outside a batch: at once again, into the slot not describing the data
            assertThat(versionOnDisk(0, 0)).isEqualTo(7);
            assertThat(versionOnDisk(0, 1)).isEqualTo(4);
        }
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.read("obj", 0)).isEqualTo(page(4));
            assertThat(store.version("obj", 0)).isEqualTo(7);
            assertThat(store.version("obj", PAGE)).isEqualTo(5);
        }
    }

    /**
     * Two forces a single write, records file first; a batch forces each records file once, then
     * each data file once, however many pages it writes.
     */
    @Test
    void aWriteForcesItsRecordThenItsDataAndABatchEachFileOnce() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            List<String> forced = new java.util.ArrayList<>();
            store.steps = (step, name, offset) -> {
                if (step == FilePageStore.Step.FILE_FORCED) {
                    forced.add(name);
                }
            };
            store.write("a", 0, page(1), 1);
            assertThat(forced).containsExactly("a.sums", "a.pages");
            forced.clear();
            store.beginBatch();
            for (int i = 0; i < 4; i++) {
                store.write("a", (long) i * PAGE, page(2), 2);
                store.write("b", (long) i * PAGE, page(3), 1);
            }
            store.endBatch();
            assertThat(forced).containsExactly("a.sums", "b.sums", "a.pages", "b.pages");
        }
    }

    private long versionOnDisk(int page, int slot) throws IOException {
        byte[] all = Files.readAllBytes(dir.resolve("obj" + FilePageStore.SUMS));
        int at = page * 32 + slot * 16;
        return all.length < at + 16 ? 0
                : java.nio.ByteBuffer.wrap(all, at, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void versionsSurviveARestartBesideTheirPages() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.nextEpoch()).isPositive();
            assertThat(store.restarted()).as("a fresh directory").isFalse();
            store.write("obj", 2L * PAGE, page(3), 7);
            store.write("obj", 0, page(4)); // the next version: 1
            assertThat(store.version("obj", PAGE)).as("never written").isZero();
        }
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.nextEpoch();
            assertThat(store.restarted()).as("the epoch of the first start is there").isTrue();
            assertThat(store.version("obj", 2L * PAGE)).isEqualTo(7);
            assertThat(store.version("obj", 0)).isEqualTo(1);
            assertThat(store.version("obj", PAGE)).isZero();
            assertThat(store.version("other", 0)).isZero();
            assertThat(store.read("obj", 2L * PAGE)).isEqualTo(page(3));
            assertThat(store.sumsOf("obj").getFileName().toString()).isEqualTo("obj.sums");
        }
    }

    @Test
    void theDirectoryIsCreatedIfMissing() throws IOException {
        Path nested = dir.resolve("x/y");
        try (FilePageStore store = new FilePageStore(nested, PAGE)) {
            store.write("obj", 0, page(1));
        }
        assertThat(nested).isDirectory();
    }

    @Test
    void aDirectoryThatCannotBeCreatedFailsClearly() throws IOException {
        Path file = Files.createFile(dir.resolve("plain-file"));
        assertThatThrownBy(() -> new FilePageStore(file.resolve("pages"), PAGE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("page store directory")
                .hasMessageContaining("cannot be created");
    }

    @Test
    void aFailedWriteSaysWhichPageAndWhere() throws IOException {
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.close();
        assertThatThrownBy(() -> store.write("obj", PAGE, page(1), 1))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("cannot write page 0x1000 of 'obj'")
                .hasMessageContaining(dir.toAbsolutePath().toString());
    }

    @Test
    void onlyWholePagesAreWritten() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.write("obj", 0, new byte[10])).isInstanceOf(IllegalArgumentException.class);
        }
    }

    /**
     * A name is durable only once its directory is forced: each rename (the format file, the
     * holders' journal, the epoch, the lease) and each new file is followed by a force of the directory, before the call
     * returns, with the new entry already in place; before, a power loss could bring back the
     * journal from before a grant (xp-spec 9.1). What the directory holds at each force is recorded.
     */
    @Test
    void everyRenameAndNewFileIsFollowedByAForceOfTheDirectory() throws IOException {
        List<String> forced = new java.util.ArrayList<>();
        DirectorySync recording = d -> {
            assertThat(d).isEqualTo(dir.toAbsolutePath());
            try (var entries = Files.list(d)) {
                forced.add(entries.map(e -> e.getFileName().toString()).filter(n -> !n.endsWith(".tmp")
                        && !n.endsWith(".next")).sorted().collect(java.util.stream.Collectors.joining(",")));
            }
        };
        try (FilePageStore store = new FilePageStore(dir, PAGE, recording)) {
            assertThat(forced).as("a new store names its format").containsExactly("format");
            store.nextEpoch();
            assertThat(forced).containsExactly("format", "epoch,format");
            store.swapLease(5_000_000_000L);
            assertThat(forced).last().isEqualTo("epoch,format,lease");
            forced.clear();
            store.write("obj", 0, page(1), 1);
            assertThat(forced).as("the high-water mark, then the page file, then the records file, each forced in "
                    + "as created").containsExactly("epoch,format,lease,obj.mark",
                            "epoch,format,lease,obj.mark,obj.pages", "epoch,format,lease,obj.mark,obj.pages,obj.sums");
            forced.clear();
            store.write("obj", PAGE, page(2), 1);
            assertThat(forced).as("no new name: nothing to force").isEmpty();
            store.holder("obj", 0, "A");
            assertThat(forced).containsExactly("epoch,format,holders,lease,obj.mark,obj.pages,obj.sums");
            assertThat(Files.readString(dir.resolve(FilePageStore.HOLDERS))).contains("\tA\t");
        }
    }

    /**
     * A force of the directory that fails after a file was created is made again by the next
     * write to that file, before it returns (the file exists by then, and a read may have opened
     * it meanwhile). Before, the next write saw the file existing and forced nothing: it returned
     * while the file's name might not be on the disk.
     */
    @Test
    void aFailedForceOfTheDirectoryAfterANewFileIsMadeAgainByTheNextWrite() throws IOException {
        List<String> forced = new java.util.ArrayList<>();
        boolean[] failed = {false};
        DirectorySync failingOnce = d -> {
            boolean sums = Files.exists(d.resolve("obj.sums"));
            if (sums && !failed[0]) {
                failed[0] = true;
                throw new IOException("fsync of the directory: EIO");
            }
            forced.add(sums ? "with obj.sums" : "without");
        };
        try (FilePageStore store = new FilePageStore(dir, PAGE, failingOnce)) {
            assertThatThrownBy(() -> store.write("obj", 0, page(1), 1)).hasMessageContaining("EIO");
            assertThat(store.read("obj", 0)).as("nothing written").isNull();
            forced.clear();
            store.write("obj", 0, page(1), 1);
            assertThat(forced).as("the new file's name forced before the write returned").containsExactly("with obj.sums");
            forced.clear();
            store.write("obj", PAGE, page(2), 1);
            assertThat(forced).as("then no more").isEmpty();
        }
    }

    /** keepLongerLease answers the last lease and keeps the longer of the two, in one write. */
    @Test
    void keepLongerLeaseKeepsTheLongerOfTheTwoLeases() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThat(store.keepLongerLease(5_000_000_000L)).as("none known yet").isZero();
            assertThat(store.keepLongerLease(1_000_000_000L)).isEqualTo(5_000_000_000L);
            assertThat(Files.readString(dir.resolve(FilePageStore.LEASE_FILE))).startsWith("5000000000\t");
            assertThat(store.keepLongerLease(8_000_000_000L)).isEqualTo(5_000_000_000L);
            assertThat(store.swapLease(1_000_000_000L)).as("the grace's end writes its own").isEqualTo(8_000_000_000L);
        }
    }

    /**
     * copy gives a page's data and version from one look, under one lock: in an open batch the
     * pending write's pair, after the batch fails before its data the pair on disk, never one of
     * each (a read then a version could straddle a failing batch's end).
     */
    @Test
    void copyGivesDataAndVersionOfTheSameWrite() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(6), 6);
            store.beginBatch();
            store.write("obj", 0, page(7), 7);
            PageStore.Copy pending = store.copy("obj", 0);
            assertThat(pending.data()).isEqualTo(page(7));
            assertThat(pending.version()).isEqualTo(7);
            store.steps = (s, object, offset) -> {
                if (s == FilePageStore.Step.RECORDS_FORCED) {
                    throw new IOException("disk full");
                }
            };
            assertThatThrownBy(store::endBatch).hasMessageContaining("disk full");
            PageStore.Copy onDisk = store.copy("obj", 0);
            assertThat(onDisk.data()).isEqualTo(page(6));
            assertThat(onDisk.version()).isEqualTo(6);
            assertThat(store.copy("obj", PAGE)).isEqualTo(new PageStore.Copy(null, 0));
        }
    }
}
