package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;

/**
 * A deadline for the answers the pager waits for from a kernel: a kernel that keeps its lease
 * (keepalives) but never answers would otherwise stall what it was asked for, for every other
 * kernel, as long as its session lives. Pager core thread only.
 *
 * <p>Awaited answers: a memory_object_lock_request with reply (a page's operation waits for its
 * lock_completed, {@link PageCoherence}), and a relinquish_futex(try) (trylocks wait for the
 * holder's futex_held or futex_released, {@link FutexTries}). A plain relinquish_futex is not
 * awaited: the holder answers it when its owning thread unlocks, which may take as long as the
 * application holds its lock.
 *
 * <h2>Overview</h2>
 * <pre>
 *  pager sends K an awaited request     unless K is watched: watched, a check set for a deadline
 *                                       (D) from now; a request waiting in K's outbox behind a
 *                                       grant's journal entry is owed from when it goes on the
 *                                       wire ({@link #sentAt}; checked again then)
 *  an answer from K to a request R     lastAnswered := now, lastAnsweredAsked := when R went out
 *   (an awaited lock_completed, a       (progress: a write-back that flows is not cut short
 *   data_return of a page waiting for   however many pages it returns)
 *   K, futex_held or futex_released
 *   of a futex tried)
 *  the check is due                     K gone or broken: nothing (its lease decides)
 *                                       K owes nothing: not watched
 *                                       else O := the oldest request K owes;
 *                                        progress := lastAnswered if R went out no later than O
 *                                        (an in-order kernel answers R before O), else O's sending;
 *                                        due = max(O's sending, progress) + D:
 *                                        not yet: checked again then
 *                                        passed: K's session is ENDED (ETIMEDOUT, a sentence), as
 *                                        the pager ends one for a limit (PagerSessions#end)
 * </pre>
 * Safety: ending the session is not declaring K dead. Its stream ends and nothing from it is
 * taken any more, so its lease is not renewed; what it holds stays its own until that lease ends
 * (K may not know yet and go on using it: it believes its lease until a margin before the
 * pager's count ends), and then the lease's path declares it dead: its futexes go on with
 * OWNER_DIED, its pages revert to the pager's copy ({@link SessionLeases#leaseDue}). So the
 * other kernels get what K held at D + a lease at most after K stopped answering, and never two
 * owners. Without a lease there is no deadline (D is 0): ending the stream would release what K
 * holds at once, while K may still use it.
 *
 * <p>Progress counts per request, in the order the requests went out: a kernel answers its
 * stream in order, so its answer to R says it has reached R, not the requests sent after R; and an
 * answer to a request sent after O, while O is owed, says it skipped O (a bug): that kernel is
 * ended at O's sending + D however much else it answers, so a page or a trylock cannot wait on
 * it forever while it answers everything else.
 *
 * <p>State: {@link KernelSession#answerWatched}, {@link KernelSession#answeredAny},
 * {@link KernelSession#lastAnswered} and {@link KernelSession#lastAnsweredAsked}, when
 * each awaited request was sent (the page operation's, the futex record's), and the check as a
 * core timer, all in the snapshot: a replicated pager's new leader keeps each deadline on the
 * group clock, and a failover's silence counts (D is at least two leases, {@link
 * PagerOptions#answerDeadlineRefusal}: a kernel resumes its session on the new leader within
 * about 1.8 leases and sends its answer again). A restore sets a check for each session that owes
 * an answer and has none ({@link #watchIfOwed}): a snapshot written before the deadline was kept
 * has no check, and its requests count as sent at the restore.
 *
 * <p>Cost: the requests a session owes are indexed in its {@link OwedAnswers}, oldest first, as
 * they are asked ({@link #tryOwed}, {@link #pageOwed}; rebuilt from the records at a restore, not
 * in the snapshot), so a check and the watch after each drained outbox cost O(log n) amortized,
 * not a walk of every futex the session holds and every page record (xpprobe XP-P1: that walk ran
 * after every grant; a kernel caching 2^16 futexes stalled the core thread, the gRPC event loop,
 * for minutes, and live kernels were declared dead).
 */
final class AnswerDeadlines {
    private final CoreContext core;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;
    private final long deadlineNanos;

    AnswerDeadlines(CoreContext core, PagerFutexes futexes, PagerSessions sessions,
            long deadlineNanos) {
        this.core = core;
        this.futexes = futexes;
        this.sessions = sessions;
        this.deadlineNanos = sessions.leaseNanos() == 0 ? 0 : deadlineNanos;
    }

    long deadlineNanos() {
        return deadlineNanos;
    }

    /** The pager sent {@code s} a request it waits for an answer to. */
    void asked(KernelSession s) {
        if (deadlineNanos == 0 || s.answerWatched || s.broken || s.gone) {
            return;
        }
        watch(s, deadlineNanos);
    }

    /**
     * {@code s} answered (or progressed on: a data_return before the lock_completed) the request
     * it was sent at {@code askedNanos}: the deadline of that request, and of those sent after it,
     * counts from now; not of one sent before it, which a kernel answering in order has skipped.
     */
    void answered(KernelSession s, long askedNanos) {
        s.answeredAny = true;
        s.lastAnswered = core.env.nanoTime();
        s.lastAnsweredAsked = askedNanos;
    }

    /**
     * After a restore, or when {@code s}'s outbox emptied ({@link #sentAt}): {@code s}, if it owes
     * an answer and no check is set for it (a snapshot written before the deadline was kept, whose
     * requests count as sent at the restore; a request that waited in the outbox, owed from
     * now), is checked when that answer is due.
     */
    void watchIfOwed(KernelSession s) {
        if (deadlineNanos == 0 || s.answerWatched || s.broken || s.gone || sessions.get(s.id) != s) {
            return;
        }
        Owed owed = oldestOwed(s);
        if (owed != null) {
            watch(s, Math.max(0, progress(s, owed) + deadlineNanos - core.env.nanoTime()));
        }
    }

