package io.machxp.pager.futex;

import io.machxp.pager.core.KernelSession;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The pager's record of one futex: which kernel holds it, which kernels wait, highest priority
 * first and in arrival order among equals ({@link FutexQueue}), and whether the holder has been
 * asked to relinquish it, with which priority. Pager core thread only.
 *
 * <pre>
 *   FREE --lock_futex(K)--> HELD by K --lock_futex(J)--> J queued, relinquish(top priority) sent to K
 *                           HELD by K --the top queued priority changes--> relinquish(new top) sent to K
 *                           HELD by K --futex_released(K)--> HELD by head of queue, or FREE
 * </pre>
 * Invariant: a free futex has an empty queue; the holder is never in the queue.
 * The relinquish sent to the holder carries the top queued priority; it is sent again whenever
 * that top changes while the holder keeps the futex (not when the queue empties: the holder gives
 * the futex back anyway).
 * Pages given back with futex_released are remembered until the next grant, which carries those
 * that are still free.
 */
public final class FutexRecord {
    public final FutexKey key;
    public KernelSession holder;
    public final FutexQueue queue = new FutexQueue();
    /** Whether the holder has been asked to relinquish it since its grant. */
    public boolean relinquishSent;
    /** The priority the last relinquish to the holder carried (meaningful when relinquishSent). */
    public int relinquishPriority;
    /** Session id of the last kernel that held it (0: never held), to count handoffs. */
    public long lastHolder;
    /** The name of that kernel (null: never held), to say where a handoff came from. */
    public String lastHolderName;
    /** Offsets of the pages given back with the futex since its last grant, for the next grant. */
    public final Set<Long> releasedPages = new LinkedHashSet<>();
    /** The fencing token of the current (or last) grant: epoch << 32 | grants so far; 0 never granted. */
    public long token;
    /** When the current grant was made (the pager's clock): a grant policy's lease runs from it. */
    public long grantedNanos;
    /** The last holder was declared dead holding it: the next grant carries owner_died. */
    public boolean ownerDied;
    /** The current grant carried owner_died (the holder may not have seen it yet). */
    public boolean grantOwnerDied;
    /**
     * The last release said stale_heir_tid (xp-spec 8.4): the futex's word may still name this TID,
     * of a thread that owns nothing; each grant carries it (owner_died to a kernel that did not name
     * the feature) until a release of its holder no longer names it. 0: none.
     */
    public int staleHeirTid;
    /**
     * Kernels whose trylock waits for the holder's answer to a relinquish_futex with try, with
     * their priorities: the futex given back (granted to the highest of them, ahead of the queue)
     * or memory_object_futex_held (busy to those at or below the priority asked; a round of its
     * own for those above).
     */
    public final TryWaiters tries = new TryWaiters();
    /** A relinquish_futex with try is out to the holder of this grant and not yet answered. */
    public boolean tryAsked;
    /** The priority that relinquish_futex(try) carried (meaningful when tryAsked). */
    public int tryAskedPriority;
    /** When the holder was sent that relinquish_futex(try), on the pager's clock (its answer's deadline). */
    public long tryAskedNanos;
    /**
     * The relinquish_futex(try) of {@link #tryAsked} is the pager's own: at its bound on futex
     * records it asks an idle cached futex back, with no trylock behind it (core's FutexParking).
     */
    public boolean askedBack;
    /** Its holder answered such an ask with futex_held (a thread there owns or waits for it). */
    public boolean keptWhenAsked;
    /** When it answered so, on the pager's clock: it is not asked again before a while has passed. */
    public long keptWhenAskedNanos;
    /** The release in progress hands the futex from an owner to a waiting kernel (grant's handoff). */
    public boolean handoff;
    /** Direct handoff: the holder was ordered to forward the futex, not confirmed yet (null: none). */
    public FutexForwarding forward;

    /**
     * Ids of kernels declared dead holding it whose TIDs may still be in its word: until a grantee
     * told of the death releases it without passing owner_died on. Their ids are not reused meanwhile.
     */
    public final List<Integer> diedKernelIds = new ArrayList<>(0);
    /**
     * Every kernel of {@link #diedKernelIds} held no write access to the futex's page when it was
     * declared dead, so no write of its TID can be lost with its pages: a 0 word in the pager's
     * copy is the word's real state, and the pager's own recording leaves it alone (as Linux).
     * False otherwise (a death told by futex_released included): a 0 word gets OWNER_DIED.
     */
    public boolean zeroWordClean;
    /**
     * A death this futex carries is not told yet: set when a kernel is declared dead holding it
     * (or gives it back passing owner_died on), cleared only when a grantee tells it (releases it
     * without owner_died) or the pager records it in the word. Not the same as a non-empty
     * {@link #diedKernelIds}: those TIDs may be seen gone from the word (the dead prefixes free
     * again) while the grant's owner_died is still owed, untold. Then a 0 word is not clean for a
     * later death ({@link #zeroWordClean} accumulates), and the pager's recording keeps the owed
     * owner_died for a word it leaves alone (chaos --mix contended seeds 234, 249). Replicated
     * state: in the snapshot.
     */
    public boolean deathUntold;

    public FutexRecord(FutexKey key) {
        this.key = key;
    }
}
