package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.proto.xp.PagerToKernel;

/** What {@link PageCoherence} does to the world: the pager core's sending, refusing and logging. */
public interface PageOutput {
    /** Sends one XP message to a kernel. */
    void send(KernelSession to, PagerToKernel message);

    /** A message broke the protocol: log and count it; the caller changes nothing. */
    void refuse(KernelSession from, String what);

    /**
     * Makes {@code data}, which {@code from} gave back, the pager's copy of the page as
     * {@code version} at once (reads see it), and has the store write it off the core thread; a
     * failure is written again, and holds the keepalives of {@code from} until it is.
     */
    void storeWrite(KernelSession from, io.machxp.pager.object.MemoryObject object, long offset, byte[] data,
            long version, String what);

    /**
     * Keeps {@code data}, which {@code from} gave back for the page as {@code kernelVersion} (0:
     * the next one), when the page's version cannot be read: the page is not served until the
     * store, off the core thread, finds it newer than its copy and writes it (or older: it is
     * dropped); until then it counts as a failed write (written again; keepalives held). Data
     * kept unjudged already for the page stands for the pager's copy: data not newer than it is
     * not taken (false is returned, nothing changes).
     */
    boolean storeUnjudged(KernelSession from, io.machxp.pager.object.MemoryObject object, long offset, byte[] data,
            long kernelVersion, String what);

    /**
     * Runs {@code io} (a page's read from the store, or a library backend's unlock: I/O that may
     * block) off the core thread, in order with the other effects of page {@code key}, then hands
     * its result to {@code done} on the core thread, as an event.
     */
    <T> void pageEffect(PageKey key, java.util.function.Supplier<T> io, java.util.function.Consumer<T> done);

    /** The page store failed; {@code what} says which page and what follows from it. */
    void storeFailed(String what, RuntimeException e);

    /** The pager's clock, for when an awaited request went out. */
    long nanoTime();

    /** A lock_request with reply went to {@code to}: an answer is awaited (its deadline starts). */
    void awaiting(KernelSession to);

    /**
     * {@code to} owes the answer to a lock_request with reply asked at {@code askedNanos} while
     * {@code stillOwed} holds ({@code order}: the page record's, for equal times; {@code what}
     * names it): indexed for the answer deadline, so that its check need not walk the page records.
     */
    void owed(KernelSession to, long askedNanos, long order, java.util.function.BooleanSupplier stillOwed,
            java.util.function.Supplier<String> what);

    /**
     * {@code from} answered something awaited of it (a lock_completed, the data_return before it)
     * of the request sent at {@code askedNanos}.
     */
    void answered(KernelSession from, long askedNanos);

    /**
     * The core looked at {@code entries} entries of an index or walk that a kernel's message set off
     * (a range lock_completed, a terminate): a test's measure of the work ({@code PagerStats#walked}).
     */
    default void walked(long entries) {
    }

    /**
     * {@link SessionPages#settle} looked at {@code entries} entries (sessions indexed under a record,
     * queued operations) after a change to a page record: a test's measure of that work
     * ({@code PagerStats#settled}).
     */
    default void settled(long entries) {
    }
}
