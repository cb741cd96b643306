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
 */
final class StaleHeirs {
    private StaleHeirs() {
    }

    /** Whether holder {@code s} of {@code f} may name {@code tid} as a stale heir in its release. */
    static boolean mayName(KernelSession s, FutexRecord f, int tid) {
        if (tid == f.staleHeirTid) {
            return true; // the TID its grant carried (or its reclaim named), named again
        }
        return (tid & ~DeathRecorder.TID_MASK) == 0 && s.tidPrefix != 0 && tid >>> 20 == s.tidPrefix && (tid & 0xfffff) != 0;
    }

    /** A release of {@code s} names {@code tid}: kept on the record as a death the pager may settle. */
    static void carried(FutexRecords records, TidPrefixes prefixes, KernelSession s, FutexRecord f, int tid) {
        boolean clean = f.diedKernelIds.isEmpty() && !f.deathUntold;
        records.died(f, tid >>> 20);
        if (clean) {
            f.zeroWordClean = true; // nobody died: a 0 word names no one
        }
        if (tid >>> 20 == s.tidPrefix) {
            prefixes.died(s); // its id and prefix rest while the word may name its old thread
        }
    }
}
