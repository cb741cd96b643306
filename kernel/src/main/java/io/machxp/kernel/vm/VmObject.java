package io.machxp.kernel.vm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * This kernel's record of one memory object, shared by every task on the kernel that maps it.
 *
 * <h2>Overview</h2>
 * <pre>
 *   INITIALIZING --memory_object_ready--> READY
 *        \--------memory_object_destroy--> (forgotten; vm_map fails with EINVAL)
 * </pre>
 * Pages become resident through memory_object_data_request answered by data_supply or
 * data_unavailable (zero fill); requests that touch a page in flight wait in {@link #faults}.
 * The core writes everything; {@link #residentPage} may be called from any thread.
 */
public final class VmObject {
    public enum State { INITIALIZING, READY }

    public final int objectId;
    public final String name;
    public final int pageSize;
    private final int pageShift;
    public State state = State.INITIALIZING;
    public long size;
    /** vm_map requests waiting for memory_object_ready. */
    public final List<PageFault> pendingMaps = new ArrayList<>();
    /** Page index -> requests waiting for that page to arrive. */
    public final Map<Long, List<PageFault>> faults = new HashMap<>();
    private volatile AtomicReferenceArray<ResidentPage> pages;

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

    public long pageIndex(long offset) {
        return offset >>> pageShift;
    }

    public int offsetInPage(long offset) {
        return (int) (offset & (pageSize - 1));
    }

    public ResidentPage residentPage(long offset) {
        AtomicReferenceArray<ResidentPage> p = pages;
        return p == null ? null : p.get((int) (offset >>> pageShift));
    }

    /** Core only. */
    public void install(ResidentPage page) {
        pages.set((int) (page.pageOffset() >>> pageShift), page);
    }

    /** Core only: every resident page. */
    public void forEachResidentPage(java.util.function.Consumer<ResidentPage> action) {
        AtomicReferenceArray<ResidentPage> p = pages;
        if (p == null) {
            return;
        }
        for (int i = 0; i < p.length(); i++) {
            ResidentPage page = p.get(i);
            if (page != null) {
                action.accept(page);
            }
        }
    }
}
