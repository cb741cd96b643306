package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One kernel's request for access to one page (memory_object_data_request or _data_unlock),
 * queued on its {@link PageRecord} and, once it is the page's current operation, the
 * memory_object_lock_request replies it still waits for.
 */
final class PageOperation {
    /** What a memory_object_lock_request sent for the operation asked the holder to do. */
    enum Change {
        /** lock_value VM_PROT_WRITE, no flush: the writer keeps a read-only copy. */
        DOWNGRADE,
        /** should_flush: the holder drops the page. */
        FLUSH
    }

    /** Null once the requester has left (session closed or object terminated): answer nobody. */
    KernelSession requester;
    /**
     * The id the kernel asked under (null: not known, an operation restored from a snapshot written
     * before it was kept, or the pager's own; 0 is an id like any other): the answer goes under it while it names the object
     * ({@link PageAnswers#answerId}).
     */
    final Integer objectId;
    /** Write access wanted (else a read-only copy). */
    final boolean write;
    /** A memory_object_data_unlock (else a data_request): the writer too gets an answer to it. */
    final boolean unlock;
    /** Holders sent a lock_request with reply, and what it asked; the operation waits for each. */
    final Map<KernelSession, Change> awaited = new LinkedHashMap<>();
    /** When those lock_requests went out, on the pager's clock (their answers' deadline counts from it). */
    long askedNanos;

    /**
     * What the store said for the answer, asked off the core thread ({@link PageOutput#pageEffect}):
     * null until it is back. The operation waits for it while {@link #fetching}.
     */
    Fetched fetched;
    boolean fetching;

    /**
     * The store's part of an answer: the backend's refusal of write access (or null), and the
     * pager's copy of the page (null if not needed, or if the store could not read it: then
     * {@code readFailed}).
     */
    record Fetched(RuntimeException refused, io.machxp.pager.object.MemoryObject.PageCopy copy,
            RuntimeException readFailed) {}

    PageOperation(KernelSession requester, Integer objectId, boolean write) {
        this(requester, objectId, write, false);
    }

    PageOperation(KernelSession requester, Integer objectId, boolean write, boolean unlock) {
        this(requester, objectId, write, unlock, false);
    }

    private PageOperation(KernelSession requester, Integer objectId, boolean write, boolean unlock, boolean recordDeaths) {
        this.requester = requester;
        this.objectId = objectId;
        this.write = write;
        this.unlock = unlock;
        this.recordDeaths = recordDeaths;
    }

    /**
     * The pager's own operation: once no kernel holds the page (its readers flushed; none if a
     * kernel writes it), dead kernels' owner_died is recorded in its futex words (xp-spec 8.7).
     */
    static PageOperation recordDeaths() {
        return new PageOperation(null, null, true, false, true);
    }

    /** The pager's own operation ({@link #recordDeaths()}): no requester, never answered. */
    final boolean recordDeaths;

    /**
     * For {@link #recordDeaths} only: a writer that holds the page when the operation's turn
     * comes is flushed too (set only when kernel ids or futex records run short, xp-spec 8.7;
     * kept in snapshots). Otherwise the recording is dropped while a kernel writes the page and
     * asked again when the writer gives it up.
     */
    boolean takeWriter;

    @Override
    public String toString() {
        return recordDeaths ? "the pager's recording of dead kernels' owner_died"
                : (write ? "write" : "read") + " access for " + requester;
    }
}
