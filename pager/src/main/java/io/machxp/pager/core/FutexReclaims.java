package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.proto.xp.ReclaimedFutex;

/**
 * The futexes kernels reclaim from a restarted pager (docs/xp-spec.md 9): part of the pager core
 * beside {@link PagerFutexes}, core thread only.
 *
 * <h2>Overview</h2>
 * In its grace period the pager takes, from each reconnecting kernel's kernel_hello with reclaim,
 * every futex the kernel says it holds with the token an earlier pager gave it
 * ({@link #reclaim}); a futex whose holder did not reclaim it, or whose holder's death was not
 * yet told, goes on with owner_died at its next grant ({@link #diedInRestart}). A reclaimed
 * futex's record: nobody's → held by the kernel (its token the reclaimed one, the next grant above
 * the object's mark); refused (another holds it, or the token, read as uint64, is not an earlier
 * pager's, or older than the last grant this pager knows of) → unchanged, the refusal logged and
 * returned. A futex the holders' journal gives another kernel is refused before the kernel is
 * welcomed ({@link FutexJournal#grantedToAnother}).
 */
final class FutexReclaims {
    private final CoreContext core;
    private final FutexRecords records;
    private final FutexJournal journal;
    /** This start's token epoch: a reclaimed token must be an earlier one's. */
    private final long tokenEpoch;

    FutexReclaims(CoreContext core, FutexRecords records, FutexJournal journal, long tokenEpoch) {
        this.core = core;
        this.records = records;
        this.journal = journal;
        this.tokenEpoch = tokenEpoch;
    }

    /**
     * A futex a reconnecting kernel says it holds, under the token an earlier pager gave it:
     * recorded as the kernel's unless another holds it or the token is not an earlier pager's or
     * older than the last grant of that futex this pager knows of. After the reclaim, the futex's
     * token is the reclaimed one, and its next grant goes on above the object's mark.
     *
     * @return null when recorded, else why not (refused and logged)
     */
    String reclaim(KernelSession s, int objectId, ReclaimedFutex r) {
        FutexKey key = PagerFutexes.futexKey(core, s, objectId, r.getOffset(), "a reclaim of a futex");
        if (key == null) {
            return "it reclaims a futex at 0x" + Long.toHexString(r.getOffset()) + ", which is not an aligned word "
                    + "of its object " + objectId;
        }
        // A new record starts at the object's pruned high-water mark, which counts the grants of all
        // its futexes: only a record this futex already has tells its own last grant.
        boolean known = records.get(key) != null;
        FutexRecord f = records.getOrMake(key);
        long token = r.getFencingToken();
        String refusal = f.holder != null ? f.holder + " holds it"
                : token == 0 || Long.compareUnsigned(token, tokenEpoch << 32) >= 0 ? "token "
                        + Long.toUnsignedString(token) + " is not one an earlier pager gave"
                : known && Long.compareUnsigned(token, f.token) < 0 ? "token " + Long.toUnsignedString(token)
                        + " is older than the last grant's (" + Long.toUnsignedString(f.token) + ")"
                : null;
        if (refusal != null) {
            records.pruneIfIdle(f);
            core.refuse(s, "a reclaim of " + PagerFutexes.describe(key) + ": " + refusal);
            return "it reclaims " + PagerFutexes.describe(key) + ", but " + refusal;
        }
        f.holder = s;
        f.token = token;
        f.grantOwnerDied = r.getOwnerDied();
        // As the pager before the restart had it: a death its grant told is untold until the kernel
        // gives the futex back without owner_died (or the pager records it), whatever the kernel's
        // own copy of the word says (chaos --mix contended seed 3211; FutexRecords.deathRecorded).
        f.deathUntold |= r.getOwnerDied();
        f.staleHeirTid = r.getOwnerDied() ? 0 : r.getStaleHeirTid(); // its grant's, the word not yet rewritten
        if (f.staleHeirTid != 0) {
            StaleHeirs.reclaimed(records, f, f.staleHeirTid); // its prefix held meanwhile (GraceReclaims marks it)
        }
        f.lastHolder = s.id;
        f.lastHolderName = s.kernelName;
        core.holders.held(f);
        s.held.add(key);
        core.answers.tryOwed(f);
        journal.reclaimed(s, key);
        core.stats.futexesReclaimed.increment();
        return null;
    }

    /** After a restart: the futex's holder did not reclaim it (or its death was not told): its next grant says so. */
    void diedInRestart(FutexKey key) {
        FutexRecord f = records.getOrMake(key);
        if (f.holder == null) {
            f.ownerDied = true;
        }
    }
}
