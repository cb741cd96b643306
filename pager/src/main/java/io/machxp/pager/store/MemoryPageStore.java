package io.machxp.pager.store;

import java.util.HashMap;
import java.util.Map;

/**
 * A {@link PageStore} in memory: the pages last as long as the pager (the default), or as long
 * as the object, which the simulator keeps across a pager's crash and restart as a disk would.
 */
public final class MemoryPageStore implements PageStore {
    private record Stored(byte[] data, long version) {}

    /**
     * An offset as a key of an object's pages: hashed so that page-aligned offsets spread over the
     * table's buckets ({@link OffsetHash}; a Long's own hash put 16 consecutive pages in one).
     */
    private record Offset(long value) {
        @Override
        public int hashCode() {
            return OffsetHash.of(value);
        }
    }

    private final Map<String, Map<Offset, Stored>> objects = new HashMap<>();
    private long epoch;
    private int starts;

    @Override
    public byte[] read(String object, long offset) {
        Stored page = objects.getOrDefault(object, Map.of()).get(new Offset(offset));
        return page == null ? null : page.data; // never changed (see write), and the caller only reads it
    }

    @Override
    public long version(String object, long offset) {
        Stored page = objects.getOrDefault(object, Map.of()).get(new Offset(offset));
        return page == null ? 0 : page.version;
    }

    @Override
    public void write(String object, long offset, byte[] page, long version) {
        // Kept as it is: the caller never changes a page it wrote (PageStore#write).
        objects.computeIfAbsent(object, o -> new HashMap<>()).put(new Offset(offset), new Stored(page, version));
    }

    /** A page as {@link #forEachPage} gives it. */
    public interface PageVisitor {
        void page(String object, long offset, byte[] data, long version);
    }

    /** Every page written, by object and offset (for a snapshot of a pager whose pages are in memory). */
    public void forEachPage(PageVisitor visitor) {
        new java.util.TreeMap<>(objects).forEach((object, pages) -> {
            java.util.TreeMap<Long, Stored> byOffset = new java.util.TreeMap<>();
            pages.forEach((offset, page) -> byOffset.put(offset.value(), page));
            byOffset.forEach((offset, page) -> visitor.page(object, offset, page.data.clone(), page.version));
        });
    }

    /** The time-based default for the first pager on this store, then one more for each next one. */
    @Override
    public long nextEpoch() {
        epoch = starts++ == 0 ? PageStore.super.nextEpoch() : epoch + 1;
        return epoch;
    }

    /** A second pager on the same store object (the simulator's restart) finds the first one's pages. */
    @Override
    public boolean restarted() {
        return starts > 1;
    }

    @Override
    public long swapLease(long leaseNanos) {
        long last = lease;
        lease = leaseNanos;
        return last;
    }

    @Override
    public long keepLongerLease(long leaseNanos) {
        long last = lease;
        lease = Math.max(last, leaseNanos);
        return last;
    }

    private long lease;

    /** A futex's place in the holders' journal (hashed as {@link OffsetHash} says). */
    private record HolderKey(String object, long offset) {
        @Override
        public int hashCode() {
            return OffsetHash.of(object, offset);
        }
    }

    /**
     * The holders' journal (see {@link PageStore#holder}): object + offset -> entry, in order. Keyed by
     * a record, not a string built per call: the journal is written at every grant and release.
     */
    private final java.util.LinkedHashMap<HolderKey, Holder> holders = new java.util.LinkedHashMap<>();

    @Override
    public void holder(String object, long offset, String kernel) {
        HolderKey key = new HolderKey(object, offset);
        if (kernel == null) {
            holders.remove(key);
        } else {
            holders.put(key, new Holder(object, offset, kernel));
        }
    }

    @Override
    public java.util.List<Holder> holders() {
        return java.util.List.copyOf(holders.values());
    }
}
