package io.machxp.kernel.vm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A page's contents as the kernel holds them: little-endian 64-bit words in a {@code long[]}, byte
 * {@code i} of the page being bits {@code 8*(i%8)..} of word {@code i/8}, as on the little-endian
 * machine the task interface describes (a 4- or 8-byte word at an aligned offset is what a task
 * reads there). The conversions to and from bytes (a pager's data, a task's {@code vm_read} /
 * {@code vm_write}, a shared-memory slot) and the core's word reads and writes are here (plain,
 * but for an aligned 4-byte store: a CAS of its 8-byte word, see {@link #putInt(long[], int, int)}).
 *
 * <h2>Why words, not bytes</h2>
 * In-process tasks read and write a mapped page atomically, a word at a time ({@link PageMapping},
 * {@link VmPage#readMapped}, {@link VmPage#writeMapped}): opaque loads, CASes, an atomic xor at a
 * take. {@link MethodHandles#arrayElementVarHandle} on a {@code long[]} supports every access mode
 * on every JDK; the byte-array views of {@link MethodHandles#byteArrayViewVarHandle}, which held
 * pages before, lost every mode but plain get and set in JDK 22 (an element of a {@code byte[]} is
 * only 1-aligned in general). A 4-byte word is the half of its 8-byte word given by bit 2 of its
 * offset. Page sizes are whole numbers of words (the kernel's pages are powers of two of 64 bytes
 * or more).
 *
 * <p>Bulk conversions go through {@link ByteBuffer} views of the byte side (one copy, no byte at a
 * time); partial copies do the unaligned head and tail a byte at a time.
 */
public final class PageContents {
    /** Every access mode, on every JDK: the handle of the mapped fast path. */
    static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Plain little-endian access to a {@code byte[]} (plain get / set: supported on every JDK). */
    private static final VarHandle BYTES_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BYTES_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private PageContents() {}

    /** Words for a page of {@code size} bytes (a multiple of 8), all zero. */
    public static long[] zeros(int size) {
        return new long[words(size)];
    }

    /** The page of {@code bytes.length} bytes (a multiple of 8) as words. */
    public static long[] of(byte[] bytes) {
        long[] w = new long[words(bytes.length)];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(w);
        return w;
    }

    /** The page's bytes: a fresh array of {@code 8 * words.length} bytes. */
    public static byte[] bytes(long[] words) {
        byte[] b = new byte[words.length * 8];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(words);
        return b;
    }

    /** Writes the page's words into {@code out} (little-endian, its position on, which advances). */
    public static void put(ByteBuffer out, long[] words) {
        out.slice().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(words);
        out.position(out.position() + words.length * 8);
    }

    /** Reads the page's words from {@code in} (little-endian, its position on, which advances). */
    public static void get(ByteBuffer in, long[] words) {
        in.slice().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(words);
        in.position(in.position() + words.length * 8);
    }

    private static int words(int size) {
        if ((size & 7) != 0) {
            throw new IllegalArgumentException("a page is a whole number of 8-byte words, not " + size + " bytes");
        }
        return size >>> 3;
    }

    /** Byte {@code at} of the page. */
    public static byte getByte(long[] words, int at) {
        return (byte) (words[at >>> 3] >>> ((at & 7) << 3));
    }

    /**
     * Sets byte {@code at} of the page: a plain read-modify-write of its 8-byte word, so only for a
     * page no task has mapped writable meanwhile (every caller unmaps first: KernelMemory), else a
     * task's store to another byte of that word could be undone. An aligned 4-byte store that may
     * race a mapped task goes through {@link #putInt}, a CAS of its word.
     */
    public static void putByte(long[] words, int at, byte b) {
        int shift = (at & 7) << 3;
        words[at >>> 3] = (words[at >>> 3] & ~(0xFFL << shift)) | ((b & 0xFFL) << shift);
    }

    /** The little-endian 4-byte word at {@code at}. */
    public static int getInt(long[] words, int at) {
        if ((at & 3) == 0) {
            return (int) (words[at >>> 3] >>> ((at & 4) << 3));
        }
        return (int) getBytes(words, at, 4);
    }

    /**
     * Sets the little-endian 4-byte word at {@code at}. An aligned one is a CAS of its 8-byte word:
     * the core stores futex words (PageWords) while the page may be mapped writable to in-process
     * tasks, whose writes to the other half are CASes of the whole word ({@link VmPage#writeMapped});
     * a plain read-modify-write would put that half back as it was before such a write.
     */
    public static void putInt(long[] words, int at, int value) {
        if ((at & 3) == 0) {
            int i = at >>> 3;
            int shift = (at & 4) << 3;
            long keep = ~(0xFFFF_FFFFL << shift);
            long bits = (value & 0xFFFF_FFFFL) << shift;
            long v;
            do {
                v = (long) WORDS.getVolatile(words, i);
            } while (!WORDS.compareAndSet(words, i, v, (v & keep) | bits));
        } else {
            putBytes(words, at, 4, value);
        }
    }

    /** The little-endian 8-byte word at {@code at}. */
    public static long getLong(long[] words, int at) {
        return (at & 7) == 0 ? words[at >>> 3] : getBytes(words, at, 8);
    }

    /** Sets the little-endian 8-byte word at {@code at}. */
    public static void putLong(long[] words, int at, long value) {
        if ((at & 7) == 0) {
            words[at >>> 3] = value;
        } else {
            putBytes(words, at, 8, value);
        }
    }

    private static long getBytes(long[] words, int at, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (getByte(words, at + i) & 0xFFL);
        }
        return v;
    }

    private static void putBytes(long[] words, int at, int n, long v) {
        for (int i = 0; i < n; i++) {
            putByte(words, at + i, (byte) (v >>> (8 * i)));
        }
    }

    /** Copies {@code length} bytes of the page from {@code from} into {@code out} at {@code at} (plain loads). */
    public static void copyOut(long[] words, int from, byte[] out, int at, int length) {
        int head = Math.min(length, (8 - (from & 7)) & 7);
        for (int i = 0; i < head; i++) {
            out[at + i] = getByte(words, from + i);
        }
        int whole = (length - head) >>> 3;
        if (whole > 0) {
            ByteBuffer.wrap(out, at + head, whole * 8).slice().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer()
                    .put(words, (from + head) >>> 3, whole);
        }
        for (int i = head + whole * 8; i < length; i++) {
            out[at + i] = getByte(words, from + i);
        }
    }

    /**
     * Copies {@code length} bytes of {@code in} from {@code at} into the page at {@code from}: plain
     * stores, whole words for the middle and {@link #putByte} at an unaligned head or tail, so for a
     * page no task has mapped writable meanwhile (as {@link #putByte}).
     */
    public static void copyIn(byte[] in, int at, long[] words, int from, int length) {
        int head = Math.min(length, (8 - (from & 7)) & 7);
        for (int i = 0; i < head; i++) {
            putByte(words, from + i, in[at + i]);
        }
        int whole = (length - head) >>> 3;
        if (whole > 0) {
            ByteBuffer.wrap(in, at + head, whole * 8).slice().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer()
                    .get(words, (from + head) >>> 3, whole);
        }
        for (int i = head + whole * 8; i < length; i++) {
            putByte(words, from + i, in[at + i]);
        }
    }

    /** Plain little-endian store of a 4-byte word into a byte array, at any offset. */
    public static void putInt(byte[] bytes, int at, int value) {
        BYTES_INT.set(bytes, at, value);
    }

    /** Plain little-endian store of an 8-byte word into a byte array, at any offset. */
    public static void putLong(byte[] bytes, int at, long value) {
        BYTES_LONG.set(bytes, at, value);
    }
}
