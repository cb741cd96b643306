package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.LONG;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmPage;
import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * One memory object's futex table in shared memory: a file under the kernel's shared directory
 * holding the state word of every futex the kernel tracks in the object, where task processes on
 * this host lock and unlock them with a CAS (layout: {@link ShmLayout}). Open addressing on the
 * futex's offset; slots are claimed by the core only and never freed, as futex entries are never
 * removed. A full table is not an error: the futex's state then stays in the kernel's heap and
 * task processes reach it through gRPC.
 */
public final class SharedFutexTable {
    private final Path file;
    private final ByteBuffer buffer;
    private final int capacity;
    private int used;
    /**
     * Which slots the kernel keyed: its own record. The keys in the file are for task processes to
     * find a futex; any of them can write the file, so the kernel never probes by them (a forged
     * key must not make it loop over a full table or give a futex's slot to another).
     */
    private final java.util.BitSet keyed;
    /** The entries whose states live here (core only). */
    private final java.util.List<FutexEntry> entries = new java.util.ArrayList<>();

    SharedFutexTable(Path file, ByteBuffer buffer, int capacity) {
        this.file = file;
        this.buffer = buffer;
        this.capacity = capacity;
        this.keyed = new java.util.BitSet(capacity);
        LONG.set(buffer, ShmLayout.TABLE_CAPACITY, (long) capacity);
        LONG.setVolatile(buffer, 0, ShmLayout.TABLE_MAGIC);
    }

    public Path file() {
        return file;
    }

    /**
     * Core only: the entry for the futex at {@code offsetInPage} of {@code page}, its state in a
     * slot of this table (written ABSENT before the slot is keyed), or in the heap if the table
     * is full (3/4 of its slots, to keep probes short).
     */
    public FutexEntry entry(VmPage page, int offsetInPage) {
        long offset = page.pageOffset + offsetInPage;
        if (used >= capacity - capacity / 4) {
            return new FutexEntry(page, offsetInPage);
        }
        int i = ShmLayout.home(offset, capacity);
        while (keyed.get(i)) {
            i = (i + 1) & (capacity - 1);
        }
        keyed.set(i);
        int at = ShmLayout.futexSlot(i);
        FutexEntry e = new FutexEntry(page, offsetInPage, buffer, at);
        entries.add(e);
        LONG.setRelease(buffer, at, offset + 1);
        used++;
        return e;
    }

    /**
     * Core only: puts back the kernel-only bits (ABSENT, NOPAGE) of every futex here that a task
     * process changed in the file ({@link FutexEntry#restoreKernelBits}); how many it put back.
     */
    public int restoreKernelBits() {
        int restored = 0;
        for (FutexEntry e : entries) {
            if (e.restoreKernelBits()) {
                restored++;
            }
        }
        return restored;
    }
}
