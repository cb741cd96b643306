package io.machxp.pager.core;

import io.machxp.pager.object.MemoryObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the store failed to write, tried again until it is written, and the answers that say
 * "stored" held until then: the pager never tells a kernel that something is on disk that is not.
 *
 * <h2>Overview</h2>
 * <pre>
 *  a page write fails (disk full)     the page stays in memory (served from there); it is written
 *                                     again after a wait (0.1 s, doubling, at most 10 s), on the
 *                                     store thread, until a write of it succeeds; each failure is
 *                                     logged at ERROR and counted (machxp.store.failures)
 *  a keepalive's barrier is done      answered only once no failed page write is left: the kernel
 *                                     drops the copies it kept for a reclaim when it is answered
 *  a synchronize's barrier is done    a page of its range not written: synchronize_completed with
 *                                     an error saying so (the kernel's msync fails)
 *  a grant's journal write fails      the grant (and what follows it to that kernel) waits; the
 *                                     journal entry is written again after the same waits
 *  the pager closes                   every failed write is tried once more; what still fails is
 *                                     logged as lost
 * </pre>
 * A store that keeps failing therefore stalls the keepalives of every kernel: the kernels' leases
 * run out and they stop (4.3), which is what they must do when the pager cannot keep what they
 * gave back; the log says why, every retry. Core thread only.
 */
final class StoreRetries {
    static final long FIRST_WAIT_NANOS = 100_000_000L;
    static final long LONGEST_WAIT_NANOS = 10_000_000_000L;

    private final CoreContext core;
    /** Pages whose write failed and no later write of them succeeded: the newest version that failed. */
    private final Map<Page, Long> failedPages = new LinkedHashMap<>();
    /** Journal writes (or other store I/O) to submit again, each with what to do on its outcome. */
    private final List<Runnable> failedOthers = new ArrayList<>();
    /** Answers that say "stored", held until {@link #failedPages} is empty, in order. */
    private final List<Runnable> held = new ArrayList<>();
    private long wait = FIRST_WAIT_NANOS;
    /** The message of the last failed page write, for the error of a synchronize. */
    private String lastFailure;
    private boolean retryScheduled;

    private record Page(MemoryObject object, long offset) {}

    StoreRetries(CoreContext core) {
        this.core = core;
    }

    /** The write of {@code version} of a page failed: it is kept in memory and written again later. */
    void pageFailed(MemoryObject object, long offset, long version, String what, RuntimeException e) {
        failedPages.merge(new Page(object, offset), version, Math::max);
        lastFailure = e.getMessage();
        core.storeFailed(what + "; it is written again within " + LONGEST_WAIT_NANOS / 1_000_000_000L
                + " s, and no kernel's keepalive is answered until it is: free space on the store's disk, or"
                + " fix its backend", e);
        scheduleRetry();
    }

    /** A write of {@code version} of the page succeeded: a failed older one is written too. */
    void pageWritten(MemoryObject object, long offset, long version) {
        Page p = new Page(object, offset);
        Long failed = failedPages.get(p);
        if (failed != null && failed <= version) {
            failedPages.remove(p);
            CoreContext.log.info("pager {}: page 0x{} of '{}' is written after a failed write{}", core.name,
                    Long.toHexString(offset), object.name(), failedPages.isEmpty() ? "; no write is waiting any more"
                            : "; " + failedPages.size() + " pages still wait");
        }
        wait = FIRST_WAIT_NANOS;
        releaseIfWritten();
    }

    private void releaseIfWritten() {
        if (failedPages.isEmpty() && !held.isEmpty()) {
            List<Runnable> now = new ArrayList<>(held);
            held.clear();
            now.forEach(Runnable::run);
        }
    }

    /**
     * Store I/O other than a page write failed: {@code resubmit} submits it again (as a store
     * effect whose outcome comes back to its caller) after a wait.
     */
    void retryLater(Runnable resubmit) {
        failedOthers.add(resubmit);
        scheduleRetry();
    }

    /** Store I/O other than a page write succeeded: the store works, the next wait is short again. */
    void otherWritten() {
        wait = FIRST_WAIT_NANOS;
    }

    /** Runs {@code answer} once no failed page write is left (at once if none is). */
    void whenWritten(Runnable answer) {
        if (failedPages.isEmpty()) {
            answer.run();
        } else {
            held.add(answer);
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

    /** Pages whose write failed and is not done yet. */
    int unwrittenPages() {
        return failedPages.size();
    }

    private void scheduleRetry() {
        if (retryScheduled) {
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

    /** Submits every failed write again, each with the page's newest copy; returns how many. */
    int retryNow() {
        retryScheduled = false;
        int n = 0;
        for (Page p : new ArrayList<>(failedPages.keySet())) {
            MemoryObject.PageCopy copy = p.object.staged(p.offset);
            MemoryObject.PageCopy unjudged = copy == null ? p.object.unjudged(p.offset) : null;
            if (unjudged != null) {
                core.submitJudged(p.object, p.offset, unjudged.data(), unjudged.version(), "the page store failed "
                        + "again to write page 0x" + Long.toHexString(p.offset) + " of '" + p.object.name()
                        + "' (kept in memory only, its version not known)");
                n++;
                continue;
            }
            if (copy == null) {
                failedPages.remove(p); // nothing of it is kept unwritten: a later write took it
                continue;
            }
            byte[] data = copy.data() != null ? copy.data() : new byte[core.pageSize];
            core.submitWrite(p.object, p.offset, data, copy.version(), "the page store failed again to write page 0x"
                    + Long.toHexString(p.offset) + " of '" + p.object.name() + "' (kept in memory only)");
            n++;
        }
        List<Runnable> others = new ArrayList<>(failedOthers);
        failedOthers.clear();
        others.forEach(Runnable::run);
        releaseIfWritten();
        return n + others.size();
    }
}
