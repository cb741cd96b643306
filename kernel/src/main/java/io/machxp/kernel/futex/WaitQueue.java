package io.machxp.kernel.futex;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The local threads waiting for one futex. With priority inheritance the next owner is the waiter
 * of highest effective priority, FIFO among equals (Linux PI-futexes); without it, plain arrival
 * order. Priorities are read when the queue is asked, so a waiter whose priority changes while it
 * waits (boosted, deboosted, thread_set_priority) moves with it, behind its new equals
 * ({@link #requeue}). Core thread only; a handful of
 * waiters per futex, so a scan is cheaper than keeping an order.
 */
public final class WaitQueue implements Iterable<FutexWaiter> {
    private final List<FutexWaiter> waiters = new ArrayList<>();
    private long nextArrival;

    /** Queues {@code w}, which blocks now ({@code nowNanos}, the kernel's clock). */
    public void add(FutexWaiter w, long nowNanos) {
        w.arrival = nextArrival++;
        w.sinceNanos = nowNanos;
        waiters.add(w);
    }

    /**
     * A point in this queue's arrival order, for a wait that is not queued here: a waiter on
     * another kernel, whose arrival is when its relinquish_futex reached this kernel.
     */
    public long mark() {
        return nextArrival++;
    }

    /**
     * How long the next owner ({@link #peek}) has waited at its priority at {@code nowNanos}, for
     * the pager (lock_futex.waited_nanos); -1 if nobody waits.
     */
    public long topWaitedNanos(boolean byPriority, long nowNanos) {
        FutexWaiter top = peek(byPriority);
        return top == null ? -1 : Math.max(0, nowNanos - top.sinceNanos);
    }

    /** Whether {@code w} arrived before the point {@code mark}. */
    public static boolean before(FutexWaiter w, long mark) {
        return w.arrival < mark;
    }

    /**
     * A queued waiter whose effective priority changed goes behind the waiters of its new priority,
     * as a new arrival: Linux requeues the rt_mutex waiter of a task whose priority changed, after
     * its equals (rt_mutex_adjust_prio_chain). A waiter not queued here is left alone.
     */
    public void requeue(FutexWaiter w, long nowNanos) {
        if (waiters.remove(w)) {
            add(w, nowNanos);
        }
    }

    public boolean remove(FutexWaiter w) {
        return waiters.remove(w);
    }

    public boolean isEmpty() {
        return waiters.isEmpty();
    }

    public int size() {
        return waiters.size();
    }

    /** The next owner, or null: by priority when {@code byPriority}, else by arrival. */
    public FutexWaiter peek(boolean byPriority) {
        return peek(byPriority, true);
    }

    /**
     * The next owner, or null: by priority when {@code byPriority}; among equals the first to
     * arrive, or the last with {@code inOrder} false (a bug planted for tests only).
     */
    public FutexWaiter peek(boolean byPriority, boolean inOrder) {
        FutexWaiter top = null;
        for (FutexWaiter w : waiters) {
            int by = top == null ? 1 : byPriority ? Integer.compare(w.thread.effectivePriority,
                    top.thread.effectivePriority) : 0;
            if (by > 0 || (by == 0 && !inOrder)) {
                top = w;
            }
        }
        return top;
    }

    public FutexWaiter poll(boolean byPriority) {
        return poll(byPriority, true);
    }

    public FutexWaiter poll(boolean byPriority, boolean inOrder) {
        FutexWaiter top = peek(byPriority, inOrder);
        if (top != null) {
            waiters.remove(top);
        }
        return top;
    }

    /** The highest effective priority among the waiters; 0 if none. */
    public int topPriority() {
        int top = 0;
        for (FutexWaiter w : waiters) {
            top = Math.max(top, w.thread.effectivePriority);
        }
        return top;
    }

    @Override
    public Iterator<FutexWaiter> iterator() {
        return waiters.iterator();
    }
}
