package io.machxp.pager.core;

import io.machxp.pager.object.MemoryObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the store failed to write, tried again until it is written, and the answers that say
 * "stored" held until then: the pager never tells a kernel that something is on disk that is not.
 *
 * <h2>Overview</h2>
 * <pre>
 *  a page write fails (disk full)     the page stays in memory (served from there); it is written
 *                                     again after a wait (0.1 s, doubling, at most 10 s; short again
 *                                     only once a failed write succeeds), on the store thread, until
 *                                     a write of it succeeds; each failure is logged at ERROR (a
 *                                     page's first with its stack trace) and counted
 *                                     (machxp.store.failures)
 *  a keepalive's barrier is done      answered only once no failed write of a return of that
 *                                     kernel is left (a newer write of the page that succeeds
 *                                     supersedes it); only its newest answer is held: the kernel
 *                                     drops the copies it kept for a reclaim when it is answered
 *  a stream ended cleanly             its end waits in the same way until no return of that kernel
 *                                     is left unwritten (the kernel's copies go with it; xp-spec 2.6)
 *  a synchronize's barrier is done    a page of its range not written: synchronize_completed with
 *                                     an error saying so (the kernel's msync fails)
 *  a grant's journal write fails      the grant (and what follows it to that kernel) waits; the
 *                                     journal entry is written again after the same waits
 *  the pager closes                   every failed write is tried once more; what still fails is
 *                                     logged as lost
 * </pre>
 * Other kernels' keepalives are answered: one that read the page from the pager's memory is
 * covered by the returner, which keeps its copy until its own keepalive is answered. A store that
 * keeps failing does not stop the returner: its keepalive unanswered for L/6, it resumes its
 * session (xp-spec 4.7), which extends its lease, and does so about every L/20 while the store
 * fails (a WARN each time), keeping its copy; the log says why, every retry.
 *
 * <p>What is here is not in the replicated pager's snapshot (a replica would forget a failed write
 * and the answers it holds); that cannot happen today: a replica's store is a
 * {@code MemoryPageStore}, which never fails, and {@code SnapshotWriter} refuses to snapshot
 * while a page waits in memory unwritten. Core thread only.
 */
final class StoreRetries {
    static final long FIRST_WAIT_NANOS = 100_000_000L;
    static final long LONGEST_WAIT_NANOS = 10_000_000_000L;

    private final CoreContext core;
    /** Pages whose write failed and no later write of them succeeded. */
    private final Map<Page, Failed> failedPages = new LinkedHashMap<>();
    /** Journal writes (or other store I/O) to submit again, each with what to do on its outcome. */
    private final List<Runnable> failedOthers = new ArrayList<>();
    /**
     * Each session's newest keepalive answer, held while a return of that session is not written:
     * the kernel takes an answer as covering every older sequence, so one a session is enough.
     */
    private final Map<KernelSession, Runnable> held = new LinkedHashMap<>();
    /**
     * What waits for a session's failed returns to be written, whether the session ended or not:
     * the end of a cleanly ended stream (xp-spec 2.6), which the caller also bounds in time.
     */
    private final Map<KernelSession, List<Runnable>> whenWritten = new LinkedHashMap<>();
    private long wait = FIRST_WAIT_NANOS;
    /** The message of the last failed page write, for the error of a synchronize. */
    private String lastFailure;
    private boolean retryScheduled;
    /** The pager is closing and tried every failed write a last time: retry timers do nothing. */
    private boolean closed;

    private record Page(MemoryObject object, long offset) {}

    /** A page whose write failed: the newest version that failed, and whose returns it carries. */
    private static final class Failed {
        long version;
        /** The sessions whose data_return (or reclaimed data) of the page is not written yet. */
        final Set<KernelSession> returners = new HashSet<>();
    }

    StoreRetries(CoreContext core) {
        this.core = core;
    }

    /**
     * The write of {@code version} of a page failed ({@code from}: the session whose return it
     * writes, or null for a retry): it is kept in memory and written again later. The first
     * failure of a page is logged with its stack trace, later ones in a line. For data kept
     * unjudged, {@code version} is the kernel's (0: the next one, no version): nothing compares it
     * with the store's while the data waits (the retry judges the kept data again, and no other
     * write of the page can be made, its version not being known), so its own judging write is
     * what clears the entry.
     */
    void pageFailed(MemoryObject object, long offset, long version, KernelSession from, String what,
            RuntimeException e) {
        Page p = new Page(object, offset);
        Failed f = failedPages.get(p);
        boolean first = f == null;
        if (first) {
            f = new Failed();
            f.version = version;
            failedPages.put(p, f);
        }
        f.version = Math.max(f.version, version);
        if (from != null) {
            f.returners.add(from);
        }
        lastFailure = e.getMessage();
        String told = what + "; it is written again within " + LONGEST_WAIT_NANOS / 1_000_000_000L + " s, and the "
                + "keepalives of the kernels that gave it back are not answered until it is: free space on the "
                + "store's disk, or fix its backend";
        if (first) {
            core.storeFailed(told, e);
        } else {
            core.storeFailedAgain(told, e);
        }
        scheduleRetry();
    }

    /**
     * A write of {@code version} of the page succeeded: a failed older one is written too, and the
     * keepalives it held go (a newer write of the page supersedes the returns it carried). Only
     * that sets the next wait short again.
     */
    void pageWritten(MemoryObject object, long offset, long version) {
        Page p = new Page(object, offset);
        Failed failed = failedPages.get(p);
        if (failed != null && failed.version > version) {
            scheduleRetry(); // an older version was written: the failed one still waits, and is tried again
        } else if (failed != null) {
            failedPages.remove(p);
            wait = FIRST_WAIT_NANOS;
            CoreContext.log.info("pager {}: page 0x{} of '{}' is written after a failed write{}", core.name,
                    Long.toHexString(offset), object.name(), failedPages.isEmpty() ? "; no write is waiting any more"
                            : "; " + failedPages.size() + " pages still wait");
            releaseHeld();
        }
    }

    /** Runs the held answers of the sessions that no longer have a return not written; drops those of ended sessions. */
    private void releaseHeld() {
        List<Runnable> now = new ArrayList<>();
        for (Iterator<Map.Entry<KernelSession, Runnable>> i = held.entrySet().iterator(); i.hasNext(); ) {
            Map.Entry<KernelSession, Runnable> e = i.next();
            if (e.getKey().gone) {
                i.remove();
            } else if (!hasUnwrittenReturn(e.getKey())) {
                i.remove();
                now.add(e.getValue());
            }
        }
        for (Iterator<Map.Entry<KernelSession, List<Runnable>>> i = whenWritten.entrySet().iterator(); i.hasNext(); ) {
            Map.Entry<KernelSession, List<Runnable>> e = i.next();
            if (!hasUnwrittenReturn(e.getKey())) {
                i.remove();
                now.addAll(e.getValue());
            }
        }
        now.forEach(Runnable::run);
    }

    /**
     * Runs {@code done} once no return of {@code s} is left unwritten (at once if none is), even
     * if {@code s} has ended meanwhile: for the end of a cleanly ended stream ({@link PagerCore#whenStored}).
     * Returns what forgets {@code done} (the caller's bound ran out: a write that never succeeds
     * must not keep it, and what it holds, for good).
     */
    Runnable whenReturnsWritten(KernelSession s, Runnable done) {
        if (!hasUnwrittenReturn(s)) {
            done.run();
            return () -> { };
        }
        whenWritten.computeIfAbsent(s, k -> new ArrayList<>()).add(done);
        return () -> {
            List<Runnable> waiting = whenWritten.get(s);
            if (waiting != null && waiting.removeIf(r -> r == done) && waiting.isEmpty()) {
                whenWritten.remove(s);
            }
        };
    }

    /** How many ends of cleanly ended streams wait for a failed return to be written; for tests. */
    int endsWaitingForWrites() {
        return whenWritten.values().stream().mapToInt(List::size).sum();
    }

    private boolean hasUnwrittenReturn(KernelSession s) {
        for (Failed f : failedPages.values()) {
            if (f.returners.contains(s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Store I/O other than a page write failed: {@code resubmit} submits it again (as a store
     * effect whose outcome comes back to its caller) after a wait.
     */
    void retryLater(Runnable resubmit) {
        failedOthers.add(resubmit);
        scheduleRetry();
    }

    /** Store I/O other than a page write that had failed is written now: the next wait is short again. */
    void otherWritten() {
        wait = FIRST_WAIT_NANOS;
    }

    /**
     * Runs {@code answer}, the keepalive answer of {@code s}, once no return of {@code s} is left
     * unwritten (at once if none is); it replaces an older answer of {@code s} held so far. Only
     * the kernel whose return is not on disk relies on the answer: another that read the page from
     * the pager's memory is covered by that kernel keeping its copy until its own answer.
     */
    void whenWritten(KernelSession s, Runnable answer) {
        held.keySet().removeIf(k -> k.gone);
        if (hasUnwrittenReturn(s)) {
            held.put(s, answer);
        } else {
            held.remove(s); // cannot hold one here: an older answer would have gone when its return was written
            answer.run();
        }
    }
    /** The first page of {@code object} in [offset, offset + length) whose write failed, as a sentence, or null. */
    String unwritten(MemoryObject object, long offset, long length) {
        for (Page p : failedPages.keySet()) {
            if (p.object == object && p.offset >= offset && p.offset - offset < length) {
                return "the page store failed to write page 0x" + Long.toHexString(p.offset) + " of '" + object.name()
                        + "'" + (lastFailure == null ? "" : " (" + lastFailure + ")") + "; the pager keeps it in "
                        + "memory and writes it again until the store takes it";
            }
        }
        return null;
    }

    /** Keepalive answers held, for tests. */
    int heldAnswers() {
        return held.size();
    }

    /** Pages whose write failed and is not done yet. */
    int unwrittenPages() {
        return failedPages.size();
    }

    private void scheduleRetry() {
        if (retryScheduled || closed) {
            return;
        }
        retryScheduled = true;
        try {
            core.env.schedule(wait, this::retryNow);
        } catch (UnsupportedOperationException noTimers) {
            retryScheduled = false; // an env without timers: tried again only when the pager closes
            return;
        }
        wait = Math.min(wait * 2, LONGEST_WAIT_NANOS);
    }

    /**
     * The pager closes: submits every failed write a last time (its store thread drains them);
     * from then on a retry timer does nothing (the store thread is shut down; a write would fall
     * back to the core thread while the store closes). Returns how many were submitted.
     */
    int lastTry() {
        int n = retryNow();
        closed = true;
        return n;
    }

    /**
     * Reads the store's version of a failed page no copy of which is kept in memory: if it is the
     * failed version or newer, the page counts as written ({@link #pageWritten}); else the entry
     * stays, logged, and is checked again at the next retry.
     */
    private void submitVersionCheck(Page p) {
        long[] stored = {0};
        core.env.storeEffect(() -> stored[0] = p.object.storedVersion(p.offset), failure -> {
            Failed f = failedPages.get(p);
            if (f == null) {
                return;
            }
            if (failure == null && stored[0] >= f.version) {
                pageWritten(p.object, p.offset, stored[0]);
                return;
            }
            CoreContext.log.error("pager {}: page 0x{} of '{}': version {} was never written and no copy of it is "
                    + "kept in memory; the keepalives of the kernels that gave it back stay unanswered (they keep "
                    + "their copies){}", core.name, Long.toHexString(p.offset), p.object.name(), f.version,
                    failure == null ? " (the store holds version " + stored[0] + ")" : ": " + failure.getMessage());
            scheduleRetry();
        });
    }

    /** Submits every failed write again, each with the page's newest copy; returns how many. */
    int retryNow() {
        retryScheduled = false;
        if (closed) {
            return 0;
        }
        int n = 0;
        for (Page p : new ArrayList<>(failedPages.keySet())) {
            MemoryObject.PageCopy copy = p.object.staged(p.offset);
            MemoryObject.PageCopy unjudged = copy == null ? p.object.unjudged(p.offset) : null;
            if (unjudged != null) {
                core.submitJudged(p.object, p.offset, unjudged.data(), unjudged.version(), null, "the page store failed "
                        + "again to write page 0x" + Long.toHexString(p.offset) + " of '" + p.object.name()
                        + "' (kept in memory only, its version not known)");
                n++;
                continue;
            }
            if (copy == null) {
                // No copy kept, yet no write of the failed version (or a newer one) was seen: the
                // entry goes, and its returners' keepalives with it, only once the store says it
                // holds that version; until then it stays (the returners keep their copies).
                submitVersionCheck(p);
                n++;
                continue;
            }
            byte[] data = copy.data() != null ? copy.data() : new byte[core.pageSize];
            core.submitWrite(p.object, p.offset, data, copy.version(), null, "the page store failed again to write page 0x"
                    + Long.toHexString(p.offset) + " of '" + p.object.name() + "' (kept in memory only)");
            n++;
        }
        List<Runnable> others = new ArrayList<>(failedOthers);
        failedOthers.clear();
        others.forEach(Runnable::run);
        releaseHeld();
        return n + others.size();
    }
}
