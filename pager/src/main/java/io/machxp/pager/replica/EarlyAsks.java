package io.machxp.pager.replica;

import io.machxp.pager.core.FutexHolderMap;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectRelinquishFutexHint;
import io.machxp.proto.xp.PagerToKernel;
import java.util.concurrent.atomic.LongAdder;

/**
 * The leader's early ask (docs/replicated-pager.md, "One sync per handoff"; xp-spec 13.6): when a
 * kernel's lock_futex arrives and is appended, the kernel that holds the futex by the applied
 * state ({@link FutexHolderMap}, which the applying thread publishes) is sent
 * memory_object_relinquish_futex_hint at once, on the XP thread, so that its futex_released runs
 * while the request commits and follows it into the log, instead of after the request's commit
 * and apply. Nothing else changes: the core still asks the holder itself once the request is
 * applied (that relinquish_futex carries the priority and the wait, and a holder that released
 * already drops it), and still grants only once the release is committed and applied.
 *
 * <h2>Overview</h2>
 * <pre>
 *  lock_futex (not try, not update) appended   the published holder of that futex, if another
 *                                                kernel whose hello named "relinquish_hint", and
 *                                                if the request's own clock stamp is past the
 *                                                grant's lease (its grant policy's longest), and
 *                                                if that grant was not hinted yet ->
 *                                                hint(holder's object id, offset, grant's token)
 *                                                on the holder's stream, unnumbered
 *  anything else                                nothing
 * </pre>
 * The hint is advice: a stale holder (the map is a moment behind the log) is named with the token
 * of the grant it meant, which the kernel checks, so it never moves a futex the kernel holds
 * under a later grant; the lease is judged on the request's stamp, which the core, applying the
 * request, reads no earlier (so an early ask never cuts a grant's lease short); a request that is
 * then lost (its append failed: a leader deposed) costs the holder a lock_futex again. Only the
 * leader has streams, so only the leader's hints go anywhere. One hint per grant, not per waiter:
 * with N kernels asking, the holder is sent one (the core's relinquish still follows each commit
 * that needs it), and what the leader remembers of it is the published grant's, gone with it.
 * A hint is advice, so it never ends a kernel's stream: one that would pass the kernel's unread
 * bound is dropped ({@link ReplicaStreams#advise}; before, it ended a slow kernel's stream with
 * EAGAIN: review late2 A-3). A hint dropped so, or sent to a broken stream, or dropped by a kernel
 * in its lease grace, still used up its grant's one hint: the core's relinquish follows as without
 * the early ask (performance only, review late2 A-1).
 */
public final class EarlyAsks {
    private final FutexHolderMap holders;
    private final ReplicaStreams streams;
    private final LongAdder sent = new LongAdder();

    public EarlyAsks(FutexHolderMap holders, ReplicaStreams streams) {
        this.holders = holders;
        this.streams = streams;
    }

    /**
     * Kernel message {@code m} of stream {@code sessionId} was just appended as {@code entry}
     * (stamped by the append with the leader's reading of the group clock; 0 if it was not).
     */
    public void appended(long sessionId, KernelToPager m, PagerLogEntry.Builder entry) {
        if (!m.hasMemoryObjectLockFutex()) {
            return;
        }
        MemoryObjectLockFutex lock = m.getMemoryObjectLockFutex();
        if (lock.getTry() || lock.getUpdate()) {
            return; // a trylock's relinquish is the core's (try); an update asks for nothing new
        }
        FutexHolderMap.Holder h = holders.hintFor(sessionId, lock.getObjectId(), lock.getOffset());
        if (h == null || entry.getClockNanos() == 0 || entry.getClockNanos() < h.askableFromNanos()
                || !h.firstAsk()) {
            return; // no holder to hint, too early, or this grant was hinted already
        }
        if (streams.advise(h.session().streamId(), PagerToKernel.newBuilder().setMemoryObjectRelinquishFutexHint(
                MemoryObjectRelinquishFutexHint.newBuilder().setObjectId(h.objectId()).setOffset(lock.getOffset())
                        .setFencingToken(h.token())).build())) {
            sent.increment();
        }
    }

    /** How many hints this replica sent (as leader). */
    public long sent() {
        return sent.sum();
    }
}
