package io.machxp.pager.store;

/**
 * Where a pager keeps its own copy of the pages of its memory objects: the data that reached the
 * pager (memory_object_data_return, pages given back with a futex). Pager core thread only.
 *
 * <p>Pages are named by object name and page-aligned offset and are always exactly one page long.
 * An I/O failure is thrown as {@link java.io.UncheckedIOException} with a sentence saying what
 * could not be read or written, after which the store's earlier contents are still there.
 */
public interface PageStore extends AutoCloseable {
    /** The page at {@code offset} of {@code object}, or null if it was never written (all zeros). */
    byte[] read(String object, long offset);

    /** Makes {@code page} (exactly one page) the stored contents; durable when this returns. */
    void write(String object, long offset, byte[] page);

    /**
     * The next epoch of the pager that uses this store: the high half of its fencing tokens, which
     * must grow from one start of a pager to the next, as an NFS server's boot verifier. This
     * default, for stores that do not survive a restart, is the time in seconds since 2024 (a
     * pager restarted within the same second after handing out tokens could repeat them).
     */
    default long nextEpoch() {
        return Math.max(1, java.time.Instant.now().getEpochSecond() - 1_704_067_200L);
    }

    /** Releases files and the like; the store is not used afterwards. */
    @Override
    default void close() {}
}
