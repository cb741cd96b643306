package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.store.PageStore;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * At the end of the grace period after a restart, which dead kernels' TIDs futex words may still
 * carry (xp-spec 2.5, 8.7, 9.6): part of the pager core beside {@link PagerGrace}, core thread only,
 * no state of its own.
 *
 * <h2>Overview</h2>
 * Before a crash the pager knew which kernel ids the words of the futexes that went on with
 * owner_died may still name ({@code FutexRecord.diedKernelIds}), and kept those ids and TID
 * prefixes back until each death was recorded. Only its store survives the crash: the holders'
 * journal names the futexes whose holders did not reclaim them (or whose deaths no owner was told
 * of), by kernel name, not by id, and the restarted pager gives ids from 1 again. So a kernel of a
 * new name could get the id of a kernel whose TID is still in a stored word; its own thread would
 * then read as the word's owner (ESRCH for its lockers, EDEADLK for that thread, for ever once the
 * pager's own recording took the TID for one a task wrote). The pager derives the lost knowledge
 * from what it can vouch for, the words in its copy of the pages, which is the page once grace
 * ends (a newer reclaimed copy has replaced it):
 * <pre>
 *  futex the journal gave to a kernel      the word's TID (not 0, not 0x3fffffff) names a prefix p
 *    that did not reclaim it, or left DIED,  that no welcomed session has:
 *    or reclaimed by a grantee that was       the futex names p as a dead kernel's
 *    told owner_died (the death it carries    ({@code FutexRecords#died}), p is a dead kernel's TID
 *    was declared before the crash)           prefix ({@link TidPrefixes#diedBeforeRestart}) and id
 *                                             p rests ({@link KernelIds#restsForDeath}) until the
 *                                             death is recorded: by a grantee told owner_died, or by
 *                                             the pager's own recording, which now writes OWNER_DIED
 *                                             over that TID instead of leaving it as a task's
 *  any other word                          -> nothing (a 0 word: the next grant's owner_died tells)
 *
 *  then, the futexes so marked             -> handed to {@link DeathRecorder#died}, as at a death
 *                                             before the crash: one nobody holds, waits for or
 *                                             forwards, on a page no kernel holds, is recorded at
 *                                             once (OWNER_DIED in the pager's copy; the prefix and
 *                                             the id are free again once no futex names them); the
 *                                             others when their grantee records it or its copy no
 *                                             longer names p, their page's writer gives it up, or
 *                                             ids or records run short (holders asked back then)
 * </pre>
 * Each page is read once for all its futexes looked at (the futexes come in key order, so page by
 * page): a journal naming many futexes of one page costs one read of it, not one per futex. The
 * prefixes of the kernels welcomed back are gathered once, not walked per futex, and the marked
 * futexes are logged in one line, counted per prefix (deaths review LOW-3).
 */
final class RestartDeaths {
    private static final int TID_MASK = 0x3fffffff;
    /** The name every prefix found in a stored word rests under: nobody's (the word's prefix need not be the journal holder's). */
    static final String UNKNOWN = "(a kernel that held futexes before pager restart)";

    private final CoreContext core;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;

    RestartDeaths(CoreContext core, PagerFutexes futexes, PagerSessions sessions) {
        this.core = core;
        this.futexes = futexes;
        this.sessions = sessions;
    }

    /**
     * Grace is over. {@code lost}: the journal's entries not reclaimed, futex to the kernel name it
     * gave the futex to ({@link PageStore#DIED} for a death no owner was told of yet).
     */
    void graceEnded(Map<FutexKey, String> lost) {
        // In key order, not the maps' (hash) order: the order sets the order the ids rest in, so
        // every replica, one restored from a snapshot too, must look alike. The word's prefix need
        // not be the journal's holder's (a stale copy flushed by another kernel), so no name is
        // attached: the id rests under nobody's name and no kernel is welcomed back with it.
        java.util.List<FutexKey> keys = new java.util.ArrayList<>(lost.keySet());
        for (FutexRecord f : futexes.all()) {
            if (f.holder != null && f.grantOwnerDied && !lost.containsKey(f.key)) {
                keys.add(f.key); // reclaimed by a grantee told of a death declared before the crash
            }
        }
        keys.sort(FutexRecords.KEY_ORDER);
        // The prefixes of the kernels welcomed back, once (late12 LOW-1, deaths review LOW-3: a
        // walk of every session per lost futex was O(lost x sessions) in one core event).
        java.util.Set<Integer> live = new java.util.HashSet<>();
        for (KernelSession s : sessions.all()) {
            if (s.welcomed()) {
                live.add(s.tidPrefix);
            }
        }
        // Futexes reclaimed by holders not told owner_died: a writer that kept the page after giving
        // the futex back may not have come back, its unlock lost with its copy (seeds 1304, 7469).
        // Judged first, so that a word corrected here is not also taken for an untold death below.
        java.util.List<FutexKey> heldUntold = new java.util.ArrayList<>();
        for (FutexRecord f : futexes.all()) {
            if (f.holder != null && !f.holder.gone && !f.grantOwnerDied && f.forward == null
                    && !lost.containsKey(f.key)) {
                heldUntold.add(f.key);
            }
        }
        heldUntold.sort(FutexRecords.KEY_ORDER);
        sessions.deaths.revertingLostWriters(heldUntold, p -> p != 0 && !live.contains(p));
        java.util.TreeMap<Integer, Integer> markedPerPrefix = new java.util.TreeMap<>();
        java.util.List<FutexKey> marked = new java.util.ArrayList<>();
        PageRead page = null; // the page last read: keys in key order come page by page
        for (FutexKey key : keys) {
            FutexKey pageKey = new FutexKey(key.object(), key.offset() - key.offset() % core.pageSize);
            if (page == null || !page.key.equals(pageKey)) {
                page = read(pageKey);
            }
            int prefix = look(key, page, live);
            if (prefix != 0) {
                marked.add(key);
                markedPerPrefix.merge(prefix, 1, Integer::sum);
            }
        }
        if (!marked.isEmpty()) {
            CoreContext.log.info("pager {}: the words of {} futexes name TIDs of kernels ({}) that held them before "
                    + "the restart and did not reclaim them, per TID prefix {}: those ids rest until the deaths are "
                    + "recorded", core.name, marked.size(), UNKNOWN, markedPerPrefix);
        }
        // As a death before the crash: what the pager can record now (no kernel holds the page, nobody
        // holds, waits for or forwards the futex), it records in its copy, which is the page now that
        // grace is over; the rest when a writer gives the page up, by a grantee told owner_died, or
        // when ids or records run short (DeathRecorder). Without this a dead prefix found here stayed
        // refused to kernels that state it (primary elsewhere) until ids ran short (late12 MED-2).
        sessions.deaths.died(marked);
    }

    /** A page of the pager's copy read once for all the futexes of it looked at (data null: zeros; failed: unreadable). */
    private record PageRead(FutexKey key, byte[] data, boolean failed) {
    }

    private PageRead read(FutexKey pageKey) {
        MemoryObject o = core.catalog.get(pageKey.object());
        if (o == null) {
            return new PageRead(pageKey, null, true);
        }
        try {
            return new PageRead(pageKey, o.page(pageKey.offset()), false);
        } catch (UncheckedIOException e) {
            core.storeFailed("page 0x" + Long.toHexString(pageKey.offset()) + " of '" + o.name() + "' cannot be read, "
                    + "so the pager cannot tell which dead kernels' TIDs the words of its futexes name", e);
            return new PageRead(pageKey, null, true);
        }
    }

    /** The dead kernel's TID prefix the futex's word names, now marked as such; else 0. */
    private int look(FutexKey key, PageRead page, java.util.Set<Integer> live) {
        FutexRecord f = futexes.records().get(key);
        if (f == null || page.failed) {
            return 0;
        }
        byte[] data = page.data;
        int at = (int) (key.offset() - page.key.offset());
        int word = data == null ? 0 : (data[at] & 0xff) | (data[at + 1] & 0xff) << 8 | (data[at + 2] & 0xff) << 16
                | (data[at + 3] & 0xff) << 24;
        int tid = word & TID_MASK;
        int prefix = tid >>> 20;
        if (tid == 0 || tid == TID_MASK || prefix == 0 || live.contains(prefix)) {
            return 0;
        }
        futexes.records().died(f, prefix);
        futexes.prefixes.diedBeforeRestart(prefix, UNKNOWN);
        sessions.ids.restsForDeath(prefix, UNKNOWN);
        return prefix;
    }
}
