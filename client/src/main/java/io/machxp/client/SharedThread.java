package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;

/**
 * The futex fast path of one thread of a task process, in the memory its kernel shares
 * (docs/shared-memory.md): a lock is a CAS of the futex's state from 0 (cached by the kernel,
 * free, nobody waiting) to the TID, an unlock the CAS back, both in this process. Anything else
 * fails here and the caller asks the kernel over gRPC, which answers as it always does.
 *
 * <p>Revocation: each fast call marks the thread's slot busy and checks the kernel's REVOKED bit
 * there before it touches a futex; the kernel sets the bit and waits for the slot to be idle
 * before it ends the thread, so no CAS of a thread the kernel has ended lands after. The
 * lock also checks the kernel's lease (the end it published, on this host's monotonic clock),
 * as the kernel's own fast path does. One thread of the caller at a time, like the ThreadClient.
 */
final class SharedThread {
    private final SharedTaskMemory memory;
    private final ByteBuffer kernel;
    private final int ctl;
    private final int busy;
    private final long tid;
    private long lastAddress = -1;
    private ByteBuffer lastTable;
    private int lastState;

    SharedThread(SharedTaskMemory memory, int slot, int tid) {
        this.memory = memory;
        this.kernel = memory.kernel;
        this.ctl = ShmLayout.threadSlot(slot);
        this.busy = ctl + ShmLayout.SLOT_BUSY;
        this.tid = tid & 0xffffffffL;
    }

    /** Locks the futex at {@code address} if it is cached and free; false: ask the kernel. */
    boolean tryLock(long address) {
        return locate(address) && swap(0L, tid, true);
    }

    /** Unlocks it if this thread holds it and nobody waits; false: ask the kernel. */
    boolean tryUnlock(long address) {
        return locate(address) && swap(tid, 0L, false);
    }

    /** After a {@link #tryLock} that succeeded: the fencing token of the kernel's grant. */
    long fencingToken() {
        return (long) LONG.getVolatile(lastTable, lastState + 8);
    }

    private boolean swap(long from, long to, boolean checkLease) {
        INT.setVolatile(kernel, busy, 1);
        try {
            return ((int) INT.getVolatile(kernel, ctl) & ShmLayout.REVOKED) == 0
                    && (!checkLease || System.nanoTime() < (long) LONG.getVolatile(kernel, ShmLayout.LEASE_END))
                    && LONG.compareAndSet(lastTable, lastState, from, to);
        } finally {
            INT.setRelease(kernel, busy, 0);
        }
    }

    private boolean locate(long address) {
        if (address == lastAddress) {
            return true;
        }
        if ((address & 3) != 0) {
            return false;
        }
        SharedTaskMemory.Mapping m = memory.mappingAt(address);
        if (m == null) {
            return false;
        }
        int slot = ShmLayout.find(m.table(), m.capacity(), address - m.start());
        if (slot < 0) {
            return false; // not tracked by the kernel yet: its first lock goes there and makes it
        }
        lastAddress = address;
        lastTable = m.table();
        lastState = ShmLayout.futexSlot(slot) + ShmLayout.FUTEX_STATE;
        return true;
    }
}
