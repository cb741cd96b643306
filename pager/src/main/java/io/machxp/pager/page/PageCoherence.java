package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageReturns.Accepted;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Keeps every page coherent across the kernels that use it: one writer or many readers per page
 * (states in {@link PageRecord}), as Mach's NORMA shared memory did. The XP page messages of
 * {@link io.machxp.pager.core.PagerCore} come here. Pager core thread only; no I/O: what an
 * answer needs of the store (a page's data, a library backend's consent to write access) is an
 * effect run off the core thread, whose result comes back as an event ({@link PageOutput#pageEffect}).
 *
 * <h2>Operations</h2>
 * data_request and data_unlock become an operation on one page. One operation per page is in
 * progress at a time; the others wait in FIFO order and are judged on the state when their turn
 * comes. An operation first takes away what conflicts (lock_requests to the other holders), then
 * answers the requester: the table of what it sends is in {@link PageOperations}.
 * data_request with VM_PROT_NONE is a write (old kernels asked for everything that way);
 * data_unlock is always a write.
 *
 * <p>Data: data_return from a holder (dirty only from the writer) becomes the pager's copy; with
 * kernel_copy false the kernel stops holding the page. It never finishes an operation: only
 * lock_completed does, from a kernel the operation waits for. Pages given back with a futex are
 * data_returns without a kernel copy; the next owner of the futex gets those nobody holds or
 * asks for inside its futex_granted, as their writer. A kernel that leaves (terminate, closed
 * session) holds nothing any more, is waited for no more and its queued requests are dropped; an
 * operation it asked for finishes without an answer once the kernels it waits for have replied.
 *
 * <p>An operation keeps when its lock_requests went out; the core's answer deadline
 * ({@code AnswerDeadlines}) is told of each lock_request with reply as it goes out, with a test of
 * whether it is still owed ({@link PageOutput#owed}: the deadline finds the oldest a kernel owes
 * without walking the page records), and hears of each answer (a lock_completed awaited, a data_return of a page waiting for that kernel)
 * through {@link PageOutput#answered}. A kernel ended for an answer overdue is broken, then
 * forgotten when its lease ends, as above: only then does the operation go on without it.
 *
 * <p>Records ({@link PageTable}): a page has a record only while a kernel holds it, or an
 * operation is in progress or waits on it; an idle record is forgotten, since the page's data and
 * version are its object's.
 *
 * <p>Parts: {@link PageChecks} validates what a message names, {@link PageOperations} runs each
 * page's operations, {@link PageAnswers} answers an operation (with what it asks of the store off
 * the core thread), {@link PageReturns} takes pages coming back into the pager's copy,
 * {@link FutexPages} the pages that travel with futexes (and direct handoff's gate),
 * {@link PageReclaim} judges reclaims after a pager restart.
 *
 * <p>A message that breaks these rules is refused (logged, counted) and changes nothing; it is
 * checked whole before anything is changed (a refused message makes no record either). The one
 * exception: a well-formed return of stale data (not newer than the pager's copy) without a
 * kernel copy is refused as data, but the kernel holds the page no more: it has dropped it.
 */
public final class PageCoherence {
    private final int pageSize;
    private final PageOutput out;
    private final PageTable pages;
    private final PageChecks checks;
    private final PageReturns returns;
    private final PageReclaim reclaims;
    private final PageOperations operations;
    private final FutexPages futexPages;
    /** Supply pages precious, with reply, to kernels that know it (spec 6.10); off by default. */
    private boolean supplyPrecious;

    public PageCoherence(int pageSize, PageOutput out) {
        this.pageSize = pageSize;
        this.out = out;
        this.pages = new PageTable(out::settled);
        this.checks = new PageChecks(pageSize, out, pages);
        this.returns = new PageReturns(pageSize, out);
        this.reclaims = new PageReclaim(pageSize, out, pages, checks);
        this.operations = new PageOperations(pageSize, out, pages,
                r -> supplyPrecious && r.features.contains("precious"));
        this.futexPages = new FutexPages(out, pages, checks, returns, operations);
    }

    // ---- kernel -> pager ----------------------------------------------------------------------

    /**
     * One data_request may ask for the pages this many bytes may touch (MAX_REQUEST_BYTES / page
     * size + 1, and at least 2): those one vm_read or vm_write (1 MiB at most) touches when it
     * does not start on a page boundary, the most machxp's kernel asks for at once. The pager's
     * core answers a request page by page on the thread every kernel shares: one request of 20
     * bytes naming a whole 1 GiB object held every other kernel's messages for 4.7 s (262,144
     * pages; xp-spec A.27).
     */
    public static final long MAX_REQUEST_BYTES = 1 << 20;

    /** memory_object_data_request: one operation per page; a range outside the object is an error. */
    public void dataRequest(KernelSession s, MemoryObjectDataRequest r) {
        MemoryObject o = checks.answeredObject(s, r.getObjectId(), r.getOffset(), r.getLength());
        if (o == null) {
            return;
        }
        long offset = r.getOffset();
        long length = r.getLength();
        if (offset % pageSize != 0 || length <= 0 || length % pageSize != 0 || offset < 0
                || offset >= o.size() || length > o.size() - offset) {
            out.send(s, PageMessages.error(r.getObjectId(), offset, length, "range 0x" + Long.toHexString(offset)
                    + "+0x" + Long.toHexString(length) + " is not whole pages inside '" + o.name() + "' (size 0x"
                    + Long.toHexString(o.size()) + ")"));
            return;
        }
        long maxPages = Math.max(2, MAX_REQUEST_BYTES / pageSize + 1);
        if (length / pageSize > maxPages) {
            out.send(s, PageMessages.error(r.getObjectId(), offset, length, "a data_request of " + length / pageSize
                    + " pages; this pager answers at most " + maxPages + " pages (those 1 MiB may touch) in one "
                    + "data_request: ask for the range in parts"));
            return;
        }
        int access = r.getDesiredAccessValue();
        boolean write = access == VmProt.VM_PROT_NONE_VALUE || (access & VmProt.VM_PROT_WRITE_VALUE) != 0;
        operations.request(s, r.getObjectId(), o, offset, length, write);
    }

    /**
     * A kernel_keepalive of {@code s} arrives: returns what runs its answer once the page
     * operations of {@code s} that wait for the store now are no longer waiting for it
     * ({@link FetchBarrier}; xp-spec 4.2, 10.1: an answered keepalive is a barrier).
     */
    public java.util.function.Consumer<Runnable> keepaliveBarrier(KernelSession s) {
        FetchBarrier barrier = operations.fetchBarrier();
        FetchBarrier.Mark mark = barrier.mark(s);
        return answer -> barrier.after(mark, answer);
    }

    /** Whether pages go out precious, with reply, to kernels whose hello named "precious" (spec 6.10). */
    public void supplyPrecious(boolean on) {
        supplyPrecious = on;
    }

    /**
     * memory_object_supply_completed: the answer to a precious supply. A page the kernel did not
     * install stays the pager's (its store keeps every page), so an error is only logged; one
     * nobody asked for is refused.
     */
    public void supplyCompleted(KernelSession s, io.machxp.proto.xp.MemoryObjectSupplyCompleted c) {
        if (!supplyPrecious || !s.features.contains("precious")) {
            out.refuse(s, "memory_object_supply_completed: this pager asked for none");
        } else if (!c.getError().isEmpty()) {
            out.refuse(s, "memory_object_supply_completed at 0x" + Long.toHexString(c.getErrorOffset()) + ": "
                    + c.getError());
        }
    }

    /**
     * memory_object_data_unlock: write access for one page. It promises an answer, so a range that
     * is not one page inside the object is answered with memory_object_data_error (as data_request).
     */
    public void dataUnlock(KernelSession s, MemoryObjectDataUnlock u) {
        MemoryObject o = checks.answeredObject(s, u.getObjectId(), u.getOffset(), u.getLength());
        if (o == null) {
            return;
        }
        if (u.getLength() != pageSize || !checks.pageOf(o, u.getOffset())) {
            out.send(s, PageMessages.error(u.getObjectId(), u.getOffset(), u.getLength(), "range 0x"
                    + Long.toHexString(u.getOffset()) + "+0x" + Long.toHexString(u.getLength()) + " is not one page "
                    + "inside '" + o.name() + "' (size 0x" + Long.toHexString(o.size()) + ")"));
            return;
        }
        operations.submit(pages.record(o, u.getOffset()), new PageOperation(s, u.getObjectId(), true, true));
    }

    /**
     * memory_object_data_return: new data for the pager's copy, and perhaps access given back.
     * Well-formed but stale (dirty data from the writer, not newer than the pager's copy): the
     * data is refused, but with kernel_copy false the kernel holds the page no more, since it has
     * dropped it either way. Any other refusal (not held, dirty from a reader, not a page of
     * data) changes nothing.
     */
    public void dataReturn(KernelSession s, MemoryObjectDataReturn r) {
        PageRecord p = checks.heldPage(s, r.getObjectId(), r.getOffset(), pageSize, "memory_object_data_return");
        if (p == null) {
            return;
        }
        if (p.current != null && p.current.awaited.containsKey(s)) {
            out.answered(s, p.current.askedNanos); // the write-back before its lock_completed: progress
        }
        Accepted taken = returns.acceptReturn(s, p, r.getDirty(), r.getData(), r.getVersion(),
                "memory_object_data_return");
        if (taken != Accepted.REFUSED && !r.getKernelCopy()) {
            boolean wrote = p.writer == s;
            p.drop(s);
            pages.pruneIfIdle(p);
            if (wrote) {
                operations.writerGone(s, p);
            }
        } else if (taken == Accepted.TAKEN && r.getDirty() && p.writer == s) {
            copyTaken.gone(s, p.object, p.offset()); // kept (an msync, a write-back): its copy is the pager's now
        }
    }

    private WriterGone copyTaken = (writer, o, offset) -> { };

    /**
     * Who is told when the writer of a page returns its dirty data and keeps the page writable
     * (kernel_copy: an msync, a write-back before a release), the data taken: the pager's copy
     * is the writer's as of that return (the pager core's {@code DeathRecorder}, review deaths3 LOW-3).
     */
    public void onWriterCopyTaken(WriterGone w) {
        this.copyTaken = w;
    }

    /**
     * memory_object_lock_completed: a kernel did what the current operation asked of it; for a
     * range (to a kernel whose hello named "lock_ranges"), of each page's operation.
     */
    public void lockCompleted(KernelSession s, MemoryObjectLockCompleted c) {
        String routine = "memory_object_lock_completed";
        if (c.getLength() <= pageSize || !s.features.contains(LockRanges.FEATURE)) {
            MemoryObject o = checks.objectOfOnePage(s, c.getObjectId(), c.getOffset(), c.getLength(), routine);
            if (o != null && !operations.completed(s, o, c.getOffset())) {
                out.refuse(s, routine + " for " + new PageKey(o.name(), c.getOffset()) + ": a lock_completed nobody "
                        + "asked for");
            }
            return;
        }
        MemoryObject o = checks.objectOfRange(s, c.getObjectId(), c.getOffset(), c.getLength(), routine);
        if (o == null) {
            return;
        }
        // The pages of the range whose operation waits for this kernel, from its own index
        // (SessionPages): O(log n) and one step per page it completes. Before, every page of the
        // range, or every page record of every kernel if fewer, at each message.
        long end = c.getOffset() + c.getLength();
        List<Long> awaited = pages.sessions.awaitedIn(s, o.name(), c.getOffset(), end);
        out.walked(awaited.size());
        for (long at : awaited) {
            operations.completed(s, o, at);
        }
        long unasked = c.getLength() / pageSize - awaited.size();
        if (unasked > 0) {
            out.refuse(s, routine + " for 0x" + Long.toHexString(c.getOffset()) + "+0x"
                    + Long.toHexString(c.getLength()) + " of '" + o.name() + "': " + unasked
                    + " of its pages had no lock_request waiting for it");
        }
    }

    // ---- futexes (entry consistency) ----------------------------------------------------------

    /**
     * A page given back with a futex by its writer: a data_return without a kernel copy.
     *
     * @return whether it was taken (else refused or stale: the futex must not hand it on)
     */
    public boolean releasedWithFutex(KernelSession s, MemoryObject o, PageData d) {
        return futexPages.releasedWithFutex(s, o, d);
    }

    /**
     * The pages given back with a futex that nobody holds or asks for now, for the kernel the
     * futex is granted to: it becomes their writer.
     */
    public List<PageData> grantedWithFutex(KernelSession s, MemoryObject o, Collection<Long> offsets) {
        return futexPages.grantedWithFutex(s, o, offsets);
    }

    // ---- reclaim after a pager restart (PageReclaim) -----------------------------------------

    /**
     * A page a reconnecting kernel holds, or gave back ({@link PageReclaim#reclaim}): whether it was
     * taken. Data given back that cannot be judged (unversioned, the store has the page) is named
     * in {@code lost}.
     */
    public boolean reclaim(KernelSession s, MemoryObject o, io.machxp.proto.xp.ReclaimedPage r,
            java.util.Set<Long> named, java.util.List<String> lost) {
        return reclaims.reclaim(s, o, r, named, lost);
    }

    // ---- kernels leaving ----------------------------------------------------------------------

    /**
     * The kernel stops holding every page of {@code object} (null: of every object), is waited for
     * no more, and its queued requests are dropped. Unreturned dirty data is lost.
     */
    public void forget(KernelSession s, String object) {
        operations.forget(s, object);
    }

    /**
     * {@code s} will ask for nothing more (its stream broke) but keeps what it holds: its queued
     * requests go, and one in progress is no longer answered to it, so others do not wait for it.
     */
    public void cancelRequests(KernelSession s) {
        operations.cancelRequests(s);
    }

    // ---- deaths the pager records itself (xp-spec 8.7) ------------------------------------------

    /**
     * Records dead kernels' owner_died in the futex words of one page of the pager's copy, once
     * no kernel holds the page ({@link #recordDeathsWhenUnheld}); core thread.
     */
    @FunctionalInterface
    public interface DeathRecording {
        void record(MemoryObject o, long pageOffset);
    }

    /** Kernel {@code writer} gave up writing a page: the pager's copy may be the page again; core thread. */
    @FunctionalInterface
    public interface WriterGone {
        void gone(KernelSession writer, MemoryObject o, long pageOffset);
    }

    /** Who is told when a kernel gives up writing a page (the pager core's {@code DeathRecorder}). */
    public void onWriterGone(WriterGone w) {
        operations.onWriterGone(w);
    }

    /** Who records deaths in a page's futex words (the pager core's {@code DeathRecorder}). */
    public void onDeathRecording(DeathRecording r) {
        operations.onDeathRecording(r);
    }

    /**
     * The pager is to record deaths in the futex words of the page at {@code pageOffset}: at once
     * if nobody holds the page and nothing is in progress on it; not now if a kernel holds it
     * writable (its copy is the page: asked again later); else as an operation queued behind the
     * page's others, which flushes its readers first (a page the pager changes leaves no stale
     * copy behind) and records the deaths when they have answered, unless a writer came meanwhile.
     *
     * @return whether the recording was done at once
     */
    public boolean recordDeathsWhenUnheld(MemoryObject o, long pageOffset) {
        return recordDeaths(o, pageOffset, false);
    }

    /**
     * As {@link #recordDeathsWhenUnheld}, but a page held writable is taken back from its writer
     * too (flushed with its dirty data, then the deaths recorded): when kernel ids or futex
     * records run short, so that one kernel keeping a futex page writable cannot hold back the
     * ids of every dead kernel whose futexes are in that page (review indep-2 N4).
     */
    public boolean recordDeathsTakingTheWriter(MemoryObject o, long pageOffset) {
        return recordDeaths(o, pageOffset, true);
    }

    private boolean recordDeaths(MemoryObject o, long pageOffset, boolean takeFromWriter) {
        PageRecord p = pages.get(o.name(), pageOffset);
        if (p == null || p.idle()) {
            operations.deathRecording().record(o, pageOffset);
            return true;
        }
        if (p.writer == null || takeFromWriter) {
            operations.recordDeaths(p, takeFromWriter);
        }
        return false;
    }

    // ---- direct handoff ------------------------------------------------------------------------

    /**
     * Direct handoff (xp-spec 14): the futex's page at {@code offset} may travel from its writer
     * {@code from} straight to the futex's next holder; true (the page gated until
     * {@link #forwardSettled}) if {@code from} writes it and nothing is in progress on it. A request
     * for a gated page does not wait: it withdraws the forward's order first ({@link FutexPages}).
     */
    public boolean gate(KernelSession from, MemoryObject o, long offset) {
        return futexPages.gate(from, o, offset);
    }

    /**
     * Direct handoff: what withdraws the order to forward the futex whose page is at (object,
     * offset), at its holder, when a request for that gated page comes ({@link PageOperations#run}).
     */
    public interface GateWithdrawal {
        void withdraw(MemoryObject o, long offset);
    }

    /** Who withdraws a forward's order when its gated page is asked for (the pager's forwards). */
    public void onGatedRequest(GateWithdrawal w) {
        operations.onGatedRequest(w);
    }

    /**
     * The holder of a direct handoff's futex releases it (the gated page at {@code offset} may come
     * back inside the release), and the forward settles next in the same core event
     * ({@link #forwardSettled}): until then nothing runs on the page, so no request takes it first.
     */
    public void forwardSettling(MemoryObject o, long offset) {
        futexPages.forwardSettling(o, offset);
    }

    /**
     * The futex of a direct handoff is granted to {@code to} (null: to nobody it was forwarded to).
     * If its old holder let the page go (inside its release, or by leaving) and nobody else holds
     * it, {@code to} becomes its writer, since it may hold the copy forwarded to it: returned is the
     * page as the grant carries it (the pager's copy). Else null. Requests for the page go on at
     * {@link #forwardGranted}, which the release that settles the forward calls once it is done.
     */
    public PageData forwardSettled(MemoryObject o, long offset, KernelSession to) {
        return futexPages.forwardSettled(o, offset, to);
    }

    /**
     * The release that settled a forward ({@link #forwardSettled}) is done: the grant made for
     * {@code to} is sent (or its target's early release was taken instead), or, without a target,
     * the futex is granted to the next or free with its token and owner_died settled. The page's
     * requests, which waited so that no revoke reaches the target before the grant giving it the
     * page, and no death's recording prunes the futex's record before that, go on.
     */
    public void forwardGranted(MemoryObject o, long offset) {
        futexPages.forwardGranted(o, offset);
    }

    /**
     * Whether no kernel holds the page and nothing is in progress or waits on it: the pager's copy
     * is the page, and a change to it leaves no other copy behind.
     */
    public boolean unheld(String object, long pageOffset) {
        PageRecord p = pages.get(object, pageOffset);
        return p == null || p.idle();
    }

    /** The kernel that holds the page writable (its copy is the page), or null. */
    public KernelSession writer(String object, long pageOffset) {
        PageRecord p = pages.get(object, pageOffset);
        return p == null ? null : p.writer;
    }

    /** Whether {@code s} holds the page writable (its copy is the page). */
    public boolean writes(KernelSession s, String object, long pageOffset) {
        PageRecord p = pages.get(object, pageOffset);
        return p != null && p.writer == s;
    }

    /**
     * The pages {@code s} holds writable, in the table's order (the same on every replica): from
     * the pages it touched ({@link SessionPages}), not a walk of every page record.
     */
    public List<PageKey> writtenBy(KernelSession s) {
        List<PageKey> out = new ArrayList<>();
        for (PageRecord p : pages.touchedBy(s, null)) {
            if (p.writer == s) {
                out.add(p.key);
            }
        }
        return out;
    }

    /** Whether {@code s} holds any page, writable or read-only. */
    public boolean holdsAny(KernelSession s) {
        return pages.holdsAny(s);
    }

    /** How many pages {@code s} holds, writable or read-only. */
    public int heldBy(KernelSession s) {
        return pages.heldBy(s);
    }

    // ---- inspection ---------------------------------------------------------------------------

    /** How many page records the pager keeps. */
    public int recordCount() {
        return pages.count();
    }

    /** The kernel holding the page writable, or null; for tests and tools. */
    public String writerOf(String object, long offset) {
        return pages.writerOf(object, offset);
    }

    /** The kernels holding read-only copies of the page; for tests and tools. */
    public List<String> readersOf(String object, long offset) {
        return pages.readersOf(object, offset);
    }

    /** For status: each page some kernel holds, with its writer (or null) and readers. */
    public void forEachHeld(HeldPage visitor) {
        pages.forEachHeld(visitor);
    }

    /** The page records, for a snapshot ({@link PageImages}); between inputs only. */
    public List<io.machxp.proto.snapshot.PageImage> image() {
        return PageImages.write(pages);
    }

    /** Restores a snapshot's page records into this core's, which has none yet. */
    public void restore(List<io.machxp.proto.snapshot.PageImage> images, io.machxp.pager.object.ObjectCatalog catalog,
            java.util.function.LongFunction<KernelSession> sessions) {
        PageImages.read(pages, images, catalog, sessions, out.nanoTime());
        pages.reindex(); // each kernel's pages, not in the snapshot (SessionPages)
        for (var it = pages.iterator(); it.hasNext(); ) { // the answers owed, for the answer deadline
            PageRecord p = it.next();
            java.util.stream.Stream.concat(java.util.stream.Stream.ofNullable(p.current), p.queue.stream())
                    .forEach(op -> op.awaited.keySet().forEach(h -> PageOperations.owed(out, pages, h, p, op)));
        }
    }

    /** A page some kernel holds. */
    @FunctionalInterface
    public interface HeldPage {
        void page(PageKey key, KernelSession writer, java.util.List<KernelSession> readers);
    }
}
