package io.machxp.pager.core;

import io.machxp.pager.futex.FutexRecord;

/**
 * Which stale unlock heir a futex release may name (memory_object_futex_released.stale_heir_tid,
 * xp-spec 8.4), and how the pager keeps account of one it carries. Pager core thread only; no
 * state of its own.
 *
 * <h2>Overview</h2>
 * A release may name only (i) a TID of the releaser's own prefix (its unlock's heir, at its
 * shutdown) or (ii) exactly the TID its grant carried ({@link FutexRecord#staleHeirTid} when it
 * releases). Anything else is taken as owner_died, as before the field (heirfix LOW-2).
 *
 * <p>A carried TID is kept like a death the pager may settle itself: the TID's prefix goes on the
 * record's {@code diedKernelIds} ({@link FutexRecords#died}), so that
 * <ul>
 * <li>the releaser's kernel id and TID prefix are held back until the TID is gone from the word
 *   (a same-name restart would number its threads from 1 again and reuse the TID: heirfix LOW-1),
 *   as an owner_died release holds them ({@link TidPrefixes#died});</li>
 * <li>the record is not kept for ever: once nobody holds, waits for or forwards the futex and no
 *   kernel holds the page writable, the pager's recording ({@link DeathRecorder}) rewrites the word
 *   in its own copy as the grantee would (0 if it is exactly the TID without OWNER_DIED), drops
 *   the TID and prunes the record; at the bound on records and when kernel ids run short it takes
 *   the page back from its writer to do so (heirfix MED-1: before, such records were never freed).</li>
 * </ul>
 * A grantee's release that no longer names the TID settles it ({@code FutexRecords#deathRecorded});
 * the holder's declared death drops it (owner_died covers it, {@code FutexDepartures#ownerDied}).
 * A grantee caching the futex without its page is asked back by the forced looks
 * ({@code DeathRecorder#heldByGrantee}; staleheir review MED-2).
 *
 * <p>Reclaims after a restart ({@link #reclaimRefusal}, {@link #reclaimed}): a
 * ReclaimedFutex.stale_heir_tid that is no thread's TID refuses the reclaim before its welcome
 * (EINVAL); a thread's TID is taken as the grant's and held as a carried one (staleheir review
 * MED-1, LOW-3).
 */
final class StaleHeirs {
    private StaleHeirs() {
    }

    /** Whether holder {@code s} of {@code f} may name {@code tid} as a stale heir in its release. */
    static boolean mayName(KernelSession s, FutexRecord f, int tid) {
        if (!isThreadTid(tid)) {
            return false; // not a thread's TID, whatever the record says (staleheir review LOW-2)
        }
        if (tid == f.staleHeirTid) {
            return true; // the TID its grant carried (or its reclaim named), named again
        }
        return s.tidPrefix != 0 && tid >>> 20 == s.tidPrefix;
    }

    /**
     * Whether {@code tid} can be a thread's TID in a futex word (xp-spec 2.9): within
     * FUTEX_TID_MASK, not the mask itself (OWNER_DIED|0x3fffffff is the not-recoverable word), with
     * a kernel's prefix (1 to 1023) and a thread number (not 0).
     */
    static boolean isThreadTid(int tid) {
        return (tid & ~DeathRecorder.TID_MASK) == 0 && tid != DeathRecorder.TID_MASK && tid >>> 20 != 0
                && (tid & 0xfffff) != 0;
    }

    /**
     * A reclaim after a restart names {@code tid}, the stale heir its grant carried: held as a carried
     * TID is ({@link #carried}: the record names the TID's prefix, a 0 word clean if nobody died),
     * so that the prefix is not given to a new kernel while the word may name that thread
     * (staleheir review LOW-3; the caller marks the prefix a dead kernel's, {@link
     * TidPrefixes#diedBeforeRestart}).
     */
    static void reclaimed(FutexRecords records, FutexRecord f, int tid) {
        boolean clean = f.diedKernelIds.isEmpty() && !f.deathUntold;
        records.died(f, tid >>> 20);
        if (clean) {
            f.zeroWordClean = true; // nobody died: a 0 word names no one
        }
    }

    /**
     * Why a reclaimed futex's stale_heir_tid cannot be taken (null: it can; 0, or ignored under
     * owner_died, which covers any word). A reclaim may name only the TID its grant carried, which
     * the pager that gave it validated; after a restart that pager's record is gone, so the shape
     * is what can be checked: a reclaim naming anything else is refused before the welcome (EINVAL)
     * as the kernel's account of its grant is wrong (staleheir review MED-1: before, any value was
     * kept and carried on, and a TID of prefix 0 pinned its record for good).
     */
    static String reclaimRefusal(String object, io.machxp.proto.xp.ReclaimedFutex r) {
        int tid = r.getStaleHeirTid();
        if (tid == 0 || r.getOwnerDied() || isThreadTid(tid)) {
            return null;
        }
        return "it reclaims futex 0x" + Long.toHexString(r.getOffset()) + " of " + Shown.quoted(object)
                + " with stale_heir_tid 0x" + Integer.toHexString(tid) + ", which is not a thread's TID (within "
                + "0x3fffffff, not 0x3fffffff itself, a kernel prefix 1 to 1023 in its high 10 bits and a thread "
                + "number not 0: xp-spec 2.9, 8.4); a reclaim names 0 there or exactly the stale_heir_tid of the "
                + "futex_granted it holds the futex under, while its word is not rewritten yet";
    }

    /** A release of {@code s} names {@code tid}: kept on the record as a death the pager may settle. */
    static void carried(FutexRecords records, TidPrefixes prefixes, KernelSession s, FutexRecord f, int tid) {
        reclaimed(records, f, tid);
        if (tid >>> 20 == s.tidPrefix) {
            prefixes.died(s); // its id and prefix rest while the word may name its old thread
        }
    }
}
