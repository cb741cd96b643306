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
 * <p>What each step costs and why it is enough (lock: two loads, a clock read, a CAS, two loads;
 * unlock: two loads, a CAS; the loads are the slot's REVOKED bit and its TID, {@link #slotStillOurs}):
 * <ul>
 *   <li>The lease: the lock reads this host's monotonic clock against the lease's end the kernel
 *       publishes, as the kernel's own fast path does (a narrowing, not a proof: see LeaseGate).
 *   <li>Revocation, lock: the kernel sets the thread's REVOKED bit (an atomic or, a full fence)
 *       before it scans the futexes for the thread's TID; the lock loads the bit after its CAS
 *       (a full fence too). Of two such fenced stores each followed by a load of the other's word,
 *       at least one load sees the other's store: so either the kernel's scan sees the TID (the
 *       futex passes on with OWNER_DIED, as for any thread that ended holding it), or the lock sees
 *       REVOKED, undoes its CAS and fails. If the undo finds the word changed (the kernel marked a
 *       waiter or took it meanwhile), the kernel already treats the TID of an ended thread in a
 *       word as a death (KernelFutexes: "a fast-path lock that raced the death"). The lock also
 *       loads REVOKED before its CAS (the same word, read-mostly): a ThreadClient whose thread
 *       ended long ago (an application's bug) then fails before its CAS instead of putting its
 *       TID in the word for a moment - where a racing locker would take it for a death (a false
 *       EOWNERDEAD), and, once the TID was given again, the kernel could mark WAITERS under it, the
 *       undo fail, and a live thread "own" a futex it never locked. Only a thread that ends
 *       during the lock itself still reaches the CAS, which the load after it covers.
 *   <li>Revocation, unlock: loads of REVOKED and of the slot's TID before the CAS. The CAS
 *       expects exactly this TID with no other bit, and the kernel takes a futex from an ended
 *       owner by a CAS of its own; so
 *       while the TID is this thread's alone, a late unlock either releases a futex the thread
 *       still held (as if it ran just before the end) or fails and asks the kernel (ESRCH). But
 *       the kernel gives a TID again once all of a session's have been given, after a rest of at
 *       least 10 s and two leases, and only if no word it tracks names it (KernelTasks); a
 *       ThreadClient of an ended thread that unlocks after that must not release what the new
 *       thread of that TID holds. The kernel sets REVOKED before it ends the thread and keeps it
 *       set until it gives the slot again; then it writes the new thread's TID before it clears
 *       REVOKED, so the unlock loads REVOKED set or another TID (an unlock that loaded them just
 *       before the end is the late unlock above) - with one exception: the TID given again to a
 *       later thread of the same task, in the same slot. The kernel gives a slot to another task
 *       only once the process that held it is dead (ThreadSlots), so that thread is the one the
 *       stale client's gRPC calls would reach too (they name the task and the TID): the fast path
 *       allows nothing gRPC does not. Two volatile loads (plain loads on x86), in the thread's own
 *       slot; no fence of their own.
 * </ul>
 * No allocation, no other shared write. One thread of the caller at a time, like the ThreadClient.
 */
final class SharedThread {
    /** The bits of a state that is only an owner's TID (no WAITERS, OWNER_DIED, or the kernel's bits above). */
    private static final long HELD_BY_TID = 0x3fffffffL;
    /** How long {@link #lock} looks for an unlock: polls with a spin-wait hint, then polls after a yield. */
    private static final int SPINS = Integer.getInteger("machxp.shm.spins", 100);
    private static final int YIELDS = Integer.getInteger("machxp.shm.yields", 10);
    private final SharedTaskMemory memory;
    private final ByteBuffer kernel;
    /** The offset of this thread's slot in the kernel file (tests compare them). */
    final int ctl;
    private final long tid;
    private long lastAddress = -1;
    private ByteBuffer lastTable;
    private int lastState;

    SharedThread(SharedTaskMemory memory, int slot, int tid) {
        this.memory = memory;
        this.kernel = memory.kernel;
        this.ctl = ShmLayout.threadSlot(slot);
        this.tid = tid & 0xffffffffL;
    }

    /** Locks the futex at {@code address} if it is cached and free; false: ask the kernel. */
    boolean tryLock(long address) {
        // The slot is checked before the CAS too (REVOKED, then its TID): a ThreadClient of a
        // thread that ended long ago must not put its TID in the word even for a moment (a racing
        // locker would take it as a death, and after the TID is given again it would be a live
        // thread's); the check after the CAS is for a thread that ends during this lock.
        if (!locate(address) || !slotStillOurs() || !leaseRuns() || !LONG.compareAndSet(lastTable, lastState, 0L, tid)) {
            return false;
        }
        if (slotStillOurs()) {
            return true;
        }
        LONG.compareAndSet(lastTable, lastState, tid, 0L); // ended meanwhile: not ours after all
        return false;
    }

    /**
     * Whether the kernel's lease runs now ({@link ShmLayout#leaseRuns(ByteBuffer)}): a close landing
     * between the load of the end and the clock read is the same as one landing just after the
     * check, which the check never excluded (LeaseGate: a narrowing). Opaque suffices: the CAS
     * that follows is the fence.
     */
    private boolean leaseRuns() {
        return ShmLayout.leaseRuns(kernel);
    }

    /**
     * Locks the futex at {@code address} as {@link #tryLock} does, and if another thread of this
     * kernel holds it with nobody waiting, keeps looking for a short while (spinning, then
     * yielding its core) for its unlock before it gives up: a critical section in shared memory
     * is usually shorter than the two kernel calls a wait costs (the lock that waits and the
     * owner's unlock that then finds WAITERS), and a wait sets WAITERS, which sends every later
     * lock and unlock of the futex to the kernel until nobody waits: a convoy. Anything but a free
     * futex or one held that way ends the look at once (ask the kernel); so does a lock that
     * would find this thread already the owner. False: ask the kernel.
     */
    boolean lock(long address) {
        if (tryLock(address)) {
            return true;
        }
        if (!locate(address) || !leaseRuns()) {
            return false; // not here, or no lease (none at all: every call is the kernel's): no look
        }
        for (int i = 0; i < SPINS + YIELDS; i++) {
            long s = (long) LONG.getVolatile(lastTable, lastState);
            if (s == 0) {
                if (tryLock(address)) {
                    return true;
                }
            } else if ((s & ~HELD_BY_TID) != 0 || s == tid) {
                return false; // waiters, a relinquish, not cached here, owner died, or our own: the kernel's
            } else if (i < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        return false;
    }

    /**
     * Unlocks it if this thread holds it and nobody waits; false: ask the kernel (also once the
     * thread ended: its TID may be another thread's by now).
     */
    boolean tryUnlock(long address) {
        return locate(address) && slotStillOurs() && LONG.compareAndSet(lastTable, lastState, tid, 0L);
    }

    /**
     * Whether this thread's slot is still its own: REVOKED clear, and the TID the kernel wrote in
     * it this thread's. The kernel gives the slot of an ended thread to a later thread of its task
     * (ThreadSlots; to another task only once this process is dead): it writes the new TID before
     * it clears REVOKED, and this loads REVOKED before the TID (both volatile), so a stale
     * ThreadClient that finds REVOKED clear in a slot given again finds the other TID and fails,
     * unless that TID is its own given again in the same task (as for gRPC: see the overview). One
     * more load, in the same cache line.
     */
    private boolean slotStillOurs() {
        return ((int) INT.getVolatile(kernel, ctl) & ShmLayout.REVOKED) == 0
                && (int) INT.getVolatile(kernel, ctl + ShmLayout.SLOT_TID) == (int) tid;
    }

    /** After a {@link #tryLock} that succeeded: the fencing token of the kernel's grant. */
    long fencingToken() {
        return (long) LONG.getVolatile(lastTable, lastState + 8);
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