    private void watch(KernelSession s, long delay) {
        s.answerWatched = true;
        core.timers.set(delay, new CoreTimers.AnswerCheck(s));
    }

    /** The check of {@code s}'s answers is due. */
    void due(KernelSession s) {
        s.answerWatched = false;
        if (sessions.get(s.id) != s || s.broken) {
            return; // gone, or ended: its lease decides what becomes of what it holds
        }
        Owed owed = oldestOwed(s);
        if (owed == null) {
            return; // owes nothing now: the next request watches it again
        }
        long now = core.env.nanoTime();
        long progress = progress(s, owed);
        long due = progress + deadlineNanos;
        if (now < due) {
            watch(s, due - now);
            return;
        }
        core.stats.answersOverdue.increment();
        long waited = (now - owed.since) / 1_000_000;
        long quiet = (now - progress) / 1_000_000;
        sessions.end(s, Errno.ETIMEDOUT, "pager " + core.name + " ended the session of " + s + ": it has not answered "
                + owed.what + " for " + waited + " ms, nor anything asked before or with it for " + quiet + " ms (the "
                + "answer deadline is " + deadlineNanos / 1_000_000 + " ms); the futexes and pages it holds stay its "
                + "own until its lease ends in " + Math.max(1, sessions.leases.leaseLeftMillis(s)) + " ms, then go to "
                + "other kernels with OWNER_DIED and its writes not returned are lost; restart the kernel");
    }

    /**
     * Since when {@code s} has made no progress on {@code owed}, the oldest request it owes: its
     * sending, or a later answer of {@code s} to it or to one sent before or with it (a kernel
     * answers in order: until it has answered those it has not reached this one). An answer to a
     * request sent after it does not count: a kernel that answers those has skipped this one. The
     * oldest owed request has the earliest such time of all {@code s} owes, so it alone decides.
     */
    private static long progress(KernelSession s, Owed owed) {
        return s.answeredAny && s.lastAnsweredAsked <= owed.asked ? Math.max(owed.since, s.lastAnswered) : owed.since;
    }

    /**
     * When a request asked of {@code s} at {@code askedNanos} went on the wire (xp-spec 4.8: the
     * deadline counts from there), or {@link Long#MAX_VALUE} while it still waits in the session's
     * outbox behind a grant whose holders'-journal entry is not written yet
     * ({@link CoreContext#sendAfterStore}: a slow or failing store). A request asked while messages
     * waited went out when the outbox emptied (a partial drain counts at the full one: later, never
     * earlier). A kernel owes nothing it has not been sent.
     */
    static long sentAt(KernelSession s, long askedNanos) {
        if (!s.outbox.isEmpty() && askedNanos >= s.outboxBlockedSince) {
            return Long.MAX_VALUE;
        }
        if (askedNanos >= s.outboxFlushedFrom && askedNanos <= s.outboxFlushedAt) {
            return s.outboxFlushedAt;
        }
        return askedNanos;
    }

    /**
     * A relinquish_futex(try) is owed by {@code f}'s holder, if it has one and a try is asked: kept in
     * the holder's {@link OwedAnswers}. Called where a try is asked and where a futex moves to a
     * holder while one may be asked (a grant, a forward, a reclaim, a resume's settle, a restore).
     */
    void tryOwed(FutexRecord f) {
        KernelSession s = f.holder;
        if (deadlineNanos == 0 || s == null || !f.tryAsked) {
            return;
        }
        FutexKey key = f.key;
        long asked = f.tryAskedNanos;
        s.owed.tryAsked(asked, key, () -> {
            FutexRecord now = futexes.record(key.object(), key.offset());
            return now != null && now.holder == s && now.tryAsked && now.tryAskedNanos == asked && s.held.contains(key);
        }, () -> "a memory_object_relinquish_futex (try) for " + PagerFutexes.describe(key));
    }

    /** A page operation's lock_request with reply is owed by {@code s} (see {@link CoreContext#owed}). */
    void pageOwed(KernelSession s, long askedNanos, long order, java.util.function.BooleanSupplier stillOwed,
            java.util.function.Supplier<String> what) {
        if (deadlineNanos != 0) {
            s.owed.pageAsked(askedNanos, order, stillOwed, what);
        }
    }

    /**
     * The oldest request {@code s} owes an answer to, or null: the oldest page lock_request, unless
     * a relinquish_futex(try) went out before it, or in the same flush and was asked before it (the
     * stream carries them in asked order; late7 review O2). O(log n) amortized ({@link OwedAnswers}).
     */
    private Owed oldestOwed(KernelSession s) {
        Owed oldest = null;
        OwedAnswers.Request page = s.owed.oldestPage(core.stats.owedExamined);
        if (page != null && sentAt(s, page.askedNanos()) != Long.MAX_VALUE) {
            oldest = new Owed(sentAt(s, page.askedNanos()), page.askedNanos(), page.what().get());
        }
        OwedAnswers.Request tried = s.owed.oldestTry(core.stats.owedExamined);
        if (tried != null) {
            long sent = sentAt(s, tried.askedNanos());
            if (sent != Long.MAX_VALUE && (oldest == null || sent < oldest.since
                    || sent == oldest.since && tried.askedNanos() < oldest.asked)) {
                oldest = new Owed(sent, tried.askedNanos(), tried.what().get());
            }
        }
        return oldest;
    }

    /** A request owed: when it went on the wire, when it was asked (its place in the stream's order), what it is. */
    private record Owed(long since, long asked, String what) {}
}
