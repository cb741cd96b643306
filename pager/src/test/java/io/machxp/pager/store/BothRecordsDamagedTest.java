package io.machxp.pager.store;

import static io.machxp.pager.store.StoreTestFiles.flipByte;
import static io.machxp.pager.store.StoreTestFiles.page;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.store.FilePageStore.Step;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A page both of whose record slots are damaged: neither describes the data on disk, so it is
 * damaged; a new write of it repairs it (its record into a slot, forced, then its data, forced),
 * and a crash anywhere in that write leaves it damaged as before (above the object's high-water
 * mark) or repaired at the new version, never served from a record that does not describe it.
 * These tests pin behaviour the store already had (they passed on the code before them: no bug
 * was found), so that a change to how slots are kept or records rebuilt cannot break it unseen.
 */
class BothRecordsDamagedTest {
    private static final int PAGE = StoreTestFiles.PAGE;

    @TempDir
    Path dir;

    /** Page 1 of "obj" written at 4 (slot 0) and 5 (slot 1), page 0 at 1; then both of page 1's records damaged. */
    private void bothRecordsDamaged() throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", 0, page(1), 1);
            store.write("obj", PAGE, page(4), 4);
            store.write("obj", PAGE, page(5), 5);
        }
        flipByte(dir.resolve("obj.sums"), 32 + 2); // page 1, slot 0's version
        flipByte(dir.resolve("obj.sums"), 48 + 9); // page 1, slot 1's data checksum
    }

    /** The page as a new store on the directory reads it: its data's fill byte and its version, or "damaged@version". */
    private String afterRestart(long offset) throws IOException {
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            try {
                byte[] data = store.read("obj", offset);
                return (data == null ? 0 : data[0]) + "@" + store.version("obj", offset);
            } catch (StoreDamage e) {
                return "damaged@" + store.version("obj", offset);
            }
        }
    }

    /** Whether both slots of the page hold intact records (decoded without damage). */
    private boolean bothSlotsIntact(long offset) throws IOException {
        ByteBuffer slots = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("obj.sums")));
        long at = PageSum.position(offset, PAGE);
        for (int i = 0; i < 2; i++) {
            if (PageSum.decode(slots.slice((int) at + i * PageSum.BYTES, PageSum.BYTES), offset, i, "") == null) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aNewWriteRepairsItAndTheRepairLastsARestart() throws IOException {
        bothRecordsDamaged();
        long above = 1 + HighWaterMark.MARK_STEP + 1;
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            assertThatThrownBy(() -> store.read("obj", PAGE)).isInstanceOf(StoreDamage.class)
                    .hasMessageContaining("slot 0").hasMessageContaining("slot 1");
            assertThat(store.version("obj", PAGE)).as("above the mark").isEqualTo(above);
            store.write("obj", PAGE, page(6), above + 1);
            assertThat(store.read("obj", PAGE)).isEqualTo(page(6));
            assertThat(store.version("obj", PAGE)).isEqualTo(above + 1);
            assertThat(store.read("obj", 0)).as("the object's other page").isEqualTo(page(1));
        }
        assertThat(afterRestart(PAGE)).isEqualTo("6@" + (above + 1));
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.write("obj", PAGE, page(7), above + 2); // into the slot still damaged
        }
        assertThat(bothSlotsIntact(PAGE)).as("the second write replaced the other damaged record").isTrue();
        assertThat(afterRestart(PAGE)).isEqualTo("7@" + (above + 2));
    }

    /** The same, in a batch (group commit): the page read from the batch, then from its files. */
    @Test
    void aBatchRepairsIt() throws IOException {
        bothRecordsDamaged();
        long above = 1 + HighWaterMark.MARK_STEP + 1;
        try (FilePageStore store = new FilePageStore(dir, PAGE)) {
            store.beginBatch();
            store.write("obj", PAGE, page(6), above + 1);
            assertThat(store.read("obj", PAGE)).isEqualTo(page(6));
            store.endBatch();
            assertThat(store.copy("obj", PAGE).version()).isEqualTo(above + 1);
        }
        assertThat(afterRestart(PAGE)).isEqualTo("6@" + (above + 1));
    }

    /**
     * The repair cut off anywhere: before its data reached the file, the page is damaged as before,
     * still above every version acknowledged (the repair's own version included, so that no copy
     * of it replaces the page unless newer); once its data did, it is repaired.
     */
    @ParameterizedTest
    @CsvSource({"RECORD_WRITTEN, damaged", "RECORD_FORCED, damaged", "DATA_WRITTEN, 6", "DATA_FORCED, 6"})
    void aRepairCutOffAnywhereLeavesThePageDamagedOrRepaired(Step step, String expected) throws IOException {
        bothRecordsDamaged();
        long above = 1 + HighWaterMark.MARK_STEP + 1;
        FilePageStore store = new FilePageStore(dir, PAGE);
        store.steps = (s, object, offset) -> {
            if (s == step) {
                throw new StoreCrashTest.Crash(step);
            }
        };
        assertThatThrownBy(() -> store.write("obj", PAGE, page(6), above + 1))
                .isInstanceOf(StoreCrashTest.Crash.class);
        store.close(); // its files, as the crash left them (a close writes nothing)
        String after = afterRestart(PAGE);
        if (expected.equals("damaged")) {
            assertThat(after).startsWith("damaged@");
            assertThat(Long.parseLong(after.substring("damaged@".length()))).as("above the repair's version")
                    .isGreaterThan(above + 1);
        } else {
            assertThat(after).isEqualTo("6@" + (above + 1));
        }
        try (FilePageStore again = new FilePageStore(dir, PAGE)) {
            again.write("obj", PAGE, page(8), 2 * HighWaterMark.MARK_STEP + 10);
        }
        assertThat(afterRestart(PAGE)).as("written again: repaired").isEqualTo("8@" + (2 * HighWaterMark.MARK_STEP + 10));
    }
}
