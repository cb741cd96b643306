package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The pager's futex records, for {@link PagerFutexes}: which exist, when one is forgotten, and
 * which dead kernels' TIDs may still be in a futex word. Pager core thread only.
 *
 * <p>Records: a futex has a record only while a kernel holds it or waits for it, or while it
 * carries something to its next grant (owner_died, pages given back with it, a dead kernel's
 * TID, a stale heir's TID a release named); the others are pruned ({@link #pruneIfIdle}), keeping
 * per object the highest token they reached, which a record made again starts above
 * ({@link #fresh}). The carrying ones are freed by the pager itself when it runs short: pages
 * given back are shed ({@link #shedCarried}), and deaths and stale heirs (kept as deaths the
 * pager may settle, {@link StaleHeirs}) are recorded in its own copy of the word, pages taken
 * back from their writers ({@code DeathRecorder#recordAll}). So the records are bounded by what
 * kernels hold and wait for plus the pager's bound ({@code PagerOptions}), and the token
 * high-water marks by the objects.
 *
 * <p>Dead kernels: a kernel declared dead holding a futex is remembered on the record
 * ({@link #died}) until a grantee told of the death records OWNER_DIED in the word, or the pager
 * records it in its own copy of the word once no kernel holds the page ({@link DeathRecorder})
 * ({@link #deathRecorded}); until then {@link #diedPending} says its TID prefix (the high bits of
 * its TIDs: at its primary, its kernel id) must not be given to another kernel
 * ({@link KernelIds}, {@link TidPrefixes}). A stale heir's TID a release named counts alike for
 * its prefix until its grantee rewrites the word or the pager settles it ({@link StaleHeirs}).
 */
final class FutexRecords {
    /**
     * Records of futexes somebody holds or waits for, or that still carry something to the next
     * grant (owner_died, pages); the others are pruned ({@link #pruneIfIdle}).
     */
    final Map<FutexKey, FutexRecord> futexes = new HashMap<>();
    /**
     * Per object, the highest token of any pruned futex record: a record made again starts above
     * it, so a futex's tokens keep growing although its record was pruned. (The low 32 bits of a
     * token thus count the grants of the object's futexes, not of one futex, per pager start.)
     */
    final Map<String, Long> prunedTokens = new HashMap<>();
    /**
     * Per TID prefix: the futexes whose word may still hold a TID of the dead kernel that had it,
     * in the order of object and offset (so that a look at one prefix's, {@code
     * DeathRecorder#recordFor}, goes through them alike on every replica). Derived from the
     * records' {@code diedKernelIds}: rebuilt from them at a restore ({@link #restored}).
     */
    final Map<Integer, java.util.NavigableSet<FutexKey>> diedPending = new HashMap<>();
    /**
     * The futexes whose word may still hold a dead kernel's TID (non-empty {@code diedKernelIds}),
     * by object and offset: the pager's own recording ({@link DeathRecorder}) looks only at these,
     * and in this order on every replica and restored core alike (a hash map's order is not).
     */
    final java.util.NavigableSet<FutexKey> withDeaths = new java.util.TreeSet<>(KEY_ORDER);
    /**
     * Keys of records that were, when last pruned, kept only for the pages given back with their
     * futex (checked again when used: {@link #shedCarried}); at most one per record.
     */
    private final java.util.NavigableSet<FutexKey> carrying = new java.util.TreeSet<>(KEY_ORDER);
    /** Futex keys by object, then offset. */
    static final java.util.Comparator<FutexKey> KEY_ORDER =
            java.util.Comparator.comparing(FutexKey::object).thenComparingLong(FutexKey::offset);

    /** The record of the futex, or null. */
    FutexRecord get(FutexKey key) {
        return futexes.get(key);
    }

    /**
     * A record made (again) for a futex, not kept yet: its tokens go on above those of any pruned
     * record of the object.
     */
    FutexRecord fresh(FutexKey key) {
        FutexRecord f = new FutexRecord(key);
        f.token = prunedTokens.getOrDefault(key.object(), 0L);
        return f;
    }

    /** Keeps a record made by {@link #fresh} (nothing if the futex has one). */
    void keep(FutexRecord f) {
        futexes.putIfAbsent(f.key, f);
    }

    /** The record of the futex, made and kept if it has none. */
    FutexRecord getOrMake(FutexKey key) {
        return futexes.computeIfAbsent(key, this::fresh);
    }

    /**
     * Forgets the record of a futex nobody holds or waits for and that carries nothing to a next
     * grant (no owner_died, no pages): its token is kept as the object's high-water mark.
     */
    void pruneIfIdle(FutexRecord f) {
        if (carriesOnlyPages(f)) {
            carrying.add(f.key); // sheddable at the bound ({@link #shedCarried})
        }
        if (f.holder != null || !f.queue.isEmpty() || !f.tries.isEmpty() || f.ownerDied || !f.releasedPages.isEmpty()
                || !f.diedKernelIds.isEmpty() || f.staleHeirTid != 0 || f.deathUntold) {
            return;
        }
        if (futexes.remove(f.key, f)) {
            carrying.remove(f.key);
            prunedTokens.merge(f.key.object(), f.token, Math::max);
        }
    }

    /** Nobody holds, waits for or tries the futex, and all its record carries is pages given back with it. */
    private static boolean carriesOnlyPages(FutexRecord f) {
        return f.holder == null && f.queue.isEmpty() && f.tries.isEmpty() && !f.ownerDied && f.diedKernelIds.isEmpty()
                && f.staleHeirTid == 0
                && !f.releasedPages.isEmpty() && f.forward == null;
    }

    /**
     * At the bound on records: every record of a free futex that is kept only for the pages given
     * back with it is pruned, its pages left for the next holder to page in (xp-spec 8.8: in the
     * grant or by page-in; nobody else holds them, their data is the pager's). All of them, so
     * that the result does not depend on what the set keeps beyond them.
     *
     * @return how many records were pruned
     */
    int shedCarried() {
        int shed = 0;
        for (FutexKey key; (key = carrying.pollFirst()) != null; ) {
            FutexRecord f = futexes.get(key);
            if (f != null && carriesOnlyPages(f)) {
                f.releasedPages.clear();
                pruneIfIdle(f);
                shed++;
            }
        }
        return shed;
    }

    /** After a restore: the records kept only for their pages. */
    void rebuildCarrying() {
        carrying.clear();
        futexes.values().stream().filter(FutexRecords::carriesOnlyPages).forEach(f -> carrying.add(f.key));
    }

    /** The kernel with this id was declared dead holding {@code f}: its TIDs may be in the word. */
    void died(FutexRecord f, int kernelId) {
        f.deathUntold = true;
        if (kernelId != 0 && !f.diedKernelIds.contains(kernelId)) {
            f.diedKernelIds.add(kernelId);
            diedPending.computeIfAbsent(kernelId, k -> new java.util.TreeSet<>(KEY_ORDER)).add(f.key);
            withDeaths.add(f.key);
        }
    }

    /** The dead kernels' TIDs are gone from the futex's word, and owner_died was told (its grantee recorded it). */
    void deathRecorded(FutexRecord f) {
        f.grantOwnerDied = false;
        f.deathUntold = false;
        tidsGone(f);
    }

    /**
     * The dead kernels' TIDs are gone from the futex's word (the pager saw the word without them,
     * no kernel holding the page: {@code DeathRecorder}), so their prefixes are free of it; an
     * owner_died its current grant carries stays to be told ({@code grantOwnerDied} and
     * {@code deathUntold} are kept: a 0 word is still not clean for the holder's own death).
     */
    void tidsGone(FutexRecord f) {
        for (int id : f.diedKernelIds) {
            java.util.NavigableSet<FutexKey> keys = diedPending.get(id);
            if (keys != null && keys.remove(f.key) && keys.isEmpty()) {
                diedPending.remove(id);
            }
        }
        f.diedKernelIds.clear();
        f.zeroWordClean = false;
        withDeaths.remove(f.key);
    }

    /** Whether some futex's word may still hold a TID of the dead kernel that had this id. */
    boolean diedPending(int kernelId) {
        return diedPending.containsKey(kernelId);
    }

    /** The futexes whose word may still hold a TID of this prefix's dead kernel, by object and offset (empty if none). */
    java.util.NavigableSet<FutexKey> withDeathOf(int prefix) {
        return diedPending.getOrDefault(prefix, java.util.Collections.emptyNavigableSet());
    }

    /** After a restore: a restored record's deaths counted ({@link #diedPending}, {@link #withDeaths}). */
    void restored(FutexRecord f) {
        for (int id : f.diedKernelIds) {
            diedPending.computeIfAbsent(id, k -> new java.util.TreeSet<>(KEY_ORDER)).add(f.key);
        }
        if (!f.diedKernelIds.isEmpty()) {
            withDeaths.add(f.key);
        }
    }

    /** Every futex record, for status. */
    Collection<FutexRecord> all() {
        return futexes.values();
    }

    /** How many futex records the pager keeps. */
    int count() {
        return futexes.size();
    }

    /** How many objects have a token high-water mark (bounded by the objects). */
    int prunedTokenCount() {
        return prunedTokens.size();
    }

    /** How many dead kernel ids futex words may still name. */
    int diedPendingCount() {
        return diedPending.size();
    }
}
