package io.machxp.pager.store;

/**
 * Hash codes for keys named by an object and an offset (a page, a futex word, a holder in the
 * journal), spread over a hash table's buckets.
 *
 * <p>A record's own hash code is {@code 31 * object.hashCode() + Long.hashCode(offset)}. Offsets
 * the pager keys by are page-aligned (pages) or mostly so (a futex word at the start of its page,
 * as every lock of the bench has): their low 12 bits are the same for every key of an object, and
 * {@link java.util.HashMap} picks a bucket from the low bits (after folding in bits 16-31), so 16
 * consecutive pages of one object fell into one bucket: a list of 16 or a red-black tree searched
 * on every lookup. The offset is multiplied by a 64-bit odd constant (Fibonacci hashing: every
 * bit of the product's upper half depends on the offset's low bits) and the upper half folded
 * onto the lower, so that page-aligned offsets land in different buckets. Equality is unchanged.
 */
public final class OffsetHash {
    /** 2^64 divided by the golden ratio, odd: multiplying by it is a bijection that mixes upward. */
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private OffsetHash() {}

    /** The hash of a key of {@code object} at {@code offset}. */
    public static int of(String object, long offset) {
        return 31 * object.hashCode() + of(offset);
    }

    /** The hash of an offset alone (keys of one object). */
    public static int of(long offset) {
        long h = offset * GOLDEN;
        return (int) (h ^ (h >>> 32));
    }
}
