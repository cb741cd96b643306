package io.machxp.kernel.vm;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.vm.VmPage.Access;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A page's direct mapping: accesses run only while mapped; taking it back waits for nothing. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PageMappingTest {
    private static final java.util.function.BooleanSupplier LIVE = () -> true;
    private final VmPage page = new VmPage(1, 0, 64);
    private final java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();

    @org.junit.jupiter.api.AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void copiesNeedTheMappedAccess() {
        page.data = PageContents.zeros(64);
        byte[] one = {1};
        assertThat(page.readMapped(0, new byte[1], 0, 1, LIVE)).as("not mapped").isFalse();
        page.access = Access.READ;
        assertThat(page.mapInProcess()).isTrue();
        assertThat(page.readMapped(0, new byte[1], 0, 1, LIVE)).isTrue();
        assertThat(page.writeMapped(0, one, 0, 1, LIVE)).as("mapped read-only").isFalse();
        page.access = Access.READ_WRITE;
        assertThat(page.mapInProcess()).isTrue();
        assertThat(page.writeMapped(0, one, 0, 1, LIVE)).isTrue();
        assertThat(PageContents.getByte(page.data, 0)).isEqualTo((byte) 1);
        page.takeMapping();
        assertThat(page.mapping.takeWritten()).isTrue();
        assertThat(page.mapping.takeWritten()).as("taken once").isFalse();
        assertThat(page.readMapped(0, new byte[1], 0, 1, LIVE)).as("revoked").isFalse();
    }

    @Test
    void theWordOfATrackedFutexIsNeverCopiedDirectly() {
        page.data = PageContents.zeros(64);
        page.access = Access.READ_WRITE;
        assertThat(page.mapInProcess()).isTrue();
        page.futex(8);
        assertThat(page.readMapped(0, new byte[8], 0, 8, LIVE)).as("the futex revoked the mapping").isFalse();
        page.access = Access.READ_WRITE;
        assertThat(page.mapInProcess()).isTrue();
        assertThat(page.readMapped(0, new byte[8], 0, 8, LIVE)).isTrue();
        assertThat(page.writeMapped(6, new byte[4], 0, 4, LIVE)).as("bytes 8-9 are the futex's").isFalse();
        assertThat(page.readMapped(11, new byte[1], 0, 1, LIVE)).isFalse();
        assertThat(page.writeMapped(12, new byte[4], 0, 4, LIVE)).isTrue();
    }

    @Test
    void aCopyTheCallerMayNoLongerMakeDeclines() {
        page.data = PageContents.zeros(64);
        page.access = Access.READ_WRITE;
        assertThat(page.mapInProcess()).isTrue();
        assertThat(page.readMapped(0, new byte[8], 0, 8, () -> false)).isFalse();
        assertThat(page.writeMapped(0, new byte[] {9}, 0, 1, () -> false)).isFalse();
        assertThat(PageContents.getByte(page.data, 0)).isZero();
        page.takeMapping();
        assertThat(page.mapping.takeWritten()).isFalse();
    }

    /** Aligned words take the whole-word path; every width lands in the page byte for byte. */
    @Test
    void wordsAndRangesLandByteForByte() {
        page.data = PageContents.zeros(64);
        page.access = Access.READ_WRITE;
        assertThat(page.mapInProcess()).isTrue();
        byte[] eight = {1, 2, 3, 4, 5, 6, 7, 8};
        byte[] four = {9, 10, 11, 12};
        assertThat(page.writeMapped(16, eight, 0, 8, LIVE)).isTrue();
        assertThat(page.writeMapped(28, four, 0, 4, LIVE)).isTrue();
        assertThat(page.writeMapped(41, eight, 2, 5, LIVE)).isTrue();
        assertThat(bytes(16, 24)).isEqualTo(eight);
        assertThat(bytes(28, 32)).isEqualTo(four);
        assertThat(bytes(41, 46)).containsExactly(3, 4, 5, 6, 7);
        byte[] out = new byte[10];
        assertThat(page.readMapped(16, out, 1, 8, LIVE)).isTrue();
        assertThat(java.util.Arrays.copyOfRange(out, 1, 9)).isEqualTo(eight);
        assertThat(page.readMapped(28, out, 0, 4, LIVE)).isTrue();
        assertThat(java.util.Arrays.copyOfRange(out, 0, 4)).isEqualTo(four);
    }

    @Test
    void aWriteSpanningTwoWordsIsTheCoresToMake() {
        page.data = PageContents.zeros(64);
        page.access = Access.READ_WRITE;
        assertThat(page.mapInProcess()).isTrue();
        assertThat(page.writeMapped(6, new byte[] {1, 2, 3}, 0, 3, LIVE)).as("bytes 6-8: two words").isFalse();
        assertThat(page.writeMapped(0, new byte[16], 0, 16, LIVE)).isFalse();
        assertThat(page.readMapped(0, new byte[16], 0, 16, LIVE)).as("reads of any range are direct").isTrue();
    }

    /**
     * The core takes the page back while a write is under way (held inside it by a latch): the take
     * does not wait, the write is refused to its caller, and the page's bytes never get it.
     */
    @Test
    void aTakeDoesNotWaitForAWriteUnderWayWhichIsRefused() throws Exception {
        page.data = PageContents.zeros(64);
        page.access = Access.READ_WRITE;
        assertThat(page.mapInProcess()).isTrue();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> write = CompletableFuture.supplyAsync(() -> page.writeMapped(8, le(42), 0, 8,
                holdInside(inside, release)), threads);
        try {
            inside.await();
            CompletableFuture.runAsync(page::takeMapping, threads).get(10, TimeUnit.SECONDS); // before: spun until the write ended
            assertThat(page.mapping.mapped()).isFalse();
            assertThat(page.mapping.accessesUnderWay()).as("the write is still under way").isEqualTo(1);
            assertThat(page.mapInProcess()).as("not mapped again while an access from before is under way").isFalse();
        } finally {
            release.countDown();
        }
        assertThat(write.get(10, TimeUnit.SECONDS)).as("refused: the caller asks the core").isFalse();
        assertThat(bytes(8, 16)).as("never applied after the take").containsOnly(0);
        assertThat(page.mapInProcess()).as("mapped again once it ended").isTrue();
        assertThat(page.readMapped(8, new byte[8], 0, 8, LIVE)).isTrue();
    }

    /**
     * A write that finished before the take is in the bytes the core keeps, also when the take
     * flips the words because another access (a read, held by a latch) is still under way; that
     * read is refused, since what it loaded may no longer be the page's.
     */
    @Test
    void aWriteThatLandedBeforeATakeIsKeptAndAReadTheTakeOvertookIsRefused() throws Exception {
        page.data = PageContents.zeros(64);
        page.access = Access.READ_WRITE;
        assertThat(page.mapInProcess()).isTrue();
        assertThat(page.mapping.takeWritten()).isFalse();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        byte[] seen = new byte[8];
        CompletableFuture<Boolean> read = CompletableFuture.supplyAsync(() -> page.readMapped(16, seen, 0, 8,
                holdInside(inside, release)), threads);
        try {
            inside.await();
            assertThat(page.writeMapped(16, le(7), 0, 8, LIVE)).isTrue();
            assertThat(page.writeMapped(25, new byte[] {5, 6}, 0, 2, LIVE)).isTrue();
            long[] mapped = page.data;
            CompletableFuture.runAsync(page::takeMapping, threads).get(10, TimeUnit.SECONDS);
            assertThat(page.data).as("a fresh array: the read under way still holds the old one").isNotSameAs(mapped);
            assertThat(bytes(16, 24)).isEqualTo(le(7));
            assertThat(bytes(24, 28)).containsExactly(0, 5, 6, 0);
            assertThat(page.mapping.takeWritten()).as("counted as the page's change").isTrue();
        } finally {
            release.countDown();
        }
        assertThat(read.get(10, TimeUnit.SECONDS)).as("overtaken by the take: refused").isFalse();
    }

    private static java.util.function.BooleanSupplier holdInside(CountDownLatch inside, CountDownLatch release) {
        return () -> {
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return true;
        };
    }

    /** Bytes {@code from..to} of the page's contents. */
    private byte[] bytes(int from, int to) {
        return java.util.Arrays.copyOfRange(PageContents.bytes(page.data), from, to);
    }

    private static byte[] le(long v) {
        return java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
