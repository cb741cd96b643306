package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The futex side of a kernel leaving (an object terminated, a stream broken, a session ended
 * without a lease, a kernel declared dead): part of the pager's futexes ({@link PagerFutexes}),
 * core thread only. What starts and ends a session is {@link PagerSessions}'.
 *
 * <h2>Overview</h2>
 * <pre>
 *  object terminated (of it),       -> it leaves every queue: the holder is asked again at the
 *    stream broken, session forgotten  priority left ({@link RelinquishAsks}); its requests
 *                                      parked for a record are dropped ({@link FutexParking}); an order to
 *                                      forward a futex to it is withdrawn (not for a stream that
 *                                      broke: it may resume); a lock_futex kept after its early
 *                                      release of a forward ends ({@link PagerForwards#dropRelock})
 *  object terminated (of it),       -> every futex it held is released without futex_released:
 *    session forgotten (a stream       to the next waiter as a release would
 *    ended without a lease, a kernel   ({@link PagerGrants#release}), with handoff if kernels
 *    declared dead)                    waited, an owner_died its grant carried passed on
 *  holder's stream broken           -> it keeps its futexes until its lease ends; every trylock
 *                                      waiting on its answer is busy now
 *  holder declared dead             -> each futex it held goes on with owner_died (released
 *                                      when its session is forgotten, as above); its TID prefix
 *                                      is remembered on the record until a grantee told of the
 *                                      death releases it
 * </pre>
 */
final class FutexDepartures {
    private final CoreContext core;
    private final FutexRecords records;
    private final FutexTries tries;
    private final PagerForwards forwards;
    private final PagerGrants grants;
    private final RelinquishAsks asks;
    private final FutexParking parking;

    FutexDepartures(CoreContext core, FutexRecords records, FutexTries tries, PagerForwards forwards,
            PagerGrants grants, RelinquishAsks asks, FutexParking parking) {
        this.core = core;
        this.records = records;
        this.tries = tries;
        this.forwards = forwards;
        this.grants = grants;
        this.asks = asks;
        this.parking = parking;
    }

    /** The kernel stops waiting for every futex of {@code object} (null: of every object). */
    void leaveQueues(KernelSession s, String object) {
        forwards.dropRelock(s, object); // a lock kept after its early release waits no more either
        parking.leave(s, object); // nor one parked for a futex record
        if (s.gone || object != null) {
            forwards.targetLeft(s, object);
        }
        java.util.List<FutexKey> queued = s.queued.of(object); // only the object's: its index (FutexKeySet)
        core.walked(queued.size());
        for (FutexKey key : queued) {
            leaveQueue(s, records.get(key));
        }
    }

    /**
     * The holder's stream broke (it keeps its futexes until its lease ends): it cannot answer a
     * relinquish_futex(try), so every trylock waiting on its answer is answered busy now, as is
     * every trylock while it stays broken ({@link FutexTries#tryLock}): a trylock does not wait.
     */
    void holderBroke(KernelSession s) {
        for (FutexKey key : s.held) {
            FutexRecord f = records.get(key);
            if (!f.tries.isEmpty()) {
                f.tryAsked = false;
                tries.answer(f);
            }
        }
    }

    /**
     * The kernel leaves holding what it holds of {@code object} (null: of every object), before
     * its pages are forgotten and {@link #releaseHeld} follows: the pages its forwards carry wait
     * for those releases ({@link PagerForwards#holderLeaving}).
     */
    void holderLeaving(KernelSession s, String object) {
        forwards.holderLeaving(s, object);
    }

    /**
     * Every futex of {@code object} (null: of every object) the kernel holds is released without
     * futex_released (terminate, a stream ended without a lease, a kernel declared dead).
     */
    void releaseHeld(KernelSession s, String object) {
        java.util.List<FutexKey> held = s.held.of(object);
        core.walked(held.size());
        for (FutexKey key : held) {
            releaseUnseen(records.get(key));
        }
    }

    /**
     * The kernel was declared dead: each futex it holds will go on with owner_died (released
     * afterwards, by {@link #releaseHeld}).
     *
     * @return the futexes it held
     */
    List<FutexKey> ownerDied(KernelSession s) {
        List<FutexKey> held = new ArrayList<>(s.held);
        for (FutexKey key : held) {
            FutexRecord f = records.get(key);
            f.ownerDied = core.plants.ownerDiedWhenDeclaredDead(true);
            records.died(f, s.tidPrefix); // the high bits of the TIDs its word may carry
            f.staleHeirTid = 0; // owner_died covers a stale heir its grant carried: the word may name its own thread now (heirfix LOW-1)
        }
        return held;
    }

    /** The kernel stops waiting for the futex (it closed or terminated the object). */
    private void leaveQueue(KernelSession s, FutexRecord f) {
        f.tries.remove(s);
        f.queue.remove(s);
        s.queued.remove(f.key);
        asks.askToRelinquish(f);
    }

    /**
     * A futex released without futex_released (terminate, a stream ended without a lease): a
     * kernel gives back what it holds by itself first, so this is a grant it may never have seen;
     * an owner_died it carried goes on to the next grant.
     */
    private void releaseUnseen(FutexRecord f) {
        f.ownerDied |= f.grantOwnerDied;
        f.handoff = !f.queue.isEmpty(); // kernels waited while it was held: for its owner, as far as they know
        grants.release(f, null, 0, 0, -1); // without a release: whether a copy went is not known
    }
}
