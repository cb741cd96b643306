package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The requests one kernel session owes an answer to, oldest asked first, for
 * {@link AnswerDeadlines}: so that finding the oldest costs O(log n) per message, not a walk of
 * every futex the session holds and every page record of the pager (xpprobe XP-P1: that walk ran
 * after every grant, and a kernel caching 2^16 futexes stalled the core for minutes). Pager core
 * thread only.
 *
 * <h2>Overview</h2>
 * Two queues, as {@link AnswerDeadlines#oldestOwed} weighs them: the lock_requests with reply of
 * page operations, and the relinquish_futex(try) of futexes the session holds. Each entry is a
 * request as it was asked: when ({@code askedNanos}), a tie-breaker ({@code order}), a test of
 * whether it is still owed now, and what it is (for the sentence ending the session).
 * <pre>
 *  asked          an entry is added ({@link #pageAsked}, {@link #tryAsked}); nothing is removed
 *                 when it is answered, the session leaves, the futex moves or the page's operation
 *                 ends: the entry goes stale, its test says so
 *  oldest         stale entries at the head are dropped until one is still owed (lazy deletion:
 *                 each entry is dropped once, so O(log n) amortized per entry)
 *  grown twice    every stale entry is dropped (O(n), after n additions: O(1) amortized), so
 *  since the last a queue holds at most twice the entries still owed at its last sweep, plus
 *  sweep          {@link #SLACK}: stale entries behind a head still owed (a write-back that flows
 *                 for long) stay until the next sweep, so the bound is twice the most the session
 *                 ever owed at once, plus {@link #SLACK} (late7 review O3: not twice those owed now)
 * </pre>
 * Every place that makes a request owed adds its entry: a page operation's lock_request (and a
 * restored operation's), a futex's try asked, and a futex that moves to a holder while a try is
 * asked of it (a reclaim or resume: the test also checks the holder). An entry never becomes
 * owed again once stale: its test names the exact request (the operation and its asking time,
 * the futex's holder and try time); asking again adds a new entry.
 *
 * <p>Order: asking times only grow on the pager's clock, but restores and resumes add entries in
 * any order, so each queue is a heap on (askedNanos, order). The oldest asked is also the oldest
 * sent ({@link AnswerDeadlines#sentAt} never decreases with the asking time). {@code order} for
 * pages is the record's creation number (the page table's order, which the walk this replaces
 * took among equal times, which a restore remakes in the same order); for futexes, the futex's key
 * (object, then offset), since a restore re-asks them in a hash map's order (tries asked at one
 * instant: any order is as true, but every replica must name the same one).
 */
final class OwedAnswers {
    /** Stale entries kept at most, past twice the entries left at the last sweep. */
    static final int SLACK = 64;

    /** One request asked of the session; {@code futex} is null for a page's. */
    record Request(long askedNanos, long order, FutexKey futex, BooleanSupplier stillOwed, Supplier<String> what) {}

    private static final Comparator<FutexKey> BY_KEY = Comparator.comparing(FutexKey::object)
            .thenComparingLong(FutexKey::offset);
    private static final Comparator<Request> OLDEST = Comparator.comparingLong(Request::askedNanos)
            .thenComparingLong(Request::order)
            .thenComparing(Request::futex, Comparator.nullsFirst(BY_KEY));

    private final Queue pages = new Queue();
    private final Queue tries = new Queue();
    /** A page operation's lock_request with reply, asked at {@code askedNanos}. */
    void pageAsked(long askedNanos, long order, BooleanSupplier stillOwed, Supplier<String> what) {
        pages.add(new Request(askedNanos, order, null, stillOwed, what));
    }

    /** A relinquish_futex(try) of {@code futex} asked at {@code askedNanos}; ties go by the key. */
    void tryAsked(long askedNanos, FutexKey futex, BooleanSupplier stillOwed, Supplier<String> what) {
        tries.add(new Request(askedNanos, 0, futex, stillOwed, what));
    }

    /** The oldest page lock_request still owed, or null; {@code examined} counts the entries looked at. */
    Request oldestPage(LongAdder examined) {
        return pages.oldest(examined);
    }

    /** The oldest relinquish_futex(try) still owed, or null; {@code examined} counts the entries looked at. */
    Request oldestTry(LongAdder examined) {
        return tries.oldest(examined);
    }

    /** Entries kept, stale ones included. */
    int size() {
        return pages.heap.size() + tries.heap.size();
    }

    private static final class Queue {
        final PriorityQueue<Request> heap = new PriorityQueue<>(OLDEST);
        /** Entries left by the last sweep. */
        int swept;

        void add(Request r) {
            heap.add(r);
            if (heap.size() > 2 * swept + SLACK) {
                heap.removeIf(e -> !e.stillOwed().getAsBoolean());
                swept = heap.size();
            }
        }

        Request oldest(LongAdder examined) {
            for (Request r = heap.peek(); r != null; r = heap.peek()) {
                examined.increment();
                if (r.stillOwed().getAsBoolean()) {
                    return r;
                }
                heap.poll();
                swept = Math.min(swept, heap.size());
            }
            return null;
        }
    }
}
