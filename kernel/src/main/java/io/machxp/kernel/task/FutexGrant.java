package io.machxp.kernel.task;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One grant of a futex to a thread: a lock or trylock that got it. An undo of a lock its caller
 * gave up on (the kernel's own, for a grant that met a cancelled call, or the client's
 * vm_unlock_futex with abandoned_lock_seq) names the grant it undoes, and changes nothing unless
 * the thread still owns the futex by that very grant ({@link MachThread#grants}): a later
 * grant of the same futex, or one held before the lock (a re-lock answers EDEADLK, which is no
 * grant), is never undone by it.
 *
 * @param address the futex's address in the thread's task
 * @param number  unique in the kernel, growing: tells two grants of one futex apart
 * @param lockSeq the client's lock_seq of the call that got it (task.proto); 0: none given
 */
public record FutexGrant(long address, long number, long lockSeq) {
    private static final AtomicLong NUMBERS = new AtomicLong();

    /** A new grant of the futex at {@code address}, made by the call with {@code lockSeq}. */
    public static FutexGrant next(long address, long lockSeq) {
        return new FutexGrant(address, NUMBERS.incrementAndGet(), lockSeq);
    }

    /** Whether this is the grant a client's lock with {@code lockSeq} of {@code address} got. */
    public boolean madeBy(long address, long lockSeq) {
        return lockSeq != 0 && this.address == address && this.lockSeq == lockSeq;
    }
}
