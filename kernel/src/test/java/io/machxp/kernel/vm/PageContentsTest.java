package io.machxp.kernel.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** A page's words: the byte layout is little-endian whatever the copy, the width or the alignment. */
class PageContentsTest {
    private static byte[] counting(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    @Test
    void bytesRoundTripAndEachByteIsItsPlaceInItsWord() {
        byte[] b = counting(64);
        long[] w = PageContents.of(b);
        assertThat(w).hasSize(8);
        assertThat(PageContents.bytes(w)).isEqualTo(b);
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 64; i++) {
            assertThat(PageContents.getByte(w, i)).isEqualTo(b[i]);
        }
        for (int at = 0; at + 4 <= 64; at++) {
            assertThat(PageContents.getInt(w, at)).as("int at %d", at).isEqualTo(le.getInt(at));
        }
        for (int at = 0; at + 8 <= 64; at++) {
            assertThat(PageContents.getLong(w, at)).as("long at %d", at).isEqualTo(le.getLong(at));
        }
    }

    @Test
    void storesOfEveryWidthAndAlignmentChangeOnlyTheirBytes() {
        for (int at = 0; at + 8 <= 32; at++) {
            byte[] expected = counting(32);
            long[] w = PageContents.of(expected);
            ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN).putLong(at, 0x0102030405060708L);
            PageContents.putLong(w, at, 0x0102030405060708L);
            assertThat(PageContents.bytes(w)).as("long at %d", at).isEqualTo(expected);
            ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN).putInt(at, 0xA1B2C3D4);
            PageContents.putInt(w, at, 0xA1B2C3D4);
            assertThat(PageContents.bytes(w)).as("int at %d", at).isEqualTo(expected);
        }
    }

    @Test
    void partialCopiesOfAnyRangeMatchArraycopy() {
        byte[] page = counting(48);
        long[] w = PageContents.of(page);
        for (int from = 0; from < 48; from++) {
            for (int length = 0; from + length <= 48; length++) {
                byte[] out = new byte[length + 3];
                byte[] expected = new byte[length + 3];
                PageContents.copyOut(w, from, out, 3, length);
                System.arraycopy(page, from, expected, 3, length);
                assertThat(out).as("out %d+%d", from, length).isEqualTo(expected);

                long[] into = PageContents.zeros(48);
                byte[] intoExpected = new byte[48];
                PageContents.copyIn(page, 0, into, from, length);
                System.arraycopy(page, 0, intoExpected, from, length);
                assertThat(PageContents.bytes(into)).as("in %d+%d", from, length).isEqualTo(intoExpected);
            }
        }
    }

    @Test
    void bufferCopiesAreLittleEndianWhateverTheBuffersOrder() {
        long[] w = PageContents.of(counting(32));
        ByteBuffer direct = ByteBuffer.allocateDirect(40).order(ByteOrder.BIG_ENDIAN);
        direct.position(8);
        PageContents.put(direct, w);
        assertThat(direct.position()).isEqualTo(40);
        byte[] seen = new byte[32];
        direct.get(8, seen);
        assertThat(seen).isEqualTo(counting(32));
        long[] back = PageContents.zeros(32);
        PageContents.get(direct.position(8), back);
        assertThat(back).isEqualTo(w);
    }

    @Test
    void aPageIsAWholeNumberOfWords() {
        assertThatThrownBy(() -> PageContents.of(new byte[12])).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * The core stores a futex's 4-byte word (PageWords: a waiter's WAITERS bit, OWNER_DIED) while
     * the page may be mapped writable to in-process tasks, whose writes to the other half of the
     * same 8-byte word are CASes of the whole word (VmPage#writeMapped). The store must not put
     * back the other half as it was before such a write: each of the task's writes here finds its
     * previous one still there.
     */
    @Test
    void aFourByteStoreKeepsAMappedWriteToTheOtherHalfOfItsWord() throws Exception {
        long[] w = new long[2];
        int writes = 2_000_000;
        java.util.concurrent.atomic.AtomicInteger lost = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        Thread task = new Thread(() -> {
            for (int i = 1; i <= writes; i++) {
                while (true) { // as VmPage#writeMapped: the task's 4 bytes at offset 12, merged into word 1
                    long v = (long) PageContents.WORDS.getVolatile(w, 1);
                    if ((int) (v >>> 32) != i - 1) {
                        lost.incrementAndGet();
                    }
                    if (PageContents.WORDS.compareAndSet(w, 1, v, (v & 0xFFFF_FFFFL) | ((long) i << 32))) {
                        break;
                    }
                }
            }
            done.set(true);
        });
        task.start();
        for (int word = 0; !done.get(); word++) {
            PageContents.putInt(w, 8, word); // the core's futex word at offset 8
        }
        task.join();
        assertThat(lost.get()).as("task writes the core's stores undid").isZero();
        assertThat(PageContents.getInt(w, 12)).isEqualTo(writes);
    }
}
