package io.machxp.kernel.core;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * The kernel's page cache: which pages of which objects it holds, with which access, and how it
 * gets more (Mach's {@code page_lock} and {@code unlock_request}, per {@link VmPage}). Part of the
 * kernel core: same thread, no I/O of its own. Its parts: {@link PageFaults} (the faults and the
 * requests for pages), {@link LockRequests} (lock_request's answer), {@link PageReturns} (the
 * pages given back: data_return, a futex's release); it keeps the resident pages, their arrival
 * (install), eviction and departure (drop, forget), and the core's access to their bytes.
 *
 * <h2>Overview</h2>
 * <pre>
 *  fault (READ)        not resident  -> memory_object_data_request(READ), wait
 *  fault (READ_WRITE)  not resident  -> memory_object_data_request(READ_WRITE), wait
 *                      read-only     -> memory_object_data_unlock(WRITE), wait ({@link PageFaults})
 *  vm_read / vm_write of several      -> one memory_object_data_request for each run of absent
 *    pages                              pages not asked for yet ({@link #prefetch})
 *  data_supply / data_unavailable    -> resident; access = all but lock_value; waiting faults run;
 *                                       a precious page is marked so (spec 6.10)
 *  lock_request (one page or a       -> per page: return (data_return), flush, or lock to
 *    range)                             read-only, or unlock (lock_value NONE: write granted);
 *                                       one lock_completed for the range when asked (reply), also
 *                                       for pages it does not hold ({@link LockRequests})
 *  eviction (more than maxResident)  -> data_return(kernel_copy = false), page dropped
 *                                       ({@link PageReturns}, as msync, a futex's release, terminate)
 * </pre>
 * A precious page leaves only with its data: every data_return of it carries the page, also clean.
 * One request per page is outstanding at a time; faults wait in arrival order and each runs only
 * when the page has the access it needs at that moment.
 *
 * <p>The futex words. A live futex keeps its word in its {@link FutexEntry}, not in the page's
 * bytes; whenever the page stops being writable here the word goes into the bytes, and comes back
 * when write access does ({@link PageWords}).
 *
 * <p>Versions. Each page carries the pager's version of its contents; a dirty page leaving the
 * kernel is one version more, and is kept until the pager has surely taken it
 * ({@link RetainedReturns}). After a reclaim, the request each page was waiting for is asked
 * again.
 *
 * <p>Mapped pages. After the core has served a vm_read or vm_write of a resident page, it maps
 * the page ({@link io.machxp.kernel.vm.PageMapping}) and in-process tasks copy to and from it on
 * their own threads, except at futex words. Before the core touches the page's bytes itself, or
 * lowers its access, or sends it away, it takes the mapping back ({@link #unmap}) without waiting
 * for accesses under way: each of their writes is in the bytes the core keeps or is refused to
 * its caller, and those that landed count as the page's change. The one exception is a futex word
 * ({@link PageWords}): accesses never touch one, since a page's futex
 * entries are never removed and {@code VmPage.futex} takes the mapping back before adding one.
 */
final class PageCache {
    /** What kernel_hello says this kernel understands of Mach's optional routines (XP spec 6.10-6.12). */
    static final List<String> FEATURES = List.of("precious", "lock_ranges", "change_attributes");

    /** The core's side: how to send, and whether the pager is still there. */
    interface Link {
        void send(KernelToPager message);

        /** Null while the kernel has its pager, else the error every fault gets. */
        KernelError pagerError(int objectId);

        void violation(String what, int objectId, long offset);

        /**
         * With {@code --max-pages}: at most {@code room} slots (the bound less the resident pages)
         * stay kept for pages handed away in the session's page files
         * (SharedMemory#capKept); nothing without shared memory.
         */
        default void capKept(int room) {
        }

        /** Bugs planted for tests ({@link KernelPlants}); none by default. */
        default KernelPlants plants() {
            return KernelPlants.NONE;
        }
    }

    private final Link link;
    private final RetainedReturns returns;
    /** memory_object_lock_request's answer, page by page. */
    private final LockRequests lockRequests;
    /** The faults waiting for pages, and the requests that ask for them. */
    private final PageFaults faults;
    /** The pages given back on the kernel's own initiative (data_return, a futex's release). */
    private final PageReturns pageReturns;
    private final int maxResident;
    private final ArrayDeque<VmPage> residentOrder = new ArrayDeque<>();
    private int resident;
    private long writes;

    /** Pages resident now (core thread; a gauge read elsewhere sees a recent value). */
    public int residentCount() {
        return resident;
    }

    /** @param maxResident evict beyond this many resident pages; 0 = no limit */
    PageCache(Link link, RetainedReturns returns, int maxResident) {
        this.link = link;
        this.returns = returns;
        this.maxResident = maxResident;
        this.lockRequests = new LockRequests(link, this);
        this.faults = new PageFaults(link);
        this.pageReturns = new PageReturns(link, returns, this);
    }

    /** A sequence number that grows with every change to page contents made by this kernel. */
    long writeSequence() {
        return writes;
    }

    // ---- faults (PageFaults) ------------------------------------------------------------------

    /**
     * Called with a writable page before the faults waiting for it resume, each time it is pumped
     * (the futex core serves a relinquish the page's return makes due: {@code FutexRelinquish}).
     */
    void whenWritable(Consumer<VmPage> hook) {
        faults.whenWritable(hook);
    }

    /** After a reclaim: the data_request or data_unlock each page of {@code o} was waiting for, asked again. */
    void askAgain(VmObject o) {
        faults.askAgain(o);
    }

    /** Before a call that touches several pages: one data_request per run of absent pages not asked for yet. */
    void prefetch(VmObject o, long from, long to, Access want) {
        faults.prefetch(o, from, to, want);
    }

    /** Runs {@code fault} once the kernel holds the page of {@code offset} with {@code want}. */
    void withAccess(VmObject o, long offset, Access want, PageFault fault) {
        faults.withAccess(o, offset, want, fault);
    }

    /** Runs the waiting faults the page's access allows, in order, then asks for what is missing. */
    void pump(VmPage p) {
        faults.pump(p);
    }

    /** Every waiting fault fails (the pager is gone or refused the page). */
    void failWaiting(VmPage p, KernelError error) {
        faults.failWaiting(p, error);
    }

    // ---- messages from the pager --------------------------------------------------------------

    /**
     * memory_object_data_supply / _data_unavailable for one page.
     *
     * @return false if the kernel already held the page (nothing changed)
     */
    boolean onSupply(VmObject o, long pageOffset, byte[] data, VmProt lockValue, long version, boolean precious) {
        VmPage p = o.slot(pageOffset);
        if (p.resident()) {
            link.violation("page contents for a page the kernel already holds", o.objectId, pageOffset);
            return false;
        }
        install(p, data, LockRequests.forbidsWrite(lockValue) ? Access.READ : Access.READ_WRITE, version);
        p.precious = precious;
        pump(p);
        evictIfNeeded();
        capKept(p);
        return true;
    }

    /** A page that came with memory_object_futex_granted, writable; the caller pumps it. */
    VmPage installGranted(VmObject o, PageData page) {
        VmPage p = o.slot(page.getOffset());
        if (p.resident()) {
            link.violation("a page granted with a futex that the kernel already holds", o.objectId, page.getOffset());
            return null;
        }
        install(p, page.getData().toByteArray(), Access.READ_WRITE, page.getVersion());
        p.dirty = page.getDirty(); // a page forwarded by its last writer (direct handoff): newer than the pager's
        return p;
    }

    /** Runs what waits for a page installed with {@link #installGranted}. */
    void resume(VmPage p) {
        pump(p);
        evictIfNeeded();
        capKept(p);
    }

    /**
     * With {@code --max-pages}: the shared-memory slots kept for pages handed away, in every page
     * file of the session, and the resident pages stay within the bound together (a kept slot
     * holds a page's memory as a resident page does; SharedMemory#capKept). After each page that
     * comes (once evictions made room) or leaves, whatever its object: a page of an object without
     * a page file takes room from the kept slots as any other (review S4 of shm-pool).
     */
    private void capKept(VmPage p) {
        if (maxResident > 0) {
            link.capKept(maxResident - resident);
        }
    }

    private void install(VmPage p, byte[] data, Access access, long version) {
        p.newerElsewhere |= version != 0 && version > p.version;
        p.data = io.machxp.kernel.vm.PageContents.of(data);
        p.access = access;
        p.dirty = false;
        p.precious = false;
        p.version = version;
        returns.supplied(p, version);
        // This answers the request out for the page, whatever access it gives: a write fault
        // answered with a read-only copy asks again, with data_unlock, when the page is pumped.
        p.requested = Access.NONE;
        resident++;
        residentOrder.add(p);
        if (p.sharedPages != null) {
            p.sharedPages.arrived(p); // a slot kept for it counts as the resident page's now
        }
        if (access == Access.READ_WRITE) {
            PageWords.fromBytes(p);
        }
    }

    /** memory_object_lock_request: each page of its range, then one lock_completed (reply) ({@link LockRequests}). */
    void onLockRequest(VmObject o, MemoryObjectLockRequest r) {
        lockRequests.onLockRequest(o, r);
    }

    // ---- giving pages back (evictions here, data_returns in PageReturns) --------------------

    private void evictIfNeeded() {
        int skipped = 0;
        while (maxResident > 0 && resident > maxResident && skipped < residentOrder.size()) {
            VmPage p = residentOrder.poll();
            if (!p.resident()) {
                continue; // flushed meanwhile
            }
            if (!p.waiting.isEmpty() || p.requested != Access.NONE) {
                residentOrder.add(p);
                skipped++;
                continue;
            }
            evict(p);
        }
    }

    /** vm_msync's first half (spec 6.9): each dirty page of [from, to) in a data_return with kernel_copy; how many. */
    int returnDirty(VmObject o, long from, long to) {
        return pageReturns.returnDirty(o, from, to);
    }

    /** Gives a page back on the kernel's own initiative: data_return(kernel_copy = false). */
    void evict(VmPage p) {
        pageReturns.evict(p);
    }

    /** The pages a futex's release carries: its own page, with {@code dirtied} those written since its grant. */
    List<PageData> takeForRelease(VmObject o, FutexEntry e, boolean dirtied) {
        return pageReturns.takeForRelease(o, e, dirtied);
    }

    /** Part II: each page written since the futex's grant goes back (data_return with kernel_copy). */
    void writeBack(VmObject o, FutexEntry e) {
        pageReturns.writeBack(o, e);
    }

    /** Before memory_object_terminate (or may_cache false, {@code unusedOnly}): the pages go back, all dropped. */
    void returnAll(VmObject o, boolean unusedOnly) {
        pageReturns.returnAll(o, unusedOnly);
    }

    /** memory_object_data_return of the page: its data if dirty or precious, one version more if dirty. */
    void dataReturn(VmPage p, boolean kernelCopy) {
        pageReturns.dataReturn(p, kernelCopy);
    }

    /**
     * The kernel stopped using the page's pager (its lease ran out, the pager ended the session or
     * refused its reclaim): the page's contents and access go, so that no read serves a copy that
     * may be stale by now and no write is taken that could never go back (the pager passes the
     * page on as it last got it). Later accesses fault, and the fault fails as the pager's loss says.
     */
    void forget(VmPage p) {
        if (p.access != Access.NONE) {
            drop(p, false);
        } else {
            unmap(p);
            if (p.sharedPages != null) {
                p.sharedPages.release(p, false); // handed away, its slot kept: given back as for a page not handed away
            }
        }
    }

    /**
     * The page leaves this kernel; {@code handedAway}: to another kernel, through the pager (a
     * flush, or with a futex's release), so it may well come back soon and its shared-memory slot
     * is kept allocated for it (within a bound); else (evicted, returned, forgotten) the slot's
     * memory goes back at once (docs/shared-memory.md).
     */
    void drop(VmPage p, boolean handedAway) {
        unmap(p);
        if (p.sharedPages != null) {
            p.sharedPages.release(p, handedAway);
        }
        p.data = null;
        p.access = Access.NONE;
        p.dirty = false;
        p.precious = false;
        resident--;
        capKept(p);
    }

    // ---- futex words (PageWords) ---------------------------------------------------------------

    /** The page stops being writable here: each live futex's word goes into the bytes (NOPAGE). */
    void notWritable(VmPage p) {
        unmap(p);
        PageWords.intoBytes(p);
    }

    // ---- contents -----------------------------------------------------------------------------

    /** Copies bytes of a readable page, with the words of live futexes as they are now. */
    void read(VmPage p, int from, byte[] out, int at, int length) {
        PageWords.read(p, from, out, at, length);
    }

    /** Before the core touches a page's bytes or lowers its access: no task copies without the core now; their writes count. */
    void unmap(VmPage p) {
        if (PageMappings.unmap(p)) {
            written(p);
        }
    }

    /** After the core served an access to a resident page: tasks use it directly ({@link PageMappings#map}). */
    void map(VmPage p, boolean shared) {
        if (PageMappings.map(p, shared)) {
            written(p);
        }
    }

    /** Notes a change to a writable page's contents made by the core. */
    void written(VmPage p) {
        p.dirty = true;
        p.lastWrite = ++writes;
    }
}
