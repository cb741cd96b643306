package io.machxp.pager.page;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.VmProt;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps every page coherent across the kernels that use it: one writer or many readers per page
 * (states in {@link PageRecord}), as Mach's NORMA shared memory did. The XP page messages of
 * {@link io.machxp.pager.core.PagerCore} come here. Pager core thread only; no I/O but the store.
 *
 * <h2>Operations</h2>
 * data_request and data_unlock become an operation on one page. One operation per page is in
 * progress at a time; the others wait in FIFO order and are judged on the state when their turn
 * comes. An operation first takes away what conflicts, then answers the requester:
 * <pre>
 *  read  by R: R holds it                 -> nothing (a futex grant got there first)
 *              writer W != R              -> lock_request(RETURN_DIRTY, lock WRITE, reply) to W;
 *                                            its lock_completed makes W a reader
 *              then                       -> data_supply / data_unavailable(lock WRITE); R reads
 *  write by R: R is the writer            -> nothing
 *              other holders H            -> lock_request(RETURN_DIRTY, flush, lock NONE, reply)
 *                                            to each; each lock_completed drops one
 *              then, R a reader           -> lock_request(RETURN_NONE, lock NONE, no reply)
 *                    R holds nothing      -> data_supply / data_unavailable(lock NONE)
 *                                            R is the only writer
 * </pre>
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
 * <p>Records: a page has a record only while a kernel holds it, or an operation is in progress or
 * waits on it; an idle record is forgotten, since the page's data and version are its object's.
 *
 * <p>A message that breaks these rules is refused (logged, counted) and changes nothing; it is
 * checked whole before anything is changed (a refused message makes no record either). The one
 * exception: a well-formed return of stale data (not newer than the pager's copy) without a
 * kernel copy is refused as data, but the kernel holds the page no more: it has dropped it.
 */
public final class PageCoherence {
    private final int pageSize;
    private final PageOutput out;
    private final Map<PageKey, PageRecord> pages = new HashMap<>();

    public PageCoherence(int pageSize, PageOutput out) {
        this.pageSize = pageSize;
        this.out = out;
    }

    // ---- kernel -> pager ----------------------------------------------------------------------

    /** memory_object_data_request: one operation per page; a range outside the object is an error. */
    public void dataRequest(KernelSession s, MemoryObjectDataRequest r) {
        MemoryObject o = answeredObject(s, r.getObjectId(), r.getOffset(), r.getLength(), "memory_object_data_request");
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
        int access = r.getDesiredAccessValue();
        boolean write = access == VmProt.VM_PROT_NONE_VALUE || (access & VmProt.VM_PROT_WRITE_VALUE) != 0;
        for (long page = offset; page < offset + length; page += pageSize) {
            submit(record(o, page), new PageOperation(s, write));
        }
    }

    /**
     * memory_object_data_unlock: write access for one page. It promises an answer, so a range that
     * is not one page inside the object is answered with memory_object_data_error (as data_request).
     */
    public void dataUnlock(KernelSession s, MemoryObjectDataUnlock u) {
        MemoryObject o = answeredObject(s, u.getObjectId(), u.getOffset(), u.getLength(), "memory_object_data_unlock");
        if (o == null) {
            return;
        }
        if (u.getLength() != pageSize || !pageOf(o, u.getOffset())) {
            out.send(s, PageMessages.error(u.getObjectId(), u.getOffset(), u.getLength(), "range 0x"
                    + Long.toHexString(u.getOffset()) + "+0x" + Long.toHexString(u.getLength()) + " is not one page "
                    + "inside '" + o.name() + "' (size 0x" + Long.toHexString(o.size()) + ")"));
            return;
        }
        submit(record(o, u.getOffset()), new PageOperation(s, true));
    }

    /**
     * memory_object_data_return: new data for the pager's copy, and perhaps access given back.
     * Well-formed but stale (dirty data from the writer, not newer than the pager's copy): the
     * data is refused, but with kernel_copy false the kernel holds the page no more, since it has
     * dropped it either way. Any other refusal (not held, dirty from a reader, not a page of
     * data) changes nothing.
     */
    public void dataReturn(KernelSession s, MemoryObjectDataReturn r) {
        PageRecord p = heldPage(s, r.getObjectId(), r.getOffset(), pageSize, "memory_object_data_return");
        if (p == null) {
            return;
        }
        Accepted taken = acceptReturn(s, p, r.getDirty(), r.getData(), r.getVersion(), "memory_object_data_return");
        if (taken != Accepted.REFUSED && !r.getKernelCopy()) {
            p.drop(s);
            pruneIfIdle(p);
        }
    }

    /** memory_object_lock_completed: a kernel did what the current operation asked of it. */
    public void lockCompleted(KernelSession s, MemoryObjectLockCompleted c) {
        MemoryObject o = objectOfOnePage(s, c.getObjectId(), c.getOffset(), c.getLength(),
                "memory_object_lock_completed");
        if (o == null) {
            return;
        }
        PageRecord p = pages.get(new PageKey(o.name(), c.getOffset()));
        PageOperation op = p == null ? null : p.current;
        PageOperation.Change change = op == null ? null : op.awaited.remove(s);
        if (change == null) {
            out.refuse(s, "memory_object_lock_completed for " + new PageKey(o.name(), c.getOffset())
                    + ": a lock_completed nobody asked for");
            return;
        }
        if (change == PageOperation.Change.FLUSH) {
            p.drop(s);
        } else {
            p.downgrade(s);
        }
        run(p);
        pruneIfIdle(p);
    }

    // ---- futexes (entry consistency) ----------------------------------------------------------

    /**
     * A page given back with a futex by its writer: a data_return without a kernel copy.
     *
     * @return whether it was taken (else refused: the futex must not hand it on)
     */
    public boolean releasedWithFutex(KernelSession s, MemoryObject o, PageData d) {
        String routine = "memory_object_futex_released";
        if (!pageOf(o, d.getOffset())) {
            out.refuse(s, routine + " with a page at 0x" + Long.toHexString(d.getOffset())
                    + ", which is not a page of '" + o.name() + "'");
            return false;
        }
        PageRecord p = pages.get(new PageKey(o.name(), d.getOffset()));
        if (p == null || p.writer != s) {
            out.refuse(s, routine + " with " + new PageKey(o.name(), d.getOffset())
                    + ", which it does not hold for writing");
            return false;
        }
        Accepted taken = acceptReturn(s, p, d.getDirty(), d.getData(), d.getVersion(), routine);
        if (taken == Accepted.REFUSED) {
            return false;
        }
        p.drop(s); // taken, or stale: as a data_return without a kernel copy, the kernel holds it no more
        pruneIfIdle(p); // a grant of the futex makes it again, to hand it on
        return taken == Accepted.TAKEN;
    }

    /**
     * The pages given back with a futex that nobody holds or asks for now, for the kernel the
     * futex is granted to: it becomes their writer.
     */
    public List<PageData> grantedWithFutex(KernelSession s, MemoryObject o, Collection<Long> offsets) {
        List<PageData> granted = new ArrayList<>();
        for (long offset : offsets) {
            PageRecord p = record(o, offset); // pruned when it was given back: made again
            if (!p.idle()) {
                continue;
            }
            PageData page = read(p);
            if (page == null) {
                pruneIfIdle(p);
                continue;
            }
            p.makeWriter(s);
            granted.add(page);
        }
        return granted;
    }

    // ---- reclaim after a pager restart --------------------------------------------------------

    /**
     * A page a reconnecting kernel holds, or gave back without knowing whether the pager took it
     * ({@code named}: the pages of the object its reclaim named before; a page named twice is
     * refused, and not held, whatever the entries said).
     * Data newer than the pager's copy becomes the copy (a return lost in the crash); then the
     * kernel holds the page with the access it says, unless that conflicts with what others
     * reclaimed or its copy is older than the pager's: then it is refused and the kernel is told
     * to drop the page (the pager's coherence is kept whatever a kernel says).
     */
    public void reclaim(KernelSession s, MemoryObject o, io.machxp.proto.xp.ReclaimedPage r,
            java.util.Set<Long> named) {
        String routine = "a reclaim";
        if (!pageOf(o, r.getOffset())) {
            out.refuse(s, routine + " of a page at 0x" + Long.toHexString(r.getOffset()) + ", which is not a page of '"
                    + o.name() + "'");
            return;
        }
        PageRecord p = record(o, r.getOffset());
        boolean write = r.getAccess() == VmProt.VM_PROT_READ_WRITE;
        boolean held = write || r.getAccess() == VmProt.VM_PROT_READ;
        boolean twice = !named.add(p.offset());
        if (twice) {
            p.drop(s); // whatever an earlier entry said: the kernel is told to drop it
        }
        String conflict = !held && r.getAccess() != VmProt.VM_PROT_NONE ? "access " + r.getAccess()
                + " is not NONE, READ or READ_WRITE"
                : twice ? "it names the page twice"
                : p.writer != null && p.writer != s ? "kernel " + p.writer.kernelName + " holds it writable"
                : write && !p.holdersExcept(s).isEmpty() ? "other kernels hold it"
                : !r.getData().isEmpty() && r.getData().size() != pageSize ? "its data is " + r.getData().size()
                        + " bytes; a page is " + pageSize
                : null;
        long stored = 0;
        if (conflict == null) {
            try {
                stored = o.version(p.offset());
            } catch (UncheckedIOException e) {
                out.storeFailed("the version of " + p + " cannot be read to judge the reclaim of " + s, e);
                conflict = "the pager cannot read the page's version";
            }
        }
        if (conflict == null && !r.getData().isEmpty() && r.getVersion() > stored) {
            out.storeWrite(o, p.offset(), r.getData().toByteArray(), r.getVersion(), // its return was lost in the crash
                    "the data " + s + " reclaimed for " + p + " is kept in memory only");
        } else if (conflict == null && held && r.getVersion() < stored) {
            conflict = "its copy (version " + r.getVersion() + ") is older than the pager's (version " + stored + ")";
        }
        if (conflict != null) {
            out.refuse(s, routine + " of " + p + ": " + conflict + (held ? "; the kernel is told to drop it" : ""));
            if (held) {
                p.drop(s); // an earlier entry of the same reclaim may have named it: the kernel holds nothing now
                out.send(s, PageMessages.discard(s.objectIdOf(o.name()), p.offset(), pageSize));
            }
            pruneIfIdle(p);
            return;
        }
        if (!held) {
            pruneIfIdle(p);
            return; // only data given back
        }
        if (write) {
            p.makeWriter(s);
        } else {
            p.addReader(s);
        }
    }

    // ---- kernels leaving ----------------------------------------------------------------------

    /**
     * The kernel stops holding every page of {@code object} (null: of every object), is waited for
     * no more, and its queued requests are dropped. Unreturned dirty data is lost.
     */
    public void forget(KernelSession s, String object) {
        for (var it = pages.values().iterator(); it.hasNext(); ) {
            PageRecord p = it.next();
            if (object != null && !p.key.object().equals(object)) {
                continue;
            }
            p.drop(s);
            withdraw(p, s);
            if (p.current != null) {
                p.current.awaited.remove(s);
            }
            run(p);
            if (p.idle()) {
                it.remove();
            }
        }
    }

    // ---- operations ---------------------------------------------------------------------------

    private void submit(PageRecord p, PageOperation op) {
        p.queue.add(op);
        run(p);
        pruneIfIdle(p);
    }

    /**
     * Forgets the record of a page nobody holds, asks for or is asked about: its data and version
     * are the object's (its store's), so a record made again later starts from the same state.
     */
    private void pruneIfIdle(PageRecord p) {
        if (p.idle()) {
            pages.remove(p.key, p);
        }
    }

    /** Advances the page's operations until one waits for lock_completed or none is left. */
    private void run(PageRecord p) {
        while (true) {
            if (p.current == null) {
                p.current = p.queue.poll();
                if (p.current == null) {
                    return;
                }
            }
            PageOperation op = p.current;
            if (!op.awaited.isEmpty()) {
                return;
            }
            if (op.requester != null && revoke(p, op)) {
                return;
            }
            if (op.requester != null) {
                answer(p, op);
            }
            p.current = null;
        }
    }

    /** Sends the lock_requests that must be completed before {@code op} can be answered. */
    private boolean revoke(PageRecord p, PageOperation op) {
        KernelSession r = op.requester;
        if (op.write) {
            for (KernelSession h : p.holdersExcept(r)) {
                op.awaited.put(h, PageOperation.Change.FLUSH);
                out.send(h, PageMessages.flush(h.objectIdOf(p.key.object()), p.offset(), pageSize));
            }
        } else if (p.writer != null && p.writer != r) {
            op.awaited.put(p.writer, PageOperation.Change.DOWNGRADE);
            out.send(p.writer, PageMessages.downgrade(p.writer.objectIdOf(p.key.object()), p.offset(), pageSize));
        }
        return !op.awaited.isEmpty();
    }

    /**
     * Gives the requester the access it asked for; nothing if it has it already. The answer names
     * the object by the id the requester has for it now: it may have terminated the id it asked
     * with meanwhile (and kept the object under another), and may even use that id for another
     * object by now.
     */
    private void answer(PageRecord p, PageOperation op) {
        KernelSession r = op.requester;
        if (!op.write) {
            if (!p.holds(r) && supply(p, op, VmProt.VM_PROT_WRITE)) {
                p.addReader(r);
            }
        } else if (p.writer != r) {
            if (p.readers.contains(r)) {
                p.makeWriter(r);
                out.send(r, PageMessages.allowWrite(r.objectIdOf(p.key.object()), p.offset(), pageSize));
            } else if (supply(p, op, VmProt.VM_PROT_NONE)) {
                p.makeWriter(r);
            }
        }
    }

    private boolean supply(PageRecord p, PageOperation op, VmProt lockValue) {
        int objectId = op.requester.objectIdOf(p.key.object());
        byte[] data;
        long version;
        try {
            data = p.object.page(p.offset());
            version = p.object.version(p.offset());
        } catch (UncheckedIOException e) {
            out.storeFailed(p + " cannot be read for " + op.requester + ", which gets data_error", e);
            out.send(op.requester, PageMessages.error(objectId, p.offset(), pageSize,
                    "the pager cannot read " + p + " from its store: " + e.getMessage()));
            return false;
        }
        out.send(op.requester, PageMessages.supply(objectId, p.offset(), pageSize, data, version, lockValue));
        return true;
    }

    // ---- data ---------------------------------------------------------------------------------

    /** What became of a page coming back from a kernel. */
    private enum Accepted {
        /** Stored if dirty (or nothing to store). */
        TAKEN,
        /** Well-formed, from the writer, but not newer than the pager's copy: the data is not taken. */
        STALE,
        /** It broke the rules: nothing changes. */
        REFUSED
    }

    /**
     * Checks a page coming back from {@code s} and stores it if dirty, as {@code version} (0: the
     * next one). Dirty data no newer than the pager's copy is refused as STALE: it was taken
     * already (a return the kernel gave again after a restart) or is stale.
     */
    private Accepted acceptReturn(KernelSession s, PageRecord p, boolean dirty, ByteString data, long version,
            String routine) {
        if (!p.holds(s)) {
            out.refuse(s, routine + " for " + p + ", which it does not hold");
            return Accepted.REFUSED;
        }
        if (!dirty) {
            return Accepted.TAKEN;
        }
        if (p.writer != s) {
            out.refuse(s, routine + " with dirty data for " + p + ", which it holds read-only");
            return Accepted.REFUSED;
        }
        if (data.size() != pageSize) {
            out.refuse(s, routine + " with " + data.size() + " bytes for " + p + "; a page is " + pageSize);
            return Accepted.REFUSED;
        }
        try {
            long stored = p.object.version(p.offset());
            if (version != 0 && version <= stored) {
                out.refuse(s, routine + " with version " + version + " of " + p + ", which is not newer than the "
                        + "pager's copy (version " + stored + "); the data is not taken");
                return Accepted.STALE;
            }
            out.storeWrite(p.object, p.offset(), data.toByteArray(), version == 0 ? stored + 1 : version,
                    "the data " + s + " returned for " + p + " is kept in memory only and will not survive a "
                    + "pager restart");
        } catch (UncheckedIOException e) {
            out.storeFailed("the version of " + p + " cannot be read; the data " + s + " returned is not taken", e);
        }
        return Accepted.TAKEN;
    }

    /** The pager's copy of the page (zeros if it has none) with its version; null if the store fails. */
    private PageData read(PageRecord p) {
        try {
            byte[] data = p.object.page(p.offset());
            return PageData.newBuilder().setOffset(p.offset()).setData(ByteString.copyFrom(data != null ? data
                    : new byte[pageSize])).setVersion(p.object.version(p.offset())).build();
        } catch (UncheckedIOException e) {
            out.storeFailed(p + " cannot be read; it is not handed on with its futex", e);
            return null;
        }
    }

    // ---- validation ---------------------------------------------------------------------------

    private MemoryObject object(KernelSession s, int objectId, String routine) {
        MemoryObject o = s.objects.get(objectId);
        if (o == null) {
            out.refuse(s, routine + " for object id " + objectId + ", which it never initialized");
        }
        return o;
    }

    /**
     * The object of a request that promises an answer (data_request, data_unlock), or null: then
     * the kernel never initialized it, and is answered with memory_object_data_error.
     */
    private MemoryObject answeredObject(KernelSession s, int objectId, long offset, long length, String routine) {
        MemoryObject o = s.objects.get(objectId); // answered as the protocol says: not refused
        if (o == null) {
            out.send(s, PageMessages.error(objectId, offset, length, "object id " + objectId + " is not initialized "
                    + "on this session (memory_object_init first; a terminated id is no longer initialized)"));
        }
        return o;
    }

    /** The record of a one-page range the kernel holds, or null (refused; no record is made). */
    private PageRecord heldPage(KernelSession s, int objectId, long offset, long length, String routine) {
        MemoryObject o = objectOfOnePage(s, objectId, offset, length, routine);
        if (o == null) {
            return null;
        }
        PageRecord p = pages.get(new PageKey(o.name(), offset));
        if (p == null || !p.holds(s)) {
            out.refuse(s, routine + " for " + new PageKey(o.name(), offset) + ", which it does not hold");
            return null;
        }
        return p;
    }

    /** The object, if the kernel initialized it and the range is one page inside it; else null (refused). */
    private MemoryObject objectOfOnePage(KernelSession s, int objectId, long offset, long length, String routine) {
        MemoryObject o = object(s, objectId, routine);
        if (o != null && (length != pageSize || !pageOf(o, offset))) {
            refuseRange(s, o, offset, length, routine);
            return null;
        }
        return o;
    }

    private void refuseRange(KernelSession s, MemoryObject o, long offset, long length, String routine) {
        out.refuse(s, routine + " for range 0x" + Long.toHexString(offset) + "+0x" + Long.toHexString(length)
                + ", which is not one page inside '" + o.name() + "' (size 0x" + Long.toHexString(o.size()) + ")");
    }

    private boolean pageOf(MemoryObject o, long offset) {
        return offset >= 0 && offset % pageSize == 0 && offset < o.size();
    }

    private PageRecord record(MemoryObject o, long offset) {
        return pages.computeIfAbsent(new PageKey(o.name(), offset), k -> new PageRecord(o, offset));
    }

    /**
     * {@code s} will ask for nothing more (its stream broke) but keeps what it holds: its queued
     * requests go, and one in progress is no longer answered to it, so others do not wait for it.
     */
    public void cancelRequests(KernelSession s) {
        for (var it = pages.values().iterator(); it.hasNext(); ) {
            PageRecord p = it.next();
            if (withdraw(p, s)) {
                run(p);
                if (p.idle()) {
                    it.remove();
                }
            }
        }
    }

    /** {@code s}'s requests for the page go: queued ones, and the answer of one in progress. */
    private static boolean withdraw(PageRecord p, KernelSession s) {
        boolean changed = p.queue.removeIf(op -> op.requester == s);
        if (p.current != null && p.current.requester == s) {
            p.current.requester = null;
            changed = true;
        }
        return changed;
    }

    /** Whether {@code s} holds any page, writable or read-only. */
    public boolean holdsAny(KernelSession s) {
        for (PageRecord p : pages.values()) {
            if (p.holds(s)) {
                return true;
            }
        }
        return false;
    }

    // ---- inspection ---------------------------------------------------------------------------

    /** How many page records the pager keeps. */
    public int recordCount() {
        return pages.size();
    }

    /** The kernel holding the page writable, or null; for tests and tools. */
    public String writerOf(String object, long offset) {
        PageRecord p = pages.get(new PageKey(object, offset));
        return p == null || p.writer == null ? null : p.writer.kernelName;
    }

    /** The kernels holding read-only copies of the page; for tests and tools. */
    public List<String> readersOf(String object, long offset) {
        PageRecord p = pages.get(new PageKey(object, offset));
        return p == null ? List.of() : p.readers.stream().map(s -> s.kernelName).toList();
    }

    /** For status: each page some kernel holds, with its writer (or null) and readers. */
    public void forEachHeld(HeldPage visitor) {
        for (PageRecord p : pages.values()) {
            if (p.writer != null || !p.readers.isEmpty()) {
                visitor.page(p.key, p.writer, java.util.List.copyOf(p.readers));
            }
        }
    }

    /** A page some kernel holds. */
    @FunctionalInterface
    public interface HeldPage {
        void page(PageKey key, KernelSession writer, java.util.List<KernelSession> readers);
    }
}
