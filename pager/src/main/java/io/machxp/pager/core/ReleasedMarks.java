package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import java.util.NavigableSet;

/**
 * The marks of futexes a kernel gave back while it kept their page writable
 * ({@code KernelSession.releasedWhileWriting}), and their bound: part of the pager core beside
 * {@link PagerFutexes}; core thread only; no state of its own (the marks are the session's, in the
 * snapshot).
 *
 * <h2>Overview</h2>
 * A futex its holder gives back (its release, or one its reclaim again no longer names) while it
 * holds the futex's page writable is marked on its session: its thread may have unlocked the word
 * in its copy only, the pager's copy still naming that thread, and the record is pruned if nobody
 * waits, so the revert at its death judges the word by the mark ({@code DeathRecorder#revertingWriter};
 * chaos --mix contended seed 474). A mark goes when the kernel gives the page up or the pager takes
 * its dirty copy ({@code DeathRecorder#writerCopyTaken}).
 * <pre>
 *  release keeping the page writable,   -> marked
 *    marks at most the quota
 *  more marks than the quota            -> marked too (dropping one would lose an OWNER_DIED), and
 *                                          the pages of the first marks, in the order of object and
 *                                          offset, taken back from the kernel until their marks
 *                                          cover the excess (at most {@link #PAGES_PER_MARK} pages a
 *                                          mark): lock_request(RETURN_DIRTY, flush, reply), the
 *                                          pager's own page operation that records deaths
 *                                          ({@link PageCoherence#recordDeathsTakingTheWriter}; one
 *                                          queued already is not queued again); its answer hands
 *                                          the pager the kernel's copy, unlocks included, and the
 *                                          page's marks go (in the grace period after a restart
 *                                          none is asked: at the next mark after it)
 *  the kernel gives the page up, or     -> the page's marks go ({@link #clear}), and the holders'
 *    the pager takes its dirty copy        journal entry of each futex now free, which the release
 *                                          left naming the kernel (PagerGrants#release; FutexJournal),
 *                                          is written as the release would have: so a pager restart
 *                                          after which the kernel does not come back judges the word
 *                                          as a lost holder's (xp-spec 8.7 "Across a restart")
 * </pre>
 * The quota is the session's futex quota ({@code maxFutexesPerSession}): a kernel's marks cost the
 * pager at most what its held futexes may, plus those it makes while the pages asked back are on
 * their way (a kernel that does not answer is ended at its answer deadline, and its death judges
 * and forgets its marks). Before, nothing bounded them but the words of the pages the kernel held
 * writable: one kernel with a futex quota of 4 held 1,000 marks (review deaths3 MED-2).
 */
final class ReleasedMarks {
    /** Pages taken back at most per mark past the quota (the rest at the next marks, or answered before). */
    static final int PAGES_PER_MARK = 16;

    private final CoreContext core;
    private final PageCoherence pages;
    private final FutexRecords records;
    private final FutexJournal journal;
    private final int quota;
    /** Whether the pager is in its grace period after a restart: no page is asked back then. */
    private java.util.function.BooleanSupplier inGrace = () -> false;

    void inGrace(java.util.function.BooleanSupplier g) {
        this.inGrace = g;
    }

    ReleasedMarks(CoreContext core, PageCoherence pages, FutexRecords records, FutexJournal journal, int quota) {
        this.core = core;
        this.pages = pages;
        this.records = records;
        this.journal = journal;
        this.quota = quota;
    }

    /** {@code s} gave the futex back: marked if it holds the futex's page writable, then bounded. */
    void markIfWriting(KernelSession s, FutexKey key) {
        if (!pages.writes(s, key.object(), key.offset() - key.offset() % core.pageSize)) {
            return;
        }
        NavigableSet<FutexKey> marks = s.releasedWhileWriting;
        marks.add(key);
        int excess = marks.size() - quota;
        if (excess <= 0 || inGrace.getAsBoolean()) { // in grace: at the next mark after it
            return;
        }
        FutexKey at = marks.first();
        int asked = 0;
        while (at != null && excess > 0 && asked < PAGES_PER_MARK) {
            long page = at.offset() - at.offset() % core.pageSize;
            FutexKey end = new FutexKey(at.object(), page + core.pageSize);
            excess -= marks.subSet(at, true, end, false).size();
            MemoryObject o = core.catalog.get(at.object());
            if (o != null && pages.writes(s, o.name(), page)) {
                pages.recordDeathsTakingTheWriter(o, page);
            }
            asked++;
            at = marks.ceiling(end);
        }
        core.stats.walked.add(asked);
        if (asked > 0) {
            CoreContext.log.debug("pager {}: {} keeps {} futexes it gave back marked (its quota {}): the pages of the "
                    + "first ({}) asked back", core.name, s, marks.size(), quota, asked);
        }
    }

    /**
     * {@code writer}'s copy of the page is the pager's now (it gave the page up, or the pager took
     * its dirty data): the page's marks go ({@code DeathRecorder#writerCopyTaken}). The holders'
     * journal entry of each futex that is free now (no holder, no forward), which named the writer
     * since its release (the release left it: {@code PagerGrants#release}), is written as the
     * release would have written it: gone, or DIED if a death is still to be told. A futex held
     * again (by the writer or another) keeps its entry: its holder's release writes it.
     */
    void clear(KernelSession writer, String object, long pageOffset) {
        NavigableSet<FutexKey> here = writer.releasedWhileWriting.subSet(new FutexKey(object, pageOffset), true,
                new FutexKey(object, pageOffset + core.pageSize), false);
        for (FutexKey key : here) {
            FutexRecord f = records.get(key);
            if (f == null || f.holder == null && f.forward == null) {
                journal.released(key, f != null && (f.ownerDied || f.staleHeirTid != 0));
            }
        }
        here.clear();
    }
}
