package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;

/**
 * Checks a page message names what it may before {@link PageCoherence} changes anything: an
 * object the kernel initialized, whole pages inside it, a page it holds. A message that promises
 * an answer (data_request, data_unlock) is answered with memory_object_data_error; any other is
 * refused (logged, counted) and no record is made for it. Pager core thread only.
 */
final class PageChecks {
    private final int pageSize;
    private final PageOutput out;
    private final PageTable table;

    PageChecks(int pageSize, PageOutput out, PageTable table) {
        this.pageSize = pageSize;
        this.out = out;
        this.table = table;
    }

    /**
     * The object of a request that promises an answer (data_request, data_unlock), or null: then
     * the kernel never initialized it, and is answered with memory_object_data_error.
     */
    MemoryObject answeredObject(KernelSession s, int objectId, long offset, long length) {
        MemoryObject o = s.objects.get(objectId); // answered as the protocol says: not refused
        if (o == null) {
            out.send(s, PageMessages.error(objectId, offset, length, "object id " + objectId + " is not initialized "
                    + "on this session (memory_object_init first; a terminated id is no longer initialized)"));
        }
        return o;
    }

    /** The record of a one-page range the kernel holds, or null (refused; no record is made). */
    PageRecord heldPage(KernelSession s, int objectId, long offset, long length, String routine) {
        MemoryObject o = objectOfOnePage(s, objectId, offset, length, routine);
        if (o == null) {
            return null;
        }
        PageRecord p = table.get(o.name(), offset);
        if (p == null || !p.holds(s)) {
            out.refuse(s, routine + " for " + new PageKey(o.name(), offset) + ", which it does not hold");
            return null;
        }
        return p;
    }

    /** The object, if the kernel initialized it and the range is one page inside it; else null (refused). */
    MemoryObject objectOfOnePage(KernelSession s, int objectId, long offset, long length, String routine) {
        MemoryObject o = object(s, objectId, routine);
        if (o != null && (length != pageSize || !pageOf(o, offset))) {
            refuseRange(s, o, offset, length, routine);
            return null;
        }
        return o;
    }

    /** Whether {@code offset} is the start of a page inside {@code o}. */
    /** The object of a message about whole pages inside it (several), or null: refused once. */
    MemoryObject objectOfRange(KernelSession s, int objectId, long offset, long length, String routine) {
        MemoryObject o = object(s, objectId, routine);
        if (o != null && (length <= 0 || length % pageSize != 0 || !pageOf(o, offset) || length > o.size() - offset)) {
            out.refuse(s, routine + " for range 0x" + Long.toHexString(offset) + "+0x" + Long.toHexString(length)
                    + ", which is not whole pages inside '" + o.name() + "' (size 0x" + Long.toHexString(o.size())
                    + ")");
            return null;
        }
        return o;
    }

    boolean pageOf(MemoryObject o, long offset) {
        return offset >= 0 && offset % pageSize == 0 && offset < o.size();
    }

    private MemoryObject object(KernelSession s, int objectId, String routine) {
        // an answer to a lock_request sent under an id the kernel terminated since (spec 5.3) still names the object
        boolean answer = routine.equals("memory_object_lock_completed") || routine.equals("memory_object_data_return");
        MemoryObject o = answer ? s.objectOfAnswer(objectId) : s.objects.get(objectId);
        if (o == null) {
            out.refuse(s, routine + " for object id " + objectId + ", which it never initialized");
        }
        return o;
    }

    private void refuseRange(KernelSession s, MemoryObject o, long offset, long length, String routine) {
        out.refuse(s, routine + " for range 0x" + Long.toHexString(offset) + "+0x" + Long.toHexString(length)
                + ", which is not one page inside '" + o.name() + "' (size 0x" + Long.toHexString(o.size()) + ")");
    }
}
