package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * The pager records dead kernels' owner_died in futex words itself (xp-spec 2.5, 8.7), as Linux's
 * robust-list walk does for a thread that exits, so that a kernel that died holding a futex nobody
 * locks again pins neither its kernel id nor the futex's record. Part of the pager core beside
 * {@link PagerSessions}; core thread only; no state of its own (what waits is in the futex
 * records) but where the last forced look stopped ({@link #cursor}, in the snapshot).
 *
 * <h2>Overview</h2>
 * A death is <i>unrecorded</i> while a futex nobody holds, waits for or forwards names dead kernels'
 * TID prefixes ({@code FutexRecord.diedKernelIds}). For it the pager looks at the futex word in its
 * own copy of the page, once no kernel holds the page ({@link PageCoherence#recordDeathsWhenUnheld}):
 * <pre>
 *  page unheld, nothing in progress   -> recorded now, as below
 *  page held read-only by kernels     -> a page operation of the pager's, queued behind the page's
 *    (or operations on it)               others, flushes the readers (lock_request, as for a write);
 *                                        recorded once they answered (not if a writer came meanwhile)
 *  page held writable                 -> not now: its writer's copy is the page. Done when the
 *                                        writer gives it up ({@link #writerGone}: return, release's
 *                                        pages, flush or downgrade answered, its death); and when
 *                                        kernel ids run short ({@link KernelIds#free}) or the futex
 *                                        records are full, before a refusal, the pager takes the page
 *                                        back from its writer (flush with its dirty data, as for a
 *                                        write; also when a stated TID prefix is refused for a dead
 *                                        kernel's) and records then, so no writer pins dead kernels' ids
 *  grace period after a restart       -> not now (kernels may hold newer pages not reclaimed yet)
 *
 *  word's TID carries a dead prefix,  -> (word & WAITERS) | OWNER_DIED written into the pager's copy
 *    or is 0 and a dead kernel held      at version + 1 (stored as a kernel's return is, durably
 *    the page writable when declared     with a store); the next locker reads it with the page
 *    dead (its unreturned write of its   and gets EOWNERDEAD, as after Linux's robust-list walk
 *    TID may be lost with the page)      (one read and at most one write per page)
 *  0, no dead kernel had the page     -> left as is, as on Linux: no TID of it can be there or
 *    writable at its death, since the    lost (a kernel changes a word only with the page writable)
 *    last death told ({@code
 *    FutexRecord.zeroWordClean},
 *    {@code deathUntold})
 *  another TID (a task wrote it),     -> left as is (its next locker gets ESRCH, as on Linux)
 *    OWNER_DIED|0x3fffffff
 *    (not recoverable), OWNER_DIED
 *  then                               -> the death is recorded: the futex no longer names the
 *                                        dead kernels nor carries owner_died to its next grant
 *                                        (but for a word left alone without OWNER_DIED while the
 *                                        owner_died of a grant nobody told is owed: that goes on
 *                                        to the next grant, seeds 234, 249),
 *                                        its record is pruned if idle, and their ids and TID
 *                                        prefixes are free once no other futex names them
 * </pre>
 * A kernel declared dead holding pages writable loses its copies: before its pages revert to the
 * pager's copy, {@link #revertingWriter} writes OWNER_DIED over each known futex word there that
 * names its threads or a gone kernel's, judged by TID prefix (one the records may no longer say is
 * dead: a futex it released, or a death it recorded only in its lost copy; chaos seeds 965 and
 * 307), looking only at the pages it held writable, and there at the futexes the pager has a record
 * of and those it released keeping the page (marked on its session until it gives the page up,
 * their records pruned if idle: seed 474).
 * Deaths are handed to {@link #died} when a kernel is declared dead and at the end of grace after a
 * restart ({@link RestartDeaths}); {@link #recordAll} runs when ids or records run short and when
 * a hello's stated TID prefix is refused for a dead kernel's ({@link PagerSessions#mayUsePrefix}).
 * Only the futexes that carry a death are looked at ({@code FutexRecords.withDeaths}), page by page
 * in the order of object and offset; when ids or records run short, a bounded number of them per
 * call, going on from where the last call stopped ({@link #recordAll}, {@link #cursor}).
 * A futex granted with owner_died (a kernel waited for it) is recorded by its grantee as before
 * (plain OWNER_DIED over any word but not recoverable: xp-spec 8.7 says why the two differ). Its
 * grantee may cache it for long after (xp-spec 8.2), so the dead kernel's TIDs also count as gone
 * from it when the pager's copy of its page, no kernel holding the page, names none of its dead
 * kernels' threads ({@link #tidsGoneFromHeld}: the grant's owner_died stays), and the forced looks
 * ({@link #recordAll}, {@link #recordFor}) take such a futex's page back from its writer and ask
 * an idle one back from its holder (deaths review MED-1: a grantee caching it kept the dead
 * prefix refused and its id resting for as long).
 * The holders' journal keeps its DIED entry (a restart then tells the next owner twice, never
 * not at all). Every replica of a replicated pager does the same on the same inputs: the
 * recording runs inside the core, its write goes to the store as a return's does, and its page
 * operation is in the core's snapshot ({@code PageOperationImage.record_deaths}).
 */
final class DeathRecorder {
    /** The TID bits of a futex word (FUTEX_TID_MASK). */
    static final int TID_MASK = 0x3fffffff;
    private static final int WAITERS = 0x80000000;
    private static final int OWNER_DIED = 0x40000000;

    private final CoreContext core;
    private final FutexRecords records;
    private final PageCoherence pages;
    /** Whether the pager is in its grace period after a restart (then its copy may not be the page yet). */
    private BooleanSupplier inGrace = () -> false;

    DeathRecorder(CoreContext core, FutexRecords records, PageCoherence pages) {
        this.core = core;
        this.records = records;
        this.pages = pages;
        pages.onDeathRecording(this::record);
        pages.onWriterGone(this::writerGone);
        pages.onWriterCopyTaken(this::writerCopyTaken);
    }

    /**
     * The grace period after a restart: until it ends, a page kernels have not reclaimed yet may
     * be newer at a kernel than in the pager's copy, so nothing is recorded (a later trigger does it).
     */
    void inGrace(BooleanSupplier g) {
        this.inGrace = g;
    }

    /** A kernel was declared dead holding these futexes: what the pager can record now, it records. */
    void died(List<FutexKey> held) {
        NavigableSet<FutexKey> pageKeys = new TreeSet<>(FutexRecords.KEY_ORDER);
        for (FutexKey key : held) {
            if (unrecorded(records.get(key))) {
                pageKeys.add(pageOf(key));
            }
        }
        recordIn(pageKeys, false);
    }

    /**
     * A kernel is declared dead holding pages writable: they revert to the pager's copy, which may
     * be older than its writes. A futex word there may name a thread that is no longer: one of its
     * own from when it held the futex (it released it since, maybe to another kernel already,
     * chaos seed 965), or one of a kernel that died before, whose death the dead writer recorded
     * in its lost copy as the grantee of an owner_died (seed 307: the pager's copy, never returned
     * since, kept that kernel's TID). Before the page is served again, each such word (TID prefix
     * the dead writer's, or a gone kernel's, {@code deadPrefix}: judged by TID prefix, xp-spec 2.9)
     * gets {@code (word & WAITERS) | OWNER_DIED} in the pager's copy, so no word the pager serves
     * names a dead kernel's thread without OWNER_DIED (its next locker gets EOWNERDEAD, as for a
     * word the pager records a death in); but a word naming the stale heir a release named
     * ({@link FutexRecord#staleHeirTid}, a thread that owned nothing) becomes 0, as its grantee
     * would write it. Only futexes the pager has a record of are looked at (it knows no other
     * futex words; never every word of a page: a TID-looking word of task data stays, xp-spec
     * 2.5), and those {@code s} gave back while keeping their page writable
     * ({@code KernelSession.releasedWhileWriting}: nobody waiting, their records are pruned at the
     * release, so the words its thread unlocked in its lost copy only were not judged, and every
     * later locker got ESRCH: chaos --mix contended seed 474), and only those of the pages
     * {@code s} holds writable: looked up
     * word by word in those pages, or, when that would be more look-ups than there are records, by
     * a walk of the records (late12 LOW-1: each death walked every record); either way the same
     * futexes, and their pages in the order of object and offset. In the grace period after a
     * restart only the writer's own prefix (kernels may not have come back yet). Called before the
     * session's pages are forgotten, while {@code s} still holds them.
     */
    void revertingWriter(KernelSession s, java.util.function.IntPredicate deadPrefix) {
        if (s.tidPrefix == 0) {
            return;
        }
        List<io.machxp.pager.page.PageKey> written = pages.writtenBy(s);
        if (written.isEmpty()) {
            return;
        }
        boolean grace = inGrace.getAsBoolean();
        java.util.function.IntPredicate dead = p -> p == s.tidPrefix || !grace && deadPrefix.test(p);
        java.util.Map<FutexKey, NavigableSet<FutexKey>> byPage = new java.util.TreeMap<>(FutexRecords.KEY_ORDER);
        long wordsPerPage = core.pageSize / 4; // futex words are 4-aligned
        if ((long) written.size() * wordsPerPage <= records.count()) {
            for (io.machxp.pager.page.PageKey page : written) {
                for (long at = page.offset(); at < page.offset() + core.pageSize; at += 4) {
                    FutexRecord f = records.get(new FutexKey(page.object(), at));
                    if (f != null) {
                        wordOf(byPage, f.key);
                    }
                }
            }
            core.stats.walked.add(written.size() * wordsPerPage);
        } else {
            for (FutexRecord f : records.all()) { // order does not matter: the pages are sorted, each word judged alone
                FutexKey page = pageOf(f.key);
                if (pages.writes(s, page.object(), page.offset())) {
                    wordOf(byPage, f.key);
                }
            }
            core.stats.walked.add(records.count());
        }
        for (FutexKey key : s.releasedWhileWriting) { // released keeping the page: their records may be pruned
            FutexKey page = pageOf(key);
            if (pages.writes(s, page.object(), page.offset())) {
                wordOf(byPage, key);
            }
        }
        core.stats.walked.add(s.releasedWhileWriting.size());
        byPage.forEach((page, here) -> {
            MemoryObject o = core.catalog.get(page.object());
            int corrected = o == null ? 0 : correctStaleWords(o, page.offset(), here, dead);
            if (corrected > 0) {
                CoreContext.log.info("pager {}: page 0x{} of '{}' reverted to the pager's copy, in which {} words of "
                        + "futexes the dead kernel (TID prefix {}) no longer held, or of kernels gone before, still named "
                        + "their threads: OWNER_DIED written", core.name, Long.toHexString(page.offset()), o.name(),
                        corrected, s.tidPrefix);
            }
        });
    }

    /**
     * Grace after a restart is over: {@code held} are futexes kernels reclaimed as holders under
     * grants that told them no owner_died. A kernel that kept such a futex's page writable after
     * giving the futex back (its thread unlocked the word in its copy only, the pager's copy still
     * naming that thread) may have died without reclaiming: its copy is lost as at a death, but the
     * restarted pager does not know the futex as one it released keeping the page (the journal
     * entry naming it, kept while it is marked, was overwritten by the grantee's grant), and the
     * futex's grantee, which reclaimed it as holder and waits for the page, reads the dead thread's
     * TID: ESRCH for every locker (chaos --mix contended seeds 1304, 7469). So the words of these
     * futexes are judged as a dead writer's revert judges them ({@link #revertingWriter}): on a page
     * no kernel holds (nobody reclaimed it: the pager's copy is the page, and no other copy is left
     * behind by a change), a word whose TID prefix {@code dead} says belongs to no kernel that came
     * back gets {@code (word & WAITERS) | OWNER_DIED} (a stale heir's, 0). A page a kernel reclaimed
     * is left: its copy may be newer than the pager's (judging the pager's older word there gave
     * false EOWNERDEADs), and a word naming a kernel that came back (the holder's own thread, which
     * locked it before the page was taken from it) stays. {@code held} in the order of object and offset.
     */
    void revertingLostWriters(List<FutexKey> held, java.util.function.IntPredicate dead) {
        java.util.Map<FutexKey, NavigableSet<FutexKey>> byPage = new java.util.TreeMap<>(FutexRecords.KEY_ORDER);
        for (FutexKey key : held) {
            wordOf(byPage, key);
        }
        core.stats.walked.add(held.size());
        byPage.forEach((page, here) -> {
            MemoryObject o = core.catalog.get(page.object());
            if (o == null || !pages.unheld(o.name(), page.offset())) {
                return;
            }
            int written = correctStaleWords(o, page.offset(), here, dead);
            if (written > 0) {
                CoreContext.log.info("pager {}: page 0x{} of '{}', which no kernel reclaimed, had {} words of futexes "
                        + "reclaimed by their holders naming threads of kernels that did not come back after the "
                        + "restart (a writer's unlock lost with its copy): OWNER_DIED written", core.name,
                        Long.toHexString(page.offset()), o.name(), written);
            }
        });
    }

    /** Adds the futex word {@code key} to those of its page to judge, once. */
    private void wordOf(java.util.Map<FutexKey, NavigableSet<FutexKey>> byPage, FutexKey key) {
        byPage.computeIfAbsent(pageOf(key), k -> new TreeSet<>(FutexRecords.KEY_ORDER)).add(key);
    }

    /**
     * The words of {@code here} in the pager's copy of the page that name a thread of a dead kernel:
     * OWNER_DIED written over each (a stale heir's: 0). Returns how many.
     */
    private int correctStaleWords(MemoryObject o, long pageOffset, java.util.Collection<FutexKey> here,
            java.util.function.IntPredicate dead) {
        PageCopy copy = readPage(o, pageOffset, "words a dead kernel's threads may still own in it are not corrected");
        if (copy == null) {
            return 0;
        }
        byte[] data = copy.data;
        long version = copy.version;
        if (data == null) {
            return 0; // zeros: no word names anyone
        }
        byte[] changed = null;
        int written = 0;
        for (FutexKey key : here) {
            int at = (int) (key.offset() - pageOffset);
            int word = wordAt(data, at);
            int tid = word & TID_MASK;
            if (tid != 0 && tid != TID_MASK && dead.test(tid >>> 20)) {
                if (changed == null) {
                    changed = data.clone();
                }
                // A stale heir a release named (xp-spec 8.4) owned nothing: free, as its grantee would write it.
                // (A futex released keeping its page may have no record left: it carries no stale heir.)
                FutexRecord f = records.get(key);
                boolean stale = f != null && tid == f.staleHeirTid && (word & OWNER_DIED) == 0;
                putWord(changed, at, stale ? 0 : (word & WAITERS) | OWNER_DIED);
                written++;
            }
        }
        if (changed == null) {
            return 0;
        }
        core.storeWrite(null, o, pageOffset, changed, version + 1, "the page store failed to write page 0x"
                + Long.toHexString(pageOffset) + " of '" + o.name() + "', in which the pager recorded OWNER_DIED "
                + "over a dead kernel's TIDs its reverted copy still carried: until it is written it is kept in memory only");
        core.stats.deathsRecordedByPager.add(written);
        return written;
    }

    /** Futexes carrying a death {@link #recordAll} looks at per call, at most: the rest at the next calls. */
    static final int LOOKED_PER_CALL = 128;

    /**
     * The futex {@link #recordAll} looked at last (null: none yet): the next call goes on past it,
     * in the order of object and offset, wrapping. Replicated state: in the snapshot
     * ({@code PagerSnapshot.death_cursor}), so that every replica looks at the same futexes next.
     */
    FutexKey cursor;

    /**
     * Unrecorded deaths are looked at again (a page held writable when its kernel died may have
     * come back since): when kernel ids run short and when the pager keeps as many futex records as
     * it may. Looks only at the futexes that carry a death ({@code FutexRecords.withDeaths}), at
     * most {@link #LOOKED_PER_CALL} of them, from past the {@link #cursor} on, in the order of
     * object and offset (wrapping), so that every replica sends the same flushes and asks in the
     * same order, and each call goes on where the last stopped ({@link #look}).
     */
    void recordAll() {
        look(records.withDeaths);
    }

    /**
     * As {@link #recordAll}, for the futexes whose words may still carry TIDs of {@code prefix}
     * only ({@code FutexRecords.withDeathOf}): a hello that states that prefix was refused for
     * them (deaths review MED-1), so the look goes where the refusal waits, whatever other deaths
     * are unrecorded (same cursor: a position in the order of object and offset).
     */
    void recordFor(int prefix) {
        look(records.withDeathOf(prefix));
    }

    /**
     * Looks at up to {@link #LOOKED_PER_CALL} futexes of {@code withDeaths} past the
     * {@link #cursor} (wrapping), and for each:
     * <pre>
     *  nobody holds, waits for or forwards it  -> its page taken back from its writer, then the
     *                                             death recorded in the pager's copy ({@link #record})
     *  a kernel holds it (told owner_died,    -> its page taken back, so that the pager sees whether
     *    or a stale heir's TID to rewrite),       the word still names a dead kernel's thread
     *    nobody forwards it
     *                                             ({@link #record}: if not, the death's TIDs are gone
     *                                             though the futex stays); and if nobody waits for it,
     *                                             asked back, relinquish_futex(try) as the records'
     *                                             bound asks (FutexParking; not while asked, or kept
     *                                             a while ago): an idle cached futex comes back and its
     *                                             release records the death
     *  others (forwarded)                      -> left: its next grant records it
     * </pre>
     * Before, the held ones were left too, so a grantee caching the futex (xp-spec 8.2) kept the
     * dead kernel's prefix refused and its id resting for as long as it cached it (deaths review
     * MED-1). Held or waited for ones count in the bound though they may send nothing (walks review
     * F2).
     */
    private void look(NavigableSet<FutexKey> withDeaths) {
        if (inGrace.getAsBoolean()) {
            return; // nothing is recorded: the cursor stays
        }
        NavigableSet<FutexKey> pageKeys = new TreeSet<>(FutexRecords.KEY_ORDER);
        int looked = Math.min(LOOKED_PER_CALL, withDeaths.size());
        FutexKey key = cursor;
        for (int i = 0; i < looked; i++) {
            FutexKey next = key == null ? null : withDeaths.higher(key);
            key = next != null ? next : withDeaths.first();
            FutexRecord f = records.get(key);
            if (unrecorded(f)) {
                pageKeys.add(pageOf(key));
            } else if (heldByGrantee(f)) {
                if (f.queue.isEmpty() && f.tries.isEmpty()) {
                    askBack.accept(f);
                }
                pageKeys.add(pageOf(key));
            }
        }
        if (looked > 0) {
            cursor = key;
        }
        core.stats.walked.add(looked);
        recordIn(pageKeys, true);
    }

    /** Who asks a holder to give a futex back (FutexParking's relinquish_futex(try)). */
    private java.util.function.Consumer<FutexRecord> askBack = f -> { };

    void onAskBack(java.util.function.Consumer<FutexRecord> a) {
        this.askBack = a;
    }

    /**
     * A kernel holds the futex, which carries deaths not its own, under a grant that told it
     * owner_died or named a stale heir (stale_heir_tid, {@link StaleHeirs}: its grantee rewrites
     * the word once the page is writable there), and nobody forwards it: the dead kernels write no
     * more, so once the pager's copy of the page (no kernel holding it) names none of their
     * threads, none is left. Not a futex whose holder's own TIDs it carries (a holder being
     * declared dead, or one that gave it back with owner_died and took it again): its live threads
     * may be in the word. (Before, a grantee caching a stale heir's futex without its page kept
     * the heir's prefix refused and its id resting for as long: staleheir review MED-2.)
     */
    private static boolean heldByGrantee(FutexRecord f) {
        return f != null && !f.diedKernelIds.isEmpty() && f.holder != null && (f.grantOwnerDied || f.staleHeirTid != 0)
                && !f.holder.gone && f.forward == null && !f.diedKernelIds.contains(f.holder.tidPrefix);
    }

    /**
     * A kernel gave up writing the page (returned it, answered a flush or downgrade, or was
     * forgotten): deaths its futexes carry are recorded now that the pager's copy may be the page,
     * and the futexes it gave back keeping the page are no longer marked on its session
     * ({@code KernelSession.releasedWhileWriting}).
     */
    void writerGone(KernelSession writer, MemoryObject o, long pageOffset) {
        FutexKey from = new FutexKey(o.name(), pageOffset);
        // its copy, unlocks in it included, is the pager's now (or lost with its death, after the revert judged them)
        writerCopyTaken(writer, o, pageOffset);
        FutexKey next = records.withDeaths.ceiling(from);
        if (next != null && next.object().equals(o.name()) && next.offset() < pageOffset + core.pageSize
                && !inGrace.getAsBoolean()) {
            pages.recordDeathsWhenUnheld(o, pageOffset);
        }
    }

    /**
     * The writer of a page returned its dirty data and the pager took it, the writer keeping the
     * page (kernel_copy: an msync, a write-back), or it gave the page up ({@link #writerGone}):
     * the unlocks in its copy of the futexes it gave back keeping the page are in the pager's copy
     * now, so their marks go ({@code KernelSession.releasedWhileWriting}). A futex it gives back
     * later is marked again; one it takes again has a record while held, which the revert judges.
     * Before, a kept return left them until the page was given up (review deaths3 LOW-3).
     */
    void writerCopyTaken(KernelSession writer, MemoryObject o, long pageOffset) {
        marks.clear(writer, o.name(), pageOffset); // their journal entries, left naming the writer, written now
    }

    /** The marks' keeper (PagerFutexes'): their journal entries go with them. */
    private ReleasedMarks marks;

    void marks(ReleasedMarks m) {
        this.marks = m;
    }

    /** {@code takeFromWriter}: ids or records run short, so a page held writable is taken back too. */
    private void recordIn(NavigableSet<FutexKey> pageKeys, boolean takeFromWriter) {
        if (inGrace.getAsBoolean()) {
            return;
        }
        for (FutexKey page : pageKeys) {
            MemoryObject o = core.catalog.get(page.object());
            if (o != null && takeFromWriter) {
                pages.recordDeathsTakingTheWriter(o, page.offset());
            } else if (o != null) {
                pages.recordDeathsWhenUnheld(o, page.offset());
            }
        }
    }

    /** The page of a futex, as a key of its object and the page's offset. */
    private FutexKey pageOf(FutexKey key) {
        return new FutexKey(key.object(), key.offset() - key.offset() % core.pageSize);
    }

    /** Whether the futex carries a death nobody will record by a grant: nobody holds, waits for or forwards it. */
    private static boolean unrecorded(FutexRecord f) {
        return f != null && !f.diedKernelIds.isEmpty() && f.holder == null && f.queue.isEmpty() && f.tries.isEmpty()
                && f.forward == null;
    }

    /** No kernel holds the page: the deaths its futexes carry are recorded in the pager's copy. */
    private void record(MemoryObject o, long pageOffset) {
        List<FutexRecord> here = new ArrayList<>();
        List<FutexRecord> held = new ArrayList<>();
        for (FutexKey key : records.withDeaths.subSet(new FutexKey(o.name(), pageOffset), true,
                new FutexKey(o.name(), pageOffset + core.pageSize), false)) { // only those that carry a death
            FutexRecord f = records.get(key);
            if (unrecorded(f)) {
                here.add(f);
            } else if (heldByGrantee(f)) {
                held.add(f);
            }
        }
        if (here.isEmpty() && held.isEmpty()) {
            return;
        }
        PageCopy copy = readPage(o, pageOffset,
                "the deaths of kernels that held its futexes are not recorded yet (their ids wait)");
        if (copy == null) {
            return;
        }
        byte[] data = copy.data;
        long version = copy.version;
        tidsGoneFromHeld(o, pageOffset, data, held);
        if (here.isEmpty()) {
            return;
        }
        byte[] changed = null;
        int written = 0;
        List<FutexRecord> owed = new ArrayList<>();
        for (FutexRecord f : here) {
            int at = (int) (f.key.offset() - pageOffset);
            int word = data == null ? 0 : wordAt(data, at);
            int tid = word & TID_MASK;
            boolean deadTid = tid == 0 ? !f.zeroWordClean : tid != TID_MASK && f.diedKernelIds.contains(tid >>> 20);
            // a stale heir a release named (xp-spec 8.4, StaleHeirs) owned nothing: freed, as its grantee would write it
            boolean staleWord = f.staleHeirTid != 0 && tid == f.staleHeirTid && (word & OWNER_DIED) == 0;
            int recorded = staleWord ? 0 : (word & WAITERS) | OWNER_DIED;
            if (!deadTid && (word & OWNER_DIED) == 0 && f.grantOwnerDied) {
                owed.add(f); // left alone, but the last grant's owner_died was never told: the next grant tells it
            }
            if (deadTid && word != recorded) {
                if (changed == null) {
                    changed = data == null ? new byte[core.pageSize] : data.clone();
                }
                putWord(changed, at, recorded);
                written++;
            }
        }
        if (changed != null) {
            core.storeWrite(null, o, pageOffset, changed, version + 1, "the page store failed to write page 0x"
                    + Long.toHexString(pageOffset) + " of '" + o.name() + "', in which the pager recorded OWNER_DIED "
                    + "for kernels that died holding its futexes: until it is written it is kept in memory only");
        }
        for (FutexRecord f : here) {
            records.deathRecorded(f);
            f.staleHeirTid = 0; // settled in the word (or the word names another: its next locker sees it as is)
            // the word says it now (its next locker gets EOWNERDEAD from it), unless it was left
            // alone while an owner_died of an untold grant is owed (seeds 234, 249: it was dropped)
            f.ownerDied = owed.contains(f);
            records.pruneIfIdle(f);
        }
        core.stats.deathsRecordedByPager.add(here.size());
        CoreContext.log.info("pager {}: recorded the deaths of kernels that held {} futexes of page 0x{} of '{}' "
                + "(OWNER_DIED written into {} words)", core.name, here.size(), Long.toHexString(pageOffset), o.name(),
                written);
    }

    /**
     * Futexes a kernel holds (granted with owner_died: it records the death) whose words carry no
     * TID of their dead kernels in the pager's copy, which no kernel holds (so no copy elsewhere
     * can differ, and the dead kernels write no more): their TIDs are gone from the words, so
     * their prefixes no longer wait on them ({@code FutexRecords.tidsGone}; the grant's owner_died
     * stays to be told if the grantee gives the futex back without having told it). Before, only
     * the grantee's release counted, so a grantee caching the futex (xp-spec 8.2) after its thread
     * took it with EOWNERDEAD kept the dead prefix refused (deaths review MED-1).
     */
    private void tidsGoneFromHeld(MemoryObject o, long pageOffset, byte[] data, List<FutexRecord> held) {
        if (inGrace.getAsBoolean()) {
            return; // a kernel may hold a newer copy of the page, not reclaimed yet
        }
        int gone = 0;
        for (FutexRecord f : held) {
            if (!f.grantOwnerDied) {
                // A stale heir's grantee (asked back, heldByGrantee): its release settles the TID. Not
                // judged gone here: tidsGone would make a 0 word unclean (zeroWordClean) though nobody
                // died, and the release naming the heir again would then get OWNER_DIED over it.
                continue;
            }
            int word = data == null ? 0 : wordAt(data, (int) (f.key.offset() - pageOffset));
            int tid = word & TID_MASK;
            if (tid == 0 || tid == TID_MASK || !f.diedKernelIds.contains(tid >>> 20)) {
                records.tidsGone(f);
                gone++;
            }
        }
        if (gone > 0) {
            CoreContext.log.info("pager {}: {} futexes of page 0x{} of '{}' held by kernels told owner_died no longer "
                    + "name a dead kernel's thread in the pager's copy: their deaths no longer hold TID prefixes",
                    core.name, gone, Long.toHexString(pageOffset), o.name());
        }
    }

    /** The pager's copy of a page (data null: zeros) and its version. */
    private record PageCopy(byte[] data, long version) {
    }

    /** The pager's copy of the page, or null (reported, with what is {@code notDone} so) if the store cannot read it. */
    private PageCopy readPage(MemoryObject o, long pageOffset, String notDone) {
        try {
            byte[] data = o.page(pageOffset);
            return new PageCopy(data, o.version(pageOffset));
        } catch (UncheckedIOException e) {
            core.storeFailed("page 0x" + Long.toHexString(pageOffset) + " of '" + o.name() + "' cannot be read, so "
                    + notDone, e);
            return null;
        }
    }

    private static int wordAt(byte[] page, int at) {
        return (page[at] & 0xff) | (page[at + 1] & 0xff) << 8 | (page[at + 2] & 0xff) << 16 | (page[at + 3] & 0xff) << 24;
    }

    private static void putWord(byte[] page, int at, int word) {
        page[at] = (byte) word;
        page[at + 1] = (byte) (word >>> 8);
        page[at + 2] = (byte) (word >>> 16);
        page[at + 3] = (byte) (word >>> 24);
    }
}
