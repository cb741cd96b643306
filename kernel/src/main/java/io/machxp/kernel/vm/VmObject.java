package io.machxp.kernel.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * This kernel's record of one memory object, shared by every task on the kernel that maps it.
 *
 * <h2>Overview</h2>
 * <pre>
 *   INITIALIZING --memory_object_ready--> READY (awaitingFiles while its shared files are made)
 *        \--------memory_object_destroy--> (forgotten; vm_map fails with EINVAL)
 * </pre>
 * Each page touched gets a {@link VmPage} slot that records its residency and access; the core
 * writes everything, {@link #page} may be called from any thread (the futex fast path).
 */
public final class VmObject {
    public enum State { INITIALIZING, READY }

    public final int objectId;
    public final String name;
    public final int pageSize;
    private final int pageShift;
    public State state = State.INITIALIZING;
    /** Which of the kernel's pagers serves it (0 with one pager); set once, when it is mapped first. */
    public int pager;
    public long size;
    /** Mach's may_cache (XP spec 6.11): false, no page stays here once no task maps the object. */
    public boolean mayCache = true;
    /** The copy strategy the pager set and this kernel honours (NONE or DELAY; XP maps shared only). */
    public io.machxp.proto.xp.CopyStrategy copyStrategy = io.machxp.proto.xp.CopyStrategy.MEMORY_OBJECT_COPY_NONE;
    /** Mappings of the object in tasks now (core thread). */
    public int mappings;
    /** vm_map requests waiting for memory_object_ready. */
    public final List<PageFault> pendingMaps = new ArrayList<>();
    private volatile AtomicReferenceArray<VmPage> pages;
    /** Ready, but its files in shared memory are being made: vm_maps wait (core only). */
    public boolean awaitingFiles;
    /** Its futex table in shared memory, or null if the kernel shares none (core only). */
    public io.machxp.kernel.shm.SharedFutexTable sharedFutexes;
    /** Its pages' slots in shared memory (from memory_object_ready on), or null (core only). */
    public io.machxp.kernel.shm.SharedPages sharedPages;

    public VmObject(int objectId, String name, int pageSize) {
        this.objectId = objectId;
        this.name = name;
        this.pageSize = pageSize;
        this.pageShift = Integer.numberOfTrailingZeros(pageSize);
    }

    /** Core only: memory_object_ready arrived. */
    public void ready(long size) {
        this.size = size;
        this.pages = new AtomicReferenceArray<>((int) (size >>> pageShift));
        this.state = State.READY;
    }

    /** Whether a vm_map maps it at once (ready, its shared files there if any); core only. */
    public boolean mappable() {
        return state == State.READY && !awaitingFiles;
    }

    public int offsetInPage(long offset) {
        return (int) (offset & (pageSize - 1));
    }

    /** The slot of the page holding {@code offset}, or null if never touched. Any thread. */
    public VmPage page(long offset) {
        AtomicReferenceArray<VmPage> p = pages;
        return p == null ? null : p.get((int) (offset >>> pageShift));
    }

    /** Core only: the slot of the page holding {@code offset}, created on first touch. */
    public VmPage slot(long offset) {
        int index = (int) (offset >>> pageShift);
        VmPage page = pages.get(index);
        if (page == null) {
            page = new VmPage(objectId, (long) index << pageShift, pageSize, sharedFutexes, sharedPages);
            pages.set(index, page);
        }
        return page;
    }

    /** Core only: every page slot. */
    public void forEachPage(java.util.function.Consumer<VmPage> action) {
        AtomicReferenceArray<VmPage> p = pages;
        if (p == null) {
            return;
        }
        for (int i = 0; i < p.length(); i++) {
            VmPage page = p.get(i);
            if (page != null) {
                action.accept(page);
            }
        }
    }
}
