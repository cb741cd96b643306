package io.machxp.kernel.core;

import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The page cache's faults: a call that needs a page with an access the kernel does not hold waits
 * for it, and the kernel asks the pager (Mach's {@code page_lock} and {@code unlock_request}, per
 * {@link VmPage}). Part of the kernel core ({@link PageCache}, which installs the pages that come
 * and pumps them here): same thread, no I/O of its own.
 *
 * <h2>Overview</h2>
 * <pre>
 *  fault (READ)        not resident  -> memory_object_data_request(READ), wait
 *  fault (READ_WRITE)  not resident  -> memory_object_data_request(READ_WRITE), wait
 *                      read-only     -> memory_object_data_unlock(WRITE), wait
 *  fault, the pager lost             -> fails at once with the pager's error
 *  vm_read / vm_write of several      -> one memory_object_data_request for each run of absent
 *    pages                              pages not asked for yet ({@link #prefetch})
 *  page pumped (supplied, granted,    -> writable: the whenWritable hook first; then the waiting
 *    unlocked)                          faults its access allows run, in arrival order; then
 *                                       what the others need is asked for
 *  pager gone or page refused        -> every waiting fault fails ({@link #failWaiting})
 *  after a reclaim                   -> the request each page was waiting for, asked again
 * </pre>
 * One request per page is outstanding at a time ({@code VmPage.requested}); an answer with less
 * access than a waiting fault needs is asked again, with data_unlock, when the page is pumped.
 */
final class PageFaults {
    private final PageCache.Link link;
    private Consumer<VmPage> whenWritable = p -> { };

    PageFaults(PageCache.Link link) {
        this.link = link;
    }

    /**
     * Called with a writable page before the faults waiting for it resume, each time it is pumped
     * (the futex core serves a relinquish the page's return makes due: {@code FutexRelinquish}).
     */
    void whenWritable(Consumer<VmPage> hook) {
        this.whenWritable = hook;
    }

    /** After a reclaim: the data_request or data_unlock each page of {@code o} was waiting for, asked again. */
    void askAgain(VmObject o) {
        o.forEachPage(p -> {
            if (p.requested != Access.NONE) {
                p.requested = Access.NONE;
                request(p);
            }
        });
    }

    /**
     * Before a call that touches several pages: one data_request for each run of pages of
     * [from, to) that are absent and not asked for yet, with {@code want} (spec 6.2, ranges). The
     * faults then wait for those pages as for any request.
     */
    void prefetch(VmObject o, long from, long to, Access want) {
        if (link.pagerError(o.objectId) != null) {
            return;
        }
        long runStart = -1;
        long end = Math.min(to, o.size);
        for (long off = from - o.offsetInPage(from); runStart >= 0 || off < end; off += o.pageSize) {
            VmPage p = off < end ? o.slot(off) : null; // past the end: null, which ends the last run
            if (p != null && !p.resident() && p.requested == Access.NONE) {
                p.requested = want;
                runStart = runStart < 0 ? off : runStart;
            } else if (runStart >= 0) {
                VmProt prot = want == Access.READ_WRITE ? VmProt.VM_PROT_READ_WRITE : VmProt.VM_PROT_READ;
                link.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                        .setObjectId(o.objectId).setOffset(runStart).setLength(off - runStart)
                        .setDesiredAccess(prot)).build());
                runStart = -1;
            }
        }
    }

    /** Runs {@code fault} once the kernel holds the page of {@code offset} with {@code want}. */
    void withAccess(VmObject o, long offset, Access want, PageFault fault) {
        VmPage p = o.slot(offset);
        if (p.access.covers(want)) {
            fault.resume();
            return;
        }
        KernelError down = link.pagerError(o.objectId);
        if (down != null) {
            fault.fail(down);
            return;
        }
        p.waiting.add(new VmPage.Waiting(want, fault));
        request(p);
    }

    /** Runs the waiting faults the page's access allows, in order, then asks for what is missing. */
    void pump(VmPage p) {
        if (p.access == Access.READ_WRITE) {
            whenWritable.accept(p); // before any fault it wakes: a futex's own follow-up first
        }
        while (!p.waiting.isEmpty() && p.access.covers(p.waiting.peek().access())) {
            p.waiting.poll().fault().resume(); // may change the page: look again each time
        }
        request(p);
    }

    private void request(VmPage p) {
        if (p.requested != Access.NONE || p.waiting.isEmpty() || link.pagerError(p.objectId) != null) {
            return;
        }
        Access want = Access.READ;
        for (VmPage.Waiting w : p.waiting) {
            if (w.access() == Access.READ_WRITE) {
                want = Access.READ_WRITE;
            }
        }
        VmProt prot = want == Access.READ_WRITE ? VmProt.VM_PROT_READ_WRITE : VmProt.VM_PROT_READ;
        p.requested = want;
        if (p.resident()) {
            link.send(KernelToPager.newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder()
                    .setObjectId(p.objectId).setOffset(p.pageOffset).setLength(p.size)
                    .setDesiredAccess(VmProt.VM_PROT_WRITE)).build());
        } else {
            link.send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                    .setObjectId(p.objectId).setOffset(p.pageOffset).setLength(p.size)
                    .setDesiredAccess(prot)).build());
        }
    }

    /** Every waiting fault fails (the pager is gone or refused the page). */
    void failWaiting(VmPage p, KernelError error) {
        p.requested = Access.NONE;
        List<VmPage.Waiting> all = new ArrayList<>(p.waiting);
        p.waiting.clear();
        all.forEach(w -> w.fault().fail(error));
    }
}
