package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the pager has checked out to which kernel, kept in the store (the holders' journal, see
 * {@link PageStore#holder}), so that no pager restart can hand a futex's data on silently older.
 *
 * <h2>Overview</h2>
 * <pre>
 *  grant of futex F to kernel K   the journal says F: K, durable before the grant is sent (the
 *                                 grant and what follows it to K wait in K's outbox, in order; a
 *                                 failed write is written again until it succeeds, see
 *                                 {@link StoreRetries}, while the grant stands)
 *  F back at the pager            F: gone (clean release), or F: DIED (its holder died and its next
 *                                 owner has not been told yet); written as an effect, not waited for
 *  F back from K, which keeps     F: K still, until K gives the page up or the pager takes its dirty
 *    F's page writable              copy (then written as above, if F is free: ReleasedMarks#clear):
 *                                 K's thread may have unlocked F in K's copy only, so a restart
 *                                 after which K does not come back tells F's next owner owner_died
 *                                 and judges its word, as for a holder that did not reclaim
 *                                 (K's unreturned writes are lost); K that reclaims the page
 *                                 writable has F marked on its session again
 *  reclaim of F by K (in grace)   F: K again; F is no longer unreclaimed; a futex the journal
 *                                 gives K that K does not name, K had given back: gone (or its
 *                                 grant was lost with the crash: its word is judged at grace end,
 *                                 {@link #givenBack}); a futex
 *                                 it gives another kernel: K's reclaim is refused (EINVAL), but
 *                                 not under direct handoff, whose reservations are not journaled
 *                                 (xp-spec 14.6: K may reclaim what H forwarded to it)
 *  grace ends                     every F the last pager's journal gave to a kernel that did not
 *                                 reclaim it, or left DIED: its next grant says owner_died;
 *                                 F: DIED is written for each, so that a death no owner was told
 *                                 of outlives another restart (a later reclaim by a kernel of the
 *                                 same name must not take it for a futex given back)
 * </pre>
 * The futex's page travels with it (a kernel holds a futex with its page writable), so the
 * writes its holder made under it and did not return are lost with a holder that did not
 * reclaim: the next owner learns it from owner_died. A pager without a store that may follow an
 * earlier one (not started fresh) has lost every page: each futex's first grant says owner_died.
 * A clean release's removal that a crash overtakes leaves an entry behind: the next owner is then
 * told of a death that did not happen (never the reverse). The grant path is the pager's; a
 * kernel's fast path writes nothing.
 */
final class FutexJournal {
    private final CoreContext core;
    private final PageStore store;
    /** After a restart, until grace ends: futexes the last pager checked out (or left DIED), not reclaimed yet. */
    final Map<FutexKey, String> unreclaimed = new LinkedHashMap<>();
    /** A pager without a store after a restart: every page is lost; the futexes whose owners were told. */
    private final boolean allLost;
    final Set<FutexKey> told = new HashSet<>();
    /**
     * After a restart, until grace ends: futexes the journal gave to a kernel that reclaimed without
     * naming them, in order. It gave them back, or their grant never reached it (lost with the
     * crash): a grant with owner_died then leaves the dead holder's TID in the word, and only this
     * pager's memory, gone, knew of that death (chaos seed 1171). At grace end {@link RestartDeaths}
     * judges their words as it does the unreclaimed futexes'.
     */
    final Set<FutexKey> givenBack = new java.util.LinkedHashSet<>();
    /**
     * Whether a name in the journal is the futex's only possible holder: not under direct handoff
     * (xp-spec 14.6), where F: H may stand while K holds H's forwarded copy under the reserved token.
     */
    private final boolean namesTheHolder;

    /**
     * @param restarted the pager may follow one whose kernels held futexes (it has a grace period)
     * @param reclaims its store keeps pages across restarts
     * @param directHandoff the pager orders forwards (its last start did too: the same configuration)
     */
    FutexJournal(CoreContext core, boolean restarted, boolean reclaims, boolean directHandoff) {
        this.core = core;
        this.namesTheHolder = !directHandoff;
        this.store = core.catalog.store();
        this.allLost = restarted && !reclaims;
        if (restarted && reclaims) {
            for (PageStore.Holder h : store.holders()) {
                unreclaimed.put(new FutexKey(h.object(), h.offset()), h.kernel());
            }
        }
    }

    /**
     * Sends the grant of {@code key} to {@code s} once the journal says so on disk; a failed
     * journal write is written again while {@code current} (the grant still stands; not if the
     * futex went on meanwhile, whose later entry it must not overwrite).
     */
    void granted(KernelSession s, FutexKey key, PagerToKernel grant, java.util.function.BooleanSupplier current) {
        String kernel = s.kernelName != null ? s.kernelName : s.toString();
        core.sendAfterStore(s, grant, () -> store.holder(key.object(), key.offset(), kernel), current);
    }

    /** The futex is back at the pager; {@code diedPending}: its next owner must be told of a death. */
    void released(FutexKey key, boolean diedPending) {
        core.env.storeEffect(() -> store.holder(key.object(), key.offset(), diedPending ? PageStore.DIED : null),
                failure -> {
                    if (failure != null) {
                        core.journalFailed("the futex holders' journal entry of " + key, failure);
                    }
                });
    }

    /**
     * The futex is back at the pager while {@code writer}, which gave it back before, still keeps
     * its page writable (its unlock may be in its copy only): the entry names the writer again
     * until it gives the page up. Written as an effect, as a release's.
     */
    void keptBy(KernelSession writer, FutexKey key) {
        String kernel = writer.kernelName != null ? writer.kernelName : writer.toString();
        core.env.storeEffect(() -> store.holder(key.object(), key.offset(), kernel), failure -> {
            if (failure != null) {
                core.journalFailed("the futex holders' journal entry of " + key, failure);
            }
        });
    }

    /**
     * Why {@code kernel} cannot reclaim {@code key}: the last pager granted it to another kernel
     * (its entry names that one, not a death); null if the entry names {@code kernel} or there is
     * none (the other checks of a reclaim judge it then). A kernel's name is its word (spec 1.4):
     * this stops a kernel that reclaims by mistake (a wrong name or id) what another holds, not one
     * that takes another's name. Under direct handoff the journal does not know the reservation (a
     * forward's target may reclaim under the reserved token, xp-spec 14.6), so nothing is refused
     * here: two kernels that both reclaim the futex are judged by {@link FutexReclaims#reclaim}.
     */
    String grantedToAnother(String kernel, FutexKey key) {
        String holder = unreclaimed.get(key);
        return !namesTheHolder || holder == null || holder.equals(PageStore.DIED) || holder.equals(kernel) ? null
                : "it reclaims futex 0x" + Long.toHexString(key.offset()) + " of " + Shown.quoted(key.object())
                        + ", which the last pager granted to kernel " + Shown.quoted(holder) + ", not to this one";
    }

    /** {@code s} reclaimed the futex in grace: it holds it again. */
    void reclaimed(KernelSession s, FutexKey key) {
        String last = unreclaimed.remove(key);
        if (PageStore.DIED.equals(last)) {
            unreclaimed.put(key, last); // a death no owner was told of yet: still to tell
        }
        core.env.storeEffect(() -> store.holder(key.object(), key.offset(), s.kernelName), failure -> {
            if (failure != null) {
                core.journalFailed("the futex holders' journal entry of " + key, failure);
            }
        });
    }

    /**
     * {@code kernel} reclaimed, naming every futex it holds: a futex the journal gives it and it did
     * not name, it had given back (a release the crash overtook; its page came back with the
     * reclaim's returns), so nothing of it is lost. One on a page it reclaimed writable it gave
     * back keeping the page (the entry stays until it gives the page up): {@code keptWritable}
     * marks it on its session again, and its entry stays; its word is judged at grace end as the
     * others' ({@link #givenBack}).
     */
    void reclaimComplete(String kernel, java.util.function.Predicate<FutexKey> keptWritable) {
        for (var it = unreclaimed.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().equals(kernel)) {
                it.remove();
                givenBack.add(e.getKey());
                if (!keptWritable.test(e.getKey())) {
                    released(e.getKey(), false);
                }
            }
        }
    }

    /** Grace is over: the futexes whose holders did not reclaim them (or whose deaths were not told yet). */
    List<FutexKey> graceEnded() {
        List<FutexKey> lost = new ArrayList<>(unreclaimed.keySet());
        if (!lost.isEmpty()) {
            CoreContext.log.warn("pager {}: {} futexes were held by kernels that did not reclaim them (or their "
                    + "owners had died): their next owners are told OWNER_DIED", core.name, lost.size());
        }
        unreclaimed.forEach((key, holder) -> {
            if (!holder.equals(PageStore.DIED)) {
                released(key, true); // on disk as in memory: the next grant says owner_died
            }
        });
        unreclaimed.clear();
        givenBack.clear();
        return lost;
    }

    /** Whether the futex's grant must say owner_died because this pager lost its pages (no store). */
    boolean lostWithPages(FutexKey key) {
        return allLost && told.add(key);
    }
}
