package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import com.google.protobuf.ByteString;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmObject;
import io.machxp.kernel.vm.VmPage;
import io.machxp.kernel.vm.VmPage.Access;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.PageData;
import java.util.ArrayList;
import java.util.List;

/**
 * The pages the kernel gives back to the pager on its own initiative: memory_object_data_return
 * (an eviction, vm_msync, a futex's unlock in Part II, a terminate) and the pages a futex's
 * release carries. Part of the kernel core ({@link PageCache}, whose unmap, notWritable and drop
 * it uses; a lock_request's returns are {@link LockRequests}'): same thread, no I/O of its own.
 *
 * <h2>Overview</h2>
 * <pre>
 *  eviction (more than maxResident)  -> data_return(kernel_copy = false), page dropped
 *  vm_msync (spec 6.9)               -> each dirty page of the range: data_return(kernel_copy),
 *                                       it stays here, writable and clean ({@link #returnDirty})
 *  futex release (page with futex)   -> its own page, with piggyback also the pages written
 *                                       since the grant (at most {@link #MAX_PIGGYBACK_PAGES}),
 *                                       go in memory_object_futex_released and leave, handed
 *                                       away ({@link #takeForRelease})
 *  futex unlock (Part II)            -> each page written under it: data_return(kernel_copy)
 *  before memory_object_terminate    -> every dirty or precious page: data_return; every page
 *    (or may_cache false: unused        dropped; the shared-memory slots kept for its pages
 *    pages only)                        given back ({@link #returnAll})
 * </pre>
 * A dirty page leaving is one version more, kept until the pager has surely taken it
 * ({@link RetainedReturns}); a precious page leaves only with its data, also clean (spec 6.10).
 * Never a page that holds another futex this kernel holds with a release's pages: its data goes
 * with that futex.
 */
final class PageReturns {
    /** The largest number of pages a futex release carries with it (piggyback). */
    static final int MAX_PIGGYBACK_PAGES = 8;

    private final PageCache.Link link;
    private final RetainedReturns returns;
    private final PageCache cache;

    PageReturns(PageCache.Link link, RetainedReturns returns, PageCache cache) {
        this.link = link;
        this.returns = returns;
        this.cache = cache;
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
                cache.unmap(p); // the writes made through the mapping count
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
            cache.notWritable(p);
        }
        dataReturn(p, false);
        cache.drop(p, false); // chosen as cold
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
                cache.unmap(p); // its lastWrite must count the writes made through the mapping
            }
            if (pages.size() < MAX_PIGGYBACK_PAGES && p.access == Access.READ_WRITE && p.waiting.isEmpty()
                    && p.requested == Access.NONE && (p == own || dirtied && p.lastWrite > e.grantedAt)
                    && !holdsOtherFutex(p, e)) {
                cache.notWritable(p);
                ByteString data = pageBytes(p);
                if (p.dirty) {
                    p.version++;
                    returns.retain(p, data);
                } else if (p.precious) {
                    returns.preciousReturned(p);
                }
                pages.add(PageData.newBuilder().setOffset(p.pageOffset).setData(data).setDirty(p.dirty)
                        .setVersion(p.version).build());
                cache.drop(p, true); // it comes back when the futex does
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
                cache.unmap(p); // its lastWrite must count the writes made through the mapping
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
                    cache.notWritable(p);
                }
                if (p.dirty || link.plants().preciousReturned(p.precious)) {
                    dataReturn(p, false);
                }
                cache.drop(p, false);
            }
        });
        if (o.sharedPages != null) {
            o.sharedPages.giveBackAll(); // the slots kept for pages handed away: none comes back to a terminate
        }
    }

    void dataReturn(VmPage p, boolean kernelCopy) {
        cache.unmap(p);
        ByteString data = ByteString.EMPTY;
        if (p.dirty) {
            data = pageBytes(p);
            p.version++;
            returns.retain(p, data);
        } else if (p.precious) {
            data = pageBytes(p); // the pager may have kept no copy (spec 6.10)
            returns.preciousReturned(p);
        }
        link.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(p.objectId).setOffset(p.pageOffset).setData(data).setDirty(p.dirty)
                .setKernelCopy(kernelCopy).setVersion(p.version)).build());
        p.dirty = false;
    }

    /** The page's contents for a pager: its words' bytes, in a fresh array the ByteString owns. */
    private static ByteString pageBytes(VmPage p) {
        return com.google.protobuf.UnsafeByteOperations.unsafeWrap(io.machxp.kernel.vm.PageContents.bytes(p.data));
    }
}
