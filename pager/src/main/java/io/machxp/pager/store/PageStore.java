package io.machxp.pager.store;

/**
 * Where a pager keeps its own copy of the pages of its memory objects: the data that reached the
 * pager (memory_object_data_return, pages given back with a futex). Pager core thread only.
 *
 * <p>This is the pager library's durable backend: a {@link io.machxp.pager.lib.PagerBackend}
 * that also keeps what must survive the pager's restart (page versions, the futex holders'
 * journal, the epoch of its fencing tokens). machxp's own pager is the library with one of two
 * of them: {@link MemoryPageStore} (pages in memory) or {@link FilePageStore} (pages in files).
 *
 * <p>Pages are named by object name and page-aligned offset and are always exactly one page long.
 * An I/O failure is thrown as {@link java.io.UncheckedIOException} with a sentence saying what
 * could not be read or written, after which the store's earlier contents are still there; a
 * store that checks what it reads throws {@link StoreDamage} (one) for data that fails its check,
 * never returning it as good.
 */
public interface PageStore extends io.machxp.pager.lib.PagerBackend {
    /**
     * The page at {@code offset} of {@code object}, or null if it was never written (all zeros).
     * The pager only reads the array (it sends it without a copy), so a store may return the
     * array it keeps, as long as it never changes it: a {@link #write} gives it a new one.
     */
    byte[] read(String object, long offset);

    /**
     * The version of the stored page: 0 if never written, else the version its last write gave.
     * Versions tell a page a kernel gives back after a pager restart from an older copy (see XP's
     * page versions), so they last as long as the pages do.
     */
    long version(String object, long offset);

    /** A stored page: its data (null if never written) and its version, read together. */
    record Copy(byte[] data, long version) {}

    /**
     * The page's data and version as one read ({@link #read}, {@link #version}): a store whose
     * writes can end between the two (a batch's end) overrides it so that they describe the same
     * write. This default reads one, then the other.
     */
    default Copy copy(String object, long offset) {
        byte[] data = read(object, offset);
        return new Copy(data, version(object, offset));
    }

    /**
     * Makes {@code page} (exactly one page) the stored contents, as {@code version}; durable when
     * this returns. The caller never changes {@code page} afterwards (no page array of the pager
     * changes once made), so a store may keep the array itself. A crash in the middle must leave the page readable at the old version or the new
     * one, never the new data under the old version ({@link FilePageStore} writes a second record first).
     */
    void write(String object, long offset, byte[] page, long version);

    /**
     * Writes from here to {@link #endBatch} may be made durable together (group commit): each is
     * durable once endBatch returns, a crash before leaving each page old or new. Store thread only.
     */
    default void beginBatch() {}

    /** Makes the writes since {@link #beginBatch} durable. */
    default void endBatch() {}

    /** What the holders' journal says of one futex: the kernel it was granted to, or {@link #DIED}. */
    record Holder(String object, long offset, String kernel) {}

    /** A journal entry of a futex whose holder died: its next grant must say owner_died. */
    String DIED = "";

    /**
     * The holders' journal: the futex at {@code offset} of {@code object} is checked out to kernel
     * {@code kernel} ({@link #DIED}: its holder died and its next owner is not told yet; null: it
     * is back at the pager). Durable as a page write is (at once, or at the end of the batch).
     */
    default void holder(String object, long offset, String kernel) {}

    /** The holders' journal as the last pager left it. */
    default java.util.List<Holder> holders() {
        return java.util.List.of();
    }

    /** Writes {@code page} as the next version of the stored page. */
    default void write(String object, long offset, byte[] page) {
        write(object, offset, page, version(object, offset) + 1);
    }

    /**
     * Whether the store holds what an earlier start of a pager left (its epoch was kept): kernels
     * may then still hold futexes and pages of that pager and come to reclaim them.
     */
    default boolean restarted() {
        return false;
    }

    /**
     * Whether the store's I/O may block (a disk, a library backend): then the pager runs it off
     * its core thread, writes on its store thread and page reads and unlocks on its page threads.
     * A store that answers from memory at once is called on the core thread.
     */
    default boolean blocking() {
        return persistent();
    }

    /**
     * Whether a first start on this store (not {@link #restarted}) still knows nothing of the
     * pagers before it: a state directory kept beside pages that outlived it (the library's
     * {@code stateDir}), which may be new or deleted while kernels of an earlier pager on the
     * address still hold futexes. Such a first start waits a lease, as a pager without a store,
     * unless told it starts fresh (xp-spec 9.2).
     */
    default boolean pastUnknownAtFirstStart() {
        return false;
    }

    /** Whether the pages outlive the pager (on disk): only then can kernels reclaim pages after a restart. */
    default boolean persistent() {
        return false;
    }

    /**
     * Keeps the lease this pager gives and answers the one the last pager on this store gave (0 if
     * none is known): a grace period must outlast the leases the old pager gave, not only its own.
     */
    default long swapLease(long leaseNanos) {
        return 0;
    }

    /**
     * As {@link #swapLease}, but keeps the longer of this pager's lease and the last one's, in one
     * write: a starting pager whose predecessor gave longer leases must never leave its own shorter
     * lease behind, even for an instant a crash could catch (the next pager's grace would be too
     * short for the kernels still holding the longer ones). A store that keeps its lease in one
     * place overrides it; this default writes twice and has that instant.
     */
    default long keepLongerLease(long leaseNanos) {
        long last = swapLease(leaseNanos);
        if (last > leaseNanos) {
            swapLease(last);
        }
        return last;
    }

    /**
     * The next epoch of the pager that uses this store: the high half of its fencing tokens, which
     * must grow from one start of a pager to the next, as an NFS server's boot verifier. This
     * default, for stores that do not survive a restart, is the time in seconds since 2024
     * ({@link #epochSecond}); a pager restarted within the second it started in gets the same
     * epoch, and its tokens then start at the millisecond of its start (PagerOptions#firstTokenAt).
     */
    default long nextEpoch() {
        return epochSecond(java.time.Instant.now());
    }

    /** The default epoch of a pager started at {@code now}: seconds since 2024-01-01 UTC, at least 1. */
    static long epochSecond(java.time.Instant now) {
        return Math.max(1, now.getEpochSecond() - 1_704_067_200L);
    }

    /** Releases files and the like; the store is not used afterwards. */
    @Override
    default void close() {}
}
