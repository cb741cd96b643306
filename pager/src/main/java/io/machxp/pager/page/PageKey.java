package io.machxp.pager.page;

/**
 * A page as the pager names it: the memory object and the page-aligned offset. Its hash code
 * spreads page-aligned offsets over a table's buckets ({@link io.machxp.pager.store.OffsetHash});
 * equality is the record's.
 */
public record PageKey(String object, long offset) {
    @Override
    public int hashCode() {
        return io.machxp.pager.store.OffsetHash.of(object, offset);
    }

    @Override
    public String toString() {
        return "page 0x" + Long.toHexString(offset) + " of '" + object + "'";
    }
}
