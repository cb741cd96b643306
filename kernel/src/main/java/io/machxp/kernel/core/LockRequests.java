package io.machxp.kernel.core;

import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.List;

/**
 * The page cache's answer to memory_object_lock_request (Mach's {@code lock_request}; XP spec,
 * ranges 6.2): for each page of the range the kernel holds, the data goes back (data_return) if
 * the request says so, then the page is flushed, locked to read-only, or unlocked (write access
 * granted, the answer to a data_unlock); then one lock_completed for the whole range when the
 * pager asked for a reply, also for pages the kernel does not hold. The pages touched are pumped
 * after the reply: the faults waiting for them run. Part of the kernel core ({@link PageCache},
 * whose page operations it uses): same thread, no I/O of its own.
 *
 * <h2>Overview</h2>
 * <pre>
 *  per page of [offset, rangeEnd), resident:
 *    mapping taken back (the writes made through it count)
 *    writable, and flush or lock_value WRITE  -> not writable (futex words into the bytes)
 *    RETURN_ALL, or RETURN_DIRTY and dirty     -> data_return(kernel_copy = !flush)
 *    flush                                     -> dropped (handed away: its shared-memory slot kept)
 *    else lock_value WRITE                     -> READ
 *    else READ                                 -> READ_WRITE (a data_unlock answered; futex words back)
 *  not resident, neither flush nor lock nor reply -> a violation (write granted to a page not held)
 *  reply                                       -> one lock_completed(offset, length)
 *  then                                        -> each page touched is pumped
 * </pre>
 */
final class LockRequests {
    private final PageCache.Link link;
    private final PageCache pages;

    LockRequests(PageCache.Link link, PageCache pages) {
        this.link = link;
        this.pages = pages;
    }

    /** memory_object_lock_request: each page of its range, then one lock_completed (reply). */
    void onLockRequest(VmObject o, MemoryObjectLockRequest r) {
        long end = rangeEnd(o, r.getOffset(), r.getLength());
        List<VmPage> touched = new ArrayList<>();
        for (long off = r.getOffset(); off < end; off += o.pageSize) {
            VmPage p = lockPage(o, off, r);
            if (p != null) {
                touched.add(p);
            }
        }
        if (r.getReply()) {
            link.send(KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                    .setObjectId(o.objectId).setOffset(r.getOffset()).setLength(r.getLength())).build());
        }
        touched.forEach(pages::pump);
    }

    /**
     * Where a lock_request's range ends inside the object. {@code length} is a uint64 (0: one page,
     * as before ranges); a range that reaches past the object's end, also one whose offset + length
     * overflows, ends with the object: a flush to the end must flush every page it covers.
     */
    static long rangeEnd(VmObject o, long offset, long length) {
        long room = o.size - offset; // offset is inside the object
        return Long.compareUnsigned(length == 0 ? o.pageSize : length, room) >= 0 ? o.size
                : offset + (length == 0 ? o.pageSize : length);
    }

    /** One page of a lock_request; returns the page's slot if it has one (to pump after the reply). */
    private VmPage lockPage(VmObject o, long offset, MemoryObjectLockRequest r) {
        VmPage p = link.plants().lockRangePage(true, offset == r.getOffset()) ? o.page(offset) : null;
        if (p != null && p.resident()) {
            pages.unmap(p);
            boolean forbidWrite = link.plants().writeForbiddenByLockRequest(r.getShouldFlush() || forbidsWrite(r.getLockValue()));
            if (p.access == Access.READ_WRITE && forbidWrite) {
                pages.notWritable(p);
            }
            boolean giveBack = r.getShouldReturn() == ReturnPolicy.RETURN_ALL
                    || (r.getShouldReturn() == ReturnPolicy.RETURN_DIRTY && p.dirty);
            if (giveBack) {
                pages.dataReturn(p, !r.getShouldFlush());
            }
            if (r.getShouldFlush()) {
                pages.drop(p, true); // another kernel wants it: it may well come back soon
            } else if (forbidWrite) {
                p.access = Access.READ;
            } else if (p.access == Access.READ) {
                p.access = Access.READ_WRITE; // the answer to memory_object_data_unlock
                if (p.requested == Access.READ_WRITE) {
                    p.requested = Access.NONE;
                }
                PageWords.fromBytes(p);
            }
        } else if (!r.getShouldFlush() && !forbidsWrite(r.getLockValue()) && !r.getReply()) {
            link.violation("write access to a page the kernel does not hold", o.objectId, offset);
        }
        return p;
    }

    static boolean forbidsWrite(VmProt lockValue) {
        return (lockValue.getNumber() & VmProt.VM_PROT_WRITE_VALUE) != 0;
    }
}
