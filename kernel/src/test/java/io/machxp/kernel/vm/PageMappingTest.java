package io.machxp.kernel.vm;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.vm.VmPage.Access;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A page's direct mapping: copies run only while mapped, and revoking waits for those under way. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PageMappingTest {
    private static final java.util.function.BooleanSupplier LIVE = () -> true;
    private final VmPage page = new VmPage(1, 0, 64);

    @Test
    void copiesNeedTheMappedAccess() {
        page.data = new byte[64];
        byte[] one = {1};
        assertThat(page.readMapped(0, new byte[1], 0, 1, LIVE)).as("not mapped").isFalse();
        page.mapping.map(Access.READ);
        assertThat(page.readMapped(0, new byte[1], 0, 1, LIVE)).isTrue();
        assertThat(page.writeMapped(0, one, 0, 1, LIVE)).as("mapped read-only").isFalse();
        page.mapping.map(Access.READ_WRITE);
        assertThat(page.writeMapped(0, one, 0, 1, LIVE)).isTrue();
        assertThat(page.data[0]).isEqualTo((byte) 1);
        page.mapping.revoke();
        assertThat(page.mapping.takeWritten()).isTrue();
        assertThat(page.mapping.takeWritten()).as("taken once").isFalse();
        assertThat(page.readMapped(0, new byte[1], 0, 1, LIVE)).as("revoked").isFalse();
    }

    @Test
    void theWordOfATrackedFutexIsNeverCopiedDirectly() {
        page.data = new byte[64];
        page.mapping.map(Access.READ_WRITE);
        page.futex(8);
        assertThat(page.readMapped(0, new byte[8], 0, 8, LIVE)).as("the futex revoked the mapping").isFalse();
        page.mapping.map(Access.READ_WRITE);
        assertThat(page.readMapped(0, new byte[8], 0, 8, LIVE)).isTrue();
        assertThat(page.writeMapped(6, new byte[4], 0, 4, LIVE)).as("bytes 8-9 are the futex's").isFalse();
        assertThat(page.readMapped(11, new byte[1], 0, 1, LIVE)).isFalse();
        assertThat(page.writeMapped(12, new byte[4], 0, 4, LIVE)).isTrue();
    }

    @Test
    void aCopyTheCallerMayNoLongerMakeDeclines() {
        page.data = new byte[64];
        page.mapping.map(Access.READ_WRITE);
        assertThat(page.readMapped(0, new byte[8], 0, 8, () -> false)).isFalse();
        assertThat(page.writeMapped(0, new byte[] {9}, 0, 1, () -> false)).isFalse();
        assertThat(page.data[0]).isZero();
        page.mapping.revoke();
        assertThat(page.mapping.takeWritten()).isFalse();
    }

    /** Aligned words take the whole-word path; every width lands in the page byte for byte. */
    @Test
    void wordsAndRangesLandByteForByte() {
        page.data = new byte[64];
        page.mapping.map(Access.READ_WRITE);
        byte[] eight = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] four = {9, 10, 11, 12};
        assertThat(page.writeMapped(16, eight, 0, 8, LIVE)).isTrue();
        assertThat(page.writeMapped(28, four, 0, 4, LIVE)).isTrue();
        assertThat(page.writeMapped(41, eight, 2, 5, LIVE)).isTrue();
        assertThat(java.util.Arrays.copyOfRange(page.data, 16, 24)).isEqualTo(eight);
        assertThat(java.util.Arrays.copyOfRange(page.data, 28, 32)).isEqualTo(four);
        assertThat(java.util.Arrays.copyOfRange(page.data, 41, 46)).containsExactly(3, 4, 5, 6, 7);
        byte[] out = new byte[10];
        assertThat(page.readMapped(16, out, 1, 8, LIVE)).isTrue();
        assertThat(java.util.Arrays.copyOfRange(out, 1, 9)).isEqualTo(eight);
        assertThat(page.readMapped(28, out, 0, 4, LIVE)).isTrue();
        assertThat(java.util.Arrays.copyOfRange(out, 0, 4)).isEqualTo(four);
    }

    @Test
    void revokeWaitsForTheCopiesUnderWay() throws Exception {
        page.mapping.map(Access.READ_WRITE);
        assertThat(page.mapping.enter(true)).isTrue();
        CompletableFuture<Void> revoked = CompletableFuture.runAsync(page.mapping::revoke);
        while (page.mapping.enter(false)) { // until the revoke has started, new copies may still enter
            page.mapping.exit(false);
            Thread.onSpinWait();
        }
        assertThat(revoked).as("a copy is still under way").isNotDone();
        page.mapping.exit(true);
        revoked.get(10, TimeUnit.SECONDS);
        assertThat(page.mapping.takeWritten()).isTrue();
        assertThat(page.mapping.enter(false)).isFalse();
    }
}
