package io.machxp.kernel.shm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Review H1: what a released slot may punch, whatever the OS's page size. {@code madvise} rounds
 * a length up to whole OS pages, so a punch may only cover OS pages that lie entirely inside the
 * slot; a slot that covers no whole OS page keeps its memory (its neighbours may be mapped and live).
 */
class HolesTest {
    private static final long K = 1024;

    @ParameterizedTest
    @ValueSource(longs = {4 * 1024, 16 * 1024, 64 * 1024})
    void aPunchNeverLeavesItsSlot(long osPage) {
        for (long slotSize : new long[] {4 * K, 8 * K, 16 * K, 64 * K}) {
            for (long dataStart : new long[] {0, 4 * K, 8 * K, 12 * K, 64 * K}) {
                for (int slot = 0; slot < 64; slot++) {
                    long offset = dataStart + slot * slotSize;
                    long[] r = Holes.wholePages(offset, slotSize, osPage);
                    if (r == null) {
                        continue;
                    }
                    assertThat(r[0]).as("start, an OS page's").isGreaterThanOrEqualTo(offset)
                            .matches(v -> v % osPage == 0);
                    assertThat(r[1]).as("end, an OS page's").isLessThanOrEqualTo(offset + slotSize)
                            .matches(v -> v % osPage == 0).isGreaterThan(r[0]);
                }
            }
        }
    }

    @Test
    void fourKiBSlotsAreFreedOnlyWhereTheOsPageIsFourKiB() {
        for (int slot = 0; slot < 32; slot++) {
            long offset = 8 * K + slot * 4 * K;
            assertThat(Holes.wholePages(offset, 4 * K, 4 * K)).containsExactly(offset, offset + 4 * K);
            assertThat(Holes.wholePages(offset, 4 * K, 16 * K)).as("16 KiB OS pages: slot %d kept", slot).isNull();
            assertThat(Holes.wholePages(offset, 4 * K, 64 * K)).as("64 KiB OS pages: slot %d kept", slot).isNull();
        }
    }

    @Test
    void aSlotOfWholeOsPagesIsFreedWhole() {
        assertThat(Holes.wholePages(64 * K, 64 * K, 16 * K)).containsExactly(64 * K, 128 * K);
        assertThat(Holes.wholePages(128 * K, 64 * K, 64 * K)).containsExactly(128 * K, 192 * K);
        assertThat(Holes.wholePages(8 * K, 16 * K, 16 * K)).as("straddles two OS pages, covers neither").isNull();
        assertThat(Holes.wholePages(8 * K, 64 * K, 16 * K)).as("only the OS pages inside")
                .containsExactly(16 * K, 64 * K);
    }

    @Test
    void theOsPageSizeIsTheSystemsWhereHolesCanBePunched() {
        if (Holes.OS_PAGE > 0) {
            assertThat(Long.bitCount(Holes.OS_PAGE)).isEqualTo(1);
            assertThat(Holes.OS_PAGE).isGreaterThanOrEqualTo(4 * K);
        }
    }
}
