package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import com.google.protobuf.ByteString;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.PageFault;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The kernel's page cache: which pages of which objects it holds, with which access, and how it
 * gets more (Mach's {@code page_lock} and {@code unlock_request}, per {@link VmPage}). Part of the
 * kernel core: same thread, no I/O of its own.
 *
 * <h2>Overview</h2>
 * <pre>
 *  fault (READ)        not resident  -> memory_object_data_request(READ), wait
 *  fault (READ_WRITE)  not resident  -> memory_object_data_request(READ_WRITE), wait
 *                      read-only     -> memory_object_data_unlock(WRITE), wait
 *  vm_read / vm_write of several      -> one memory_object_data_request for each run of absent
 *    pages                              pages not asked for yet ({@link #prefetch})
 *  data_supply / data_unavailable    -> resident; access = all but lock_value; waiting faults run;
 *                                       a precious page is marked so (spec 6.10)
 *  lock_request (one page or a       -> per page: return (data_return), flush, or lock to
 *    range)                             read-only, or unlock (lock_value NONE: write granted);
 *                                       one lock_completed for the range when asked (reply), also
 *                                       for pages it does not hold ({@link LockRequests})
 *  eviction (more than maxResident)  -> data_return(kernel_copy = false), page dropped
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

    /** The largest number of pages a futex release carries with it (piggyback). */
    static final int MAX_PIGGYBACK_PAGES = 8;

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
    private final int maxResident;
    private final ArrayDeque<VmPage> residentOrder = new ArrayDeque<>();
    private int resident;
    private long writes;

    /** Pages resident now (core thread; a gauge read elsewhere sees a recent value). */
    public int residentCount() {
        return resident;
    }

    /**
     * Called with a writable page before the faults waiting for it resume, each time it is pumped
     * (the futex core serves a relinquish the page's return makes due: {@code FutexRelinquish}).
     */
    void whenWritable(Consumer<VmPage> hook) {
        this.whenWritable = hook;
    }

    /** @param maxResident evict beyond this many resident pages; 0 = no limit */
    private Consumer<VmPage> whenWritable = p -> { };

    PageCache(Link link, RetainedReturns returns, int maxResident) {
        this.link = link;
        this.returns = returns;
        this.maxResident = maxResident;
        this.lockRequests = new LockRequests(link, this);
    }

    /** A sequence number that grows with every change to page contents made by this kernel. */
    long writeSequence() {
        return writes;
    }

    // ---- reclaim ------------------------------------------------------------------------------

    /** After a reclaim: the data_request or data_unlock each page of {@code o} was waiting for, asked again. */
    void askAgain(VmObject o) {
        o.forEachPage(p -> {
            if (p.requested != Access.NONE) {
                p.requested = Access.NONE;
                request(p);
            }
        });
    }

    // ---- faults -------------------------------------------------------------------------------

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
        p.data = data;
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

    // ---- giving pages back --------------------------------------------------------------------

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

    /**
     * vm_msync's first half (spec 6.9): each dirty page of [from, to) goes back in a data_return
     * with kernel_copy (it stays here, writable and clean).
     *
     * @return how many pages went back
     */
    int returnDirty(VmObject o, long from, long to) {
        int returned = 0;
        for (long off = from - o.offsetInPage(from); off < to && off < o.size; off += o.pageSize) {
            VmPage p = o.page(off);
            if (p != null && p.access == Access.READ_WRITE) {
                unmap(p); // the writes made through the mapping count
                if (p.dirty) {
                    dataReturn(p, true);
                    returned++;
                }
            }
        }
        return returned;
    }

    /** Gives a page back on the kernel's own initiative: data_return(kernel_copy = false). */
    void evict(VmPage p) {
        if (p.access == Access.READ_WRITE) {
            notWritable(p);
        }
        dataReturn(p, false);
        drop(p, false); // chosen as cold
    }

    /**
     * Takes the futex's own page, if it is writable here, away from the kernel for the release to
     * carry (the next owner writes the word there); with {@code dirtied} (piggyback: entry
     * consistency) also the writable pages of {@code o} changed since the futex was granted. Never
     * a page that holds another futex this kernel holds (its data goes with that futex).
     */
    List<PageData> takeForRelease(VmObject o, FutexEntry e, boolean dirtied) {
        List<PageData> pages = new ArrayList<>();
        VmPage own = o.page(e.offset());
        o.forEachPage(p -> {
            if (dirtied && p.access == Access.READ_WRITE) {
                unmap(p); // its lastWrite must count the writes made through the mapping
            }
            if (pages.size() < MAX_PIGGYBACK_PAGES && p.access == Access.READ_WRITE && p.waiting.isEmpty()
                    && p.requested == Access.NONE && (p == own || dirtied && p.lastWrite > e.grantedAt)
                    && !holdsOtherFutex(p, e)) {
                notWritable(p);
                ByteString data = ByteString.copyFrom(p.data);
                if (p.dirty) {
                    p.version++;
                    returns.retain(p, data);
                } else if (p.precious) {
                    returns.preciousReturned(p);
                }
                pages.add(PageData.newBuilder().setOffset(p.pageOffset).setData(data).setDirty(p.dirty)
                        .setVersion(p.version).build());
                drop(p, true); // it comes back when the futex does
            }
        });
        return pages;
    }

    /**
     * Part II: the futex goes back at unlock, so the writes made under it go back first, each page
     * written since its grant in a data_return with kernel_copy (the page stays here, writable and
     * clean): the pager has them before it can grant the futex to anyone, and a crash of this
     * kernel after the unlock loses none of them.
     */
    void writeBack(VmObject o, FutexEntry e) {
        o.forEachPage(p -> {
            if (p.access == Access.READ_WRITE) {
                unmap(p); // its lastWrite must count the writes made through the mapping
                if (p.dirty && p.lastWrite > e.grantedAt) {
                    dataReturn(p, true);
                }
            }
        });
    }

    /** A page with another futex this kernel holds belongs to that futex's data, not to {@code e}'s. */
    private static boolean holdsOtherFutex(VmPage p, FutexEntry e) {
        boolean[] other = {false};
        p.forEachFutex(f -> other[0] |= f != e && !isAbsent(f.state()));
        return other[0];
    }

    /**
     * Before memory_object_terminate: every dirty or precious page goes back, every page is dropped.
     * With {@code unusedOnly} (may_cache false, no task maps the object: spec 6.11) only the pages
     * no fault waits for and no live futex of this kernel is in. Either way the shared-memory slots
     * kept for its pages handed away are given back (SharedPages#giveBackAll).
     */
    void returnAll(VmObject o, boolean unusedOnly) {
        o.forEachPage(p -> {
            if (p.resident() && (!unusedOnly || p.waiting.isEmpty() && p.requested == Access.NONE
                    && !holdsOtherFutex(p, null))) {
                if (p.access == Access.READ_WRITE) {
                    notWritable(p);
                }
                if (p.dirty || link.plants().preciousReturned(p.precious)) {
                    dataReturn(p, false);
                }
                drop(p, false);
            }
        });
        if (o.sharedPages != null) {
            o.sharedPages.giveBackAll(); // the slots kept for pages handed away: none comes back to a terminate
        }
    }

    void dataReturn(VmPage p, boolean kernelCopy) {
        unmap(p);
        ByteString data = ByteString.EMPTY;
        if (p.dirty) {
            data = ByteString.copyFrom(p.data);
            p.version++;
            returns.retain(p, data);
        } else if (p.precious) {
            data = ByteString.copyFrom(p.data); // the pager may have kept no copy (spec 6.10)
            returns.preciousReturned(p);
        }
        link.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(p.objectId).setOffset(p.pageOffset).setData(data).setDirty(p.dirty)
                .setKernelCopy(kernelCopy).setVersion(p.version)).build());
        p.dirty = false;
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
