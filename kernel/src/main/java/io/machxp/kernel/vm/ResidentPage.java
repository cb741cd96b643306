package io.machxp.kernel.vm;

import io.machxp.kernel.futex.FutexEntry;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A page of a memory object that this kernel holds (paged in with memory_object_data_request),
 * with the futexes the kernel tracks in it, by word index. The core creates futex entries; any
 * thread may look them up.
 */
public final class ResidentPage {
    private final int objectId;
    private final long pageOffset;
    private final byte[] data;
    private volatile AtomicReferenceArray<FutexEntry> futexes;

    public ResidentPage(int objectId, long pageOffset, byte[] data) {
        this.objectId = objectId;
        this.pageOffset = pageOffset;
        this.data = data;
    }

    public long pageOffset() {
        return pageOffset;
    }

    public int size() {
        return data.length;
    }

    /** The futex for the word at {@code offsetInPage} (4-aligned), or null if none yet. */
    public FutexEntry futexIfPresent(int offsetInPage) {
        AtomicReferenceArray<FutexEntry> f = futexes;
        return f == null ? null : f.get(offsetInPage >>> 2);
    }

    /** Core thread only: the futex for the word, created (ABSENT) on first use. */
    public FutexEntry futex(int offsetInPage) {
        AtomicReferenceArray<FutexEntry> f = futexes;
        if (f == null) {
            f = new AtomicReferenceArray<>(data.length >>> 2);
            futexes = f;
        }
        FutexEntry e = f.get(offsetInPage >>> 2);
        if (e == null) {
            e = new FutexEntry(objectId, pageOffset + offsetInPage);
            f.set(offsetInPage >>> 2, e);
        }
        return e;
    }

    /** Core thread only: every futex tracked in this page. */
    public void forEachFutex(java.util.function.Consumer<FutexEntry> action) {
        AtomicReferenceArray<FutexEntry> f = futexes;
        if (f == null) {
            return;
        }
        for (int i = 0; i < f.length(); i++) {
            FutexEntry e = f.get(i);
            if (e != null) {
                action.accept(e);
            }
        }
    }
}
