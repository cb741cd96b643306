package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The operations on pages for {@link PageCoherence}: each page's queue of requests, and the one
 * in progress taking away what conflicts before it is answered. Pager core thread only.
 *
 * <h2>Overview</h2>
 * data_request and data_unlock become an operation on one page ({@link PageOperation}). One
 * operation per page is in progress at a time ({@code PageRecord.current}); the others wait in
 * FIFO order ({@code PageRecord.queue}) and are judged on the state when their turn comes. An
 * operation first takes away what conflicts ({@link #revoke}), then answers the requester
 * ({@link PageAnswers}):
 * <pre>
 *  read  by R: R holds it                 -> nothing (a futex grant got there first)
 *              writer W != R              -> lock_request(RETURN_DIRTY, lock WRITE, reply) to W;
 *                                            its lock_completed makes W a reader
 *              then                       -> data_supply / data_unavailable(lock WRITE); R reads
 *  write by R: R is the writer            -> nothing (a data_unlock: allow write, A.13)
 *              other holders H            -> lock_request(RETURN_DIRTY, flush, lock NONE, reply)
 *                                            to each; each lock_completed drops one
 *              then the store refuses     -> data_error (PageStore.unlock, a library backend's)
 *                                            (asked, with the page's data, as a page effect:
 *                                            the operation waits for its answer, off the core)
 *              then, R a reader           -> lock_request(RETURN_NONE, lock NONE, no reply)
 *                    R holds nothing      -> data_supply / data_unavailable(lock NONE)
 *                                            R is the only writer
 *  the pager's own: a writer holds it       -> nothing (the recording waits for it: asked again),
 *                                            unless ids or futex records run short: then queued
 *  recording deaths a writer came while it -> nothing: dropped (asked again at the writer's give-up),
 *  (DeathRecorder)  waited, not takeWriter     unless queued taking the writer (takeWriter)
 *                   holders (readers R*, or -> lock_request(RETURN_DIRTY, flush, lock NONE, reply)
 *                   the writer if takeWriter)  to each; each lock_completed drops one
 *                   then                    -> OWNER_DIED written into its futex words in the
 *                                            pager's copy ({@link PageCoherence#recordDeathsWhenUnheld})
 * </pre>
 * States of a page's operations, advanced by {@link #run}:
 * <pre>
 *  idle           no operation in progress, none queued
 *  revoking       current: its lock_requests out, awaited; each lock_completed
 *                 ({@link #completed}) drops or downgrades its sender; a kernel that leaves is
 *                 awaited no more ({@link #forget})
 *  fetching       current: what the answer needs of the store is asked off the core thread
 *  answered       current done (answered, or its requester left: nobody answered); the next
 *                 queued one becomes current
 * </pre>
 * A repeated request (the same kernel, the same access, in progress or queued) is merged into
 * the one outstanding, so a kernel cannot make the pager queue them without bound (xp-spec 6.6);
 * a kernel whose stream broke has its requests withdrawn ({@link #cancelRequests}). A gated page
 * (direct handoff, {@link FutexPages}) withdraws the forward's order at the first request, then
 * goes on as usual. The lock_requests of one data_request of several pages go out together at its
 * end, merged into ranges ({@link LockRanges}).
 */
final class PageOperations {
    /** Log lines keep PageCoherence's logger: they read as the page coherence's. */
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PageCoherence.class);

    private final int pageSize;
    private final PageOutput out;
    private final PageTable pages;
    private final PageAnswers answers;
    /** While a data_request of several pages is handled: what it sends, merged into ranges. */
    private LockRanges batch;
    private PageCoherence.GateWithdrawal gateWithdrawal = (o, offset) -> { };

    PageOperations(int pageSize, PageOutput out, PageTable pages, Predicate<KernelSession> precious) {
        this.pageSize = pageSize;
        this.out = out;
        this.pages = pages;
        this.answers = new PageAnswers(pageSize, out, precious, p -> {
            run(p);
            pages.pruneIfIdle(p);
        });
    }

    /** What holds keepalive answers until the fetches before them are back ({@link FetchBarrier}). */
    FetchBarrier fetchBarrier() {
        return answers.barrier;
    }

    /** Who withdraws a forward's order when its gated page is asked for (the pager's forwards). */
    void onGatedRequest(PageCoherence.GateWithdrawal w) {
        this.gateWithdrawal = w;
    }

    /**
     * One operation per page of a data_request's range (checked); with several pages, the messages
     * they send go out together at the end ({@link LockRanges}).
     */
    void request(KernelSession s, int objectId, MemoryObject o, long offset, long length, boolean write) {
        batch = length > pageSize ? new LockRanges() : null;
        try {
            for (long page = offset; page < offset + length; page += pageSize) {
                submit(pages.record(o, page), new PageOperation(s, objectId, write));
            }
        } finally {
            if (batch != null) {
                batch.sendAll(out);
            }
            batch = null;
        }
    }

    /** Sends now, or at the end of the data_request of several pages being handled ({@link LockRanges}). */
    private void send(KernelSession to, io.machxp.proto.xp.PagerToKernel m) {
        if (batch != null) {
            batch.add(to, m);
        } else {
            out.send(to, m);
        }
    }

    void submit(PageRecord p, PageOperation op) {
        if (outstanding(p, op)) {
            // Merged, not refused: a request of several pages goes on with its other pages.
            LOG.debug("{}: {} access asked again by {} while the same request of it is outstanding (a kernel "
                    + "keeps one per page); its answer answers both", p, op.write ? "write" : "read", op.requester);
            pages.pruneIfIdle(p);
            return;
        }
        if (op.requester != null) {
            pages.sessions.touch(op.requester, p); // a terminate finds the request (SessionPages)
        }
        p.enqueue(op);
        run(p);
        pages.pruneIfIdle(p);
    }

    /** Whether the page's operation waited for this kernel's lock_completed (then it goes on). */
    boolean completed(KernelSession s, MemoryObject o, long offset) {
        PageRecord p = pages.get(o.name(), offset);
        PageOperation op = p == null ? null : p.current;
        PageOperation.Change change = op == null ? null : p.stopAwaiting(s);
        if (change == null) {
            return false;
        }
        pages.sessions.unawait(s, p.key);
        out.answered(s, op.askedNanos);
        boolean wrote = p.writer == s;
        if (change == PageOperation.Change.FLUSH) {
            p.drop(s);
        } else {
            p.downgrade(s);
        }
        run(p);
        pages.pruneIfIdle(p);
        if (wrote) {
            writerGone(s, p);
        }
        return true;
    }

    /**
     * The kernel stops holding every page of {@code object} (null: of every object), is waited for
     * no more, and its queued requests are dropped. Unreturned dirty data is lost.
     */
    void forget(KernelSession s, String object) {
        List<PageRecord> written = new ArrayList<>();
        // Only the pages it has to do with (SessionPages), in the table's order: before, every
        // record of every kernel, at each terminate.
        List<PageRecord> mine = pages.touchedBy(s, object);
        out.walked(mine.size());
        for (PageRecord p : mine) {
            if (!pages.current(p)) {
                continue; // pruned while an earlier page of the walk ran
            }
            if (p.writer == s) {
                written.add(p);
            }
            p.drop(s);
            withdraw(p, s);
            if (p.stopAwaiting(s) != null) {
                pages.sessions.unawait(s, p.key);
            }
            run(p);
            pages.pruneIfIdle(p);
        }
        // each page walked was settled by pruneIfIdle: s has no entry left for these (SessionPages)
        // told in the order of object and offset, the same on every replica (the table's is not)
        written.sort(java.util.Comparator.comparing((PageRecord p) -> p.key.object()).thenComparingLong(PageRecord::offset));
        written.forEach(p -> writerGone(s, p));
    }

    /**
     * {@code s} will ask for nothing more (its stream broke) but keeps what it holds: its queued
     * requests go, and one in progress is no longer answered to it, so others do not wait for it.
     */
    void cancelRequests(KernelSession s) {
        List<PageRecord> mine = pages.touchedBy(s, null); // its requests are among its pages (SessionPages)
        out.walked(mine.size());
        for (PageRecord p : mine) {
            if (pages.current(p) && withdraw(p, s)) {
                run(p);
                pages.pruneIfIdle(p);
            }
        }
    }

    static void ungate(PageRecord p) {
        p.gated = false;
        p.gateWriter = null;
        p.gateOpening = false;
        p.gateSettling = false;
    }

    /**
     * Advances the page's operations until one waits for lock_completed or none is left.
     *
     * <p>A gated page (direct handoff) does not keep its requests waiting for the futex's release:
     * that release may itself wait for the requester (its holder waits for a futex a thread there
     * owns), a cycle the default protocol does not have. The first request withdraws the order
     * at the holder (a relinquish without forward_to), then goes on as usual, taking the page back
     * from the holder. The holder's stream is FIFO, so the holder acts on the withdrawal before it
     * gives the page up; once it no longer writes the page, no copy can go any more and the gate
     * lifts. A release with a copy that crossed the withdrawal arrives before the holder's answer
     * and settles the forward while the page is still gated, as without a request.
     */
    void run(PageRecord p) {
        if (p.gateSettling) {
            return; // the forward settles in this event (FutexPages#forwardGranted runs it once its release is done)
        }
        while (true) {
            if (p.gated && !p.gateOpening) {
                if (p.current == null && p.queue.isEmpty()) {
                    return;
                }
                p.gateOpening = true;
                gateWithdrawal.withdraw(p.object, p.offset()); // sent before anything below asks the holder
            }
            if (p.gated && p.writer != p.gateWriter) {
                ungate(p); // the holder gave the page up after the withdrawal: it sends no copy
            }
            if (p.current == null && p.startNext() == null) {
                return;
            }
            PageOperation op = p.current;
            if (!op.awaited.isEmpty()) {
                return;
            }
            if (op.recordDeaths) {
                if (flushReaders(p, op)) {
                    return;
                }
                p.endCurrent();
                if (p.writer == null) {
                    deathRecording.record(p.object, p.offset()); // nobody holds it: the pager may change its copy
                }
                continue;
            }
            if (op.requester != null && revoke(p, op)) {
                return;
            }
            if (op.requester != null && answers.fetching(p, op)) {
                return;
            }
            if (op.requester != null) {
                answers.answer(p, op);
            }
            p.endCurrent();
        }
    }

    /**
     * The pager's recording of deaths in the page's futex words: whoever holds the page is flushed
     * first (a page the pager changes must leave no stale copy, as a writer's return leaves none),
     * a writer with its dirty data (lock_request(RETURN_DIRTY, flush, reply), as for a write). The
     * operation takes the writer only when it was queued, or asked again, while kernel ids or
     * futex records ran short ({@link PageCoherence#recordDeathsTakingTheWriter}, the operation's
     * {@code takeWriter}); otherwise a writer that came while it waited (a death's or a give-up's
     * recording, queued behind a write) is left alone and the recording dropped: asked again when
     * that writer gives the page up. Returns whether holders were asked.
     */
    private boolean flushReaders(PageRecord p, PageOperation op) {
        if (p.writer != null && !op.takeWriter) {
            return false; // a writer came while it waited: recorded when the writer gives the page up
        }
        op.askedNanos = out.nanoTime();
        for (KernelSession h : p.holdersExcept(null)) {
            op.awaited.put(h, PageOperation.Change.FLUSH);
            pages.sessions.await(h, p);
            owed(out, pages, h, p, op);
            send(h, PageMessages.flush(h.objectIdOf(p.key.object()), p.offset(), pageSize));
            out.awaiting(h);
        }
        return !op.awaited.isEmpty();
    }

    /**
     * Queues the pager's recording of deaths for the page unless one is queued or in progress; one
     * queued or in progress is made to take the writer too if {@code takeWriter}.
     */
    void recordDeaths(PageRecord p, boolean takeWriter) {
        PageOperation queued = p.current != null && p.current.recordDeaths ? p.current
                : p.queue.stream().filter(op -> op.recordDeaths).findFirst().orElse(null);
        if (queued != null) {
            queued.takeWriter |= takeWriter;
            return;
        }
        PageOperation op = PageOperation.recordDeaths();
        op.takeWriter = takeWriter;
        p.enqueue(op);
        run(p);
        pages.pruneIfIdle(p);
    }

    /** Who records deaths in a page's futex words when the page's recording operation runs. */
    void onDeathRecording(PageCoherence.DeathRecording r) {
        this.deathRecording = r;
    }

    private PageCoherence.DeathRecording deathRecording = (o, offset) -> { };
    private PageCoherence.WriterGone writerGone = (writer, o, offset) -> { };

    void onWriterGone(PageCoherence.WriterGone w) {
        this.writerGone = w;
    }

    /** The kernel that wrote the page gave it up: whoever listens is told (after the page's books are updated). */
    void writerGone(KernelSession writer, PageRecord p) {
        writerGone.gone(writer, p.object, p.offset());
    }

    PageCoherence.DeathRecording deathRecording() {
        return deathRecording;
    }

    /** Sends the lock_requests that must be completed before {@code op} can be answered. */
    private boolean revoke(PageRecord p, PageOperation op) {
        KernelSession r = op.requester;
        op.askedNanos = out.nanoTime();
        if (op.write) {
            for (KernelSession h : p.holdersExcept(r)) {
                op.awaited.put(h, PageOperation.Change.FLUSH);
                pages.sessions.await(h, p);
                owed(out, pages, h, p, op);
                send(h, PageMessages.flush(h.objectIdOf(p.key.object()), p.offset(), pageSize));
                out.awaiting(h);
            }
        } else if (p.writer != null && p.writer != r) {
            op.awaited.put(p.writer, PageOperation.Change.DOWNGRADE);
            pages.sessions.await(p.writer, p);
            owed(out, pages, p.writer, p, op);
            send(p.writer, PageMessages.downgrade(p.writer.objectIdOf(p.key.object()), p.offset(), pageSize));
            out.awaiting(p.writer);
        }
        return !op.awaited.isEmpty();
    }

    /**
     * Whether the same kernel already waits for the same access to the page (in progress or
     * queued): a repeat is merged into it, so a kernel that repeats its requests cannot make the
     * pager queue them without bound while the page is busy (xp-spec 6.6).
     */
    private static boolean outstanding(PageRecord p, PageOperation op) {
        if (p.current != null && p.current.requester == op.requester && p.current.write == op.write) {
            return true;
        }
        if (op.requester != null) {
            return p.queuedBy(op.requester, op.write); // counted: O(1) on a page many kernels queue on
        }
        for (PageOperation q : p.queue) {
            if (q.requester == op.requester && q.write == op.write) {
                return true;
            }
        }
        return false;
    }

    /** {@code s}'s requests for the page go: queued ones, and the answer of one in progress. */
    private static boolean withdraw(PageRecord p, KernelSession s) {
        return p.withdraw(s);
    }

    /**
     * {@code h} owes the answer to {@code op}'s lock_request on {@code p}, as long as {@code op} is
     * the page's operation in progress, asked at the same time, and waits for {@code h}: indexed for
     * the answer deadline ({@link PageOutput#owed}), which then needs no walk of the page records.
     */
    static void owed(PageOutput out, PageTable pages, KernelSession h, PageRecord p, PageOperation op) {
        long asked = op.askedNanos;
        out.owed(h, asked, p.made, () -> p.current == op && op.askedNanos == asked && op.awaited.containsKey(h)
                && pages.current(p), () -> "a memory_object_lock_request for " + p.key);
    }
}
