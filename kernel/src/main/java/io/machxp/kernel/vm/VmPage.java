package io.machxp.kernel.vm;

import io.machxp.kernel.futex.FutexEntry;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * One page of a memory object as this kernel sees it: whether it is resident and with which
 * access (Mach's {@code page_lock}), the request outstanding to the pager ({@code unlock_request}),
 * the faults waiting for access, and the futexes the kernel tracks in it. The slot exists from
 * the first touch on and outlives residency, so a futex keeps its state while the pager has the
 * page elsewhere.
 *
 * <h2>Overview</h2>
 * <pre>
 *   ABSENT --data_supply / data_unavailable (lock_value WRITE)--> READ
 *   ABSENT --data_supply / data_unavailable (lock_value NONE)---> READ_WRITE
 *   READ   --data_unlock ... lock_request(lock_value NONE)------> READ_WRITE
 *   READ_WRITE --lock_request(lock_value WRITE)-----------------> READ    (dirty data returned)
 *   any    --lock_request(flush), eviction, piggyback release---> ABSENT  (dirty data returned)
 * </pre>
 * Core thread only, except {@link #futexIfPresent}, which the fast path calls from any thread.
 */
public final class VmPage {
    /** The access this kernel has to a page; a page is resident iff access != NONE. */
    public enum Access {
        NONE, READ, READ_WRITE;

        public boolean covers(Access wanted) {
            return compareTo(wanted) >= 0;
        }
    }

    public final int objectId;
    public final long pageOffset;
    public final int size;
    /** The contents while resident, else null. Futex words of live futexes are in their entries. */
    public byte[] data;
    public Access access = Access.NONE;
    /** Written since the pager last got the contents. */
    public boolean dirty;
    /** The access asked for with data_request / data_unlock and not yet given; NONE if none. */
    public Access requested = Access.NONE;
    /** Core write sequence of the last change to the contents (for piggybacked releases). */
    public long lastWrite;
    /** Requests waiting for this page, in arrival order, with the access each needs. */
    public final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private volatile AtomicReferenceArray<FutexEntry> futexes;

    /** A fault parked on this page until the kernel has {@code access}. */
    public record Waiting(Access access, PageFault fault) {}

    public VmPage(int objectId, long pageOffset, int size) {
        this.objectId = objectId;
        this.pageOffset = pageOffset;
        this.size = size;
    }

    public boolean resident() {
        return access != Access.NONE;
    }

    /** The futex for the word at {@code offsetInPage} (4-aligned), or null if none yet. Any thread. */
    public FutexEntry futexIfPresent(int offsetInPage) {
        AtomicReferenceArray<FutexEntry> f = futexes;
        return f == null ? null : f.get(offsetInPage >>> 2);
    }

    /** Core thread only: the futex for the word, created (ABSENT) on first use. */
    public FutexEntry futex(int offsetInPage) {
        AtomicReferenceArray<FutexEntry> f = futexes;
        if (f == null) {
            f = new AtomicReferenceArray<>(size >>> 2);
            futexes = f;
        }
        FutexEntry e = f.get(offsetInPage >>> 2);
        if (e == null) {
            e = new FutexEntry(this, offsetInPage);
            f.set(offsetInPage >>> 2, e);
        }
        return e;
    }

    /** Core thread only: every futex tracked in this page. */
    public void forEachFutex(Consumer<FutexEntry> action) {
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

    @Override
    public String toString() {
        return "page 0x" + Long.toHexString(pageOffset) + "[" + access + (dirty ? " dirty" : "")
                + (requested != Access.NONE ? " asked " + requested : "") + " waiting=" + waiting.size() + "]";
    }
}
