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
 * </pre>
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
        for (FutexKey key : keys) {
            look(key);
        }
    }

    private void look(FutexKey key) {
        FutexRecord f = futexes.records().get(key);
        MemoryObject o = core.catalog.get(key.object());
        if (f == null || o == null) {
            return;
        }
        long pageOffset = key.offset() - key.offset() % core.pageSize;
        byte[] data;
        try {
            data = o.page(pageOffset);
        } catch (UncheckedIOException e) {
            core.storeFailed("page 0x" + Long.toHexString(pageOffset) + " of '" + o.name() + "' cannot be read, so "
                    + "the pager cannot tell which dead kernel's TID the word of its futex at 0x"
                    + Long.toHexString(key.offset()) + " names", e);
            return;
        }
        int at = (int) (key.offset() - pageOffset);
        int word = data == null ? 0 : (data[at] & 0xff) | (data[at + 1] & 0xff) << 8 | (data[at + 2] & 0xff) << 16
                | (data[at + 3] & 0xff) << 24;
        int tid = word & TID_MASK;
        int prefix = tid >>> 20;
        if (tid == 0 || tid == TID_MASK || prefix == 0 || livePrefix(prefix)) {
            return;
        }
        futexes.records().died(f, prefix);
        futexes.prefixes.diedBeforeRestart(prefix, UNKNOWN);
        sessions.ids.restsForDeath(prefix, UNKNOWN);
        CoreContext.log.info("pager {}: the word of futex 0x{} of '{}' names TID {} of a kernel ({}) that held it "
                + "before the restart and did not reclaim it: its id {} rests until its death is recorded",
                core.name, Long.toHexString(key.offset()), key.object(), tid, UNKNOWN, prefix);
    }

    private boolean livePrefix(int prefix) {
        for (KernelSession s : sessions.all()) {
            if (s.welcomed() && s.tidPrefix == prefix) {
                return true;
            }
        }
        return false;
    }
}
