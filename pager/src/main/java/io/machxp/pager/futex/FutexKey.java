package io.machxp.pager.futex;

/**
 * A futex as the pager names it: the memory object and the offset of its word. Its hash code
 * spreads word offsets at the same place in different pages over a table's buckets
 * ({@link io.machxp.pager.store.OffsetHash}); equality is the record's.
 */
public record FutexKey(String object, long offset) {
    @Override
    public int hashCode() {
        return io.machxp.pager.store.OffsetHash.of(object, offset);
    }
}
