package io.machxp.pager.lib;

import java.io.IOException;

/**
 * What a pager written with the pager library provides: where the pages of its memory objects
 * come from and go to, as the Hurd's libpager asks of its users (pager_read_page,
 * pager_write_page, pager_unlock_page). The library ({@link XpPager}) does the rest of XP:
 * sessions and leases, keeping each page coherent across kernels (one writer or many readers),
 * futexes with fencing tokens and priority inheritance, and the answers the spec requires.
 *
 * <p>Pages are named by the memory object's name and a page-aligned byte offset inside it, and
 * are one page long. No callback runs on the pager's core thread: {@code write} runs on its store
 * thread, one at a time in the order the pages came back; {@code read} and {@code unlock} run on
 * its page threads, one at a time and in order for one page, at once for different pages (and
 * alongside a write of another page), so a backend must be thread-safe. A callback that blocks
 * holds up the kernels waiting for that page (and, for a write, the writes after it), never the
 * others; the answer goes to the kernel when it returns.
 *
 * <pre>
 *  kernel faults on a page      -> read    (data_request: the data, or null for zeros)
 *  kernel wants to write a page -> unlock  (data_request for write, data_unlock; throw to refuse)
 *  kernel gives a dirty page    -> write   (data_return, or the pages released with a futex)
 * </pre>
 *
 * <p>A backend that must keep what the pager knows across its restarts (page versions, the futex
 * holders' journal, the epoch of its fencing tokens) implements the library's durable form of
 * this interface, {@link io.machxp.pager.store.PageStore}, as machxp's own stores do; any other
 * backend gets those kept in memory by the library, and a restarted pager then waits a lease
 * before granting anything (spec 9.2).
 */
public interface PagerBackend extends AutoCloseable {
    /**
     * The data of a page, for a kernel that asked for it.
     *
     * @return the page (a shorter array is padded with zeros), or null if it is all zeros
     * @throws IOException if it cannot be read: the kernel gets memory_object_data_error
     */
    byte[] read(String object, long offset) throws IOException;

    /**
     * New data for a page, which a kernel wrote and gave back. Durable, if the backend keeps its
     * pages on a disk, when this returns.
     *
     * @throws IOException if it cannot be written: logged as a store failure, and the page stays
     *     the pager's copy in memory (it is lost if the pager stops)
     */
    void write(String object, long offset, byte[] page) throws IOException;

    /**
     * A kernel is about to get write access to a page (it asked for it with data_request or
     * data_unlock): the moment to allocate space for it, or to refuse.
     *
     * @throws IOException to refuse: the kernel gets memory_object_data_error with its message
     */
    default void unlock(String object, long offset) throws IOException {}

    /** The pager stopped: release files and the like. */
    @Override
    default void close() {}
}
