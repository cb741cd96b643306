package io.machxp.pager.futex;

import io.machxp.pager.core.KernelSession;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The kernels waiting for one futex, in the order the pager grants it: highest priority first,
 * and among equal priorities in arrival order. A kernel waits at most once; a new priority for it
 * keeps its arrival number, so it goes back to where it arrived among the kernels of its new
 * priority, unless the kernel's top waiter was requeued ({@link #requeue}: a new arrival number,
 * behind its new equals). With every priority 0 this is FIFO. Priorities are XP's uint32, compared unsigned.
 * Each kernel also has when its top waiter began waiting, on the pager's clock (its lock_futex's
 * waited_nanos counted back, or the arrival), which relinquish_futex passes to the holder (xp-spec
 * 8.6); it does not change the order. Pager core thread only.
 */
public final class FutexQueue {
    private record Waiter(KernelSession kernel, int priority, long arrival, long since) {}

    /** A {@code since} not known (a waiter restored from a snapshot, which does not keep it). */
    public static final long UNKNOWN = Long.MIN_VALUE;
    /** For {@link #reprioritize}: the kernel did not say how long its top waiter waited; keep what was known. */
    public static final long KEEP = Long.MIN_VALUE + 1;

    private static final Comparator<Waiter> GRANT_ORDER = (a, b) -> a.priority != b.priority
            ? Integer.compareUnsigned(b.priority, a.priority)
            : Long.compare(a.arrival, b.arrival);

    /**
     * Made at the first waiter, kept once made: most futexes are locked with nobody waiting (a
     * record made at a lock and pruned at its release), and two collections each for none cost
     * the core thread an allocation per lock (2026-12-08, the synthetic load's profile).
     */
    private TreeSet<Waiter> order;
    private Map<KernelSession, Waiter> byKernel;
    private long arrivals;

    private void made() {
        if (order == null) {
            order = new TreeSet<>(GRANT_ORDER);
            byKernel = new HashMap<>();
        }
    }

    /** Queues a kernel that is not queued yet, whose top waiter began waiting at {@code since} (pager clock). */
    public void add(KernelSession kernel, int priority, long since) {
        made();
        if (byKernel.containsKey(kernel)) {
            throw new IllegalStateException(kernel + " is already queued");
        }
        Waiter w = new Waiter(kernel, priority, arrivals++, since);
        order.add(w);
        byKernel.put(kernel, w);
    }

    /**
     * Gives a queued kernel a new priority, keeping its arrival number, and its top waiter's
     * {@code since}; false if it is not queued.
     */
    public boolean reprioritize(KernelSession kernel, int priority, long since) {
        Waiter w = byKernel == null ? null : byKernel.get(kernel);
        if (w == null) {
            return false;
        }
        order.remove(w);
        Waiter moved = new Waiter(kernel, priority, w.arrival, since == KEEP ? w.since : since);
        order.add(moved);
        byKernel.put(kernel, moved);
        return true;
    }

    /**
     * Gives a queued kernel a new priority and a new arrival number, behind the kernels of that
     * priority: its top waiter's priority changed, and Linux requeues such a waiter as if it had
     * just blocked. False if it is not queued.
     */
    public boolean requeue(KernelSession kernel, int priority, long since) {
        Waiter w = byKernel == null ? null : byKernel.get(kernel);
        if (w == null) {
            return false;
        }
        order.remove(w);
        Waiter moved = new Waiter(kernel, priority, arrivals++, since);
        order.add(moved);
        byKernel.put(kernel, moved);
        return true;
    }

    /** When the queued kernel's top waiter began waiting (pager clock), {@link #UNKNOWN} if not known or not queued. */
    public long sinceOf(KernelSession kernel) {
        Waiter w = byKernel == null ? null : byKernel.get(kernel);
        return w == null ? UNKNOWN : w.since;
    }

    /** The kernel to grant next (left in the queue), or null if none waits. */
    public KernelSession peek() {
        return isEmpty() ? null : order.first().kernel;
    }

    /** Takes a kernel out of the queue; false if it was not in it. */
    public boolean remove(KernelSession kernel) {
        if (byKernel == null) {
            return false;
        }
        Waiter w = byKernel.remove(kernel);
        return w != null && order.remove(w);
    }

    /** Takes the kernel to grant next, or null if none waits. */
    public KernelSession poll() {
        Waiter w = order == null ? null : order.pollFirst();
        if (w == null) {
            return null;
        }
        byKernel.remove(w.kernel);
        return w.kernel;
    }

    public boolean contains(KernelSession kernel) {
        return byKernel != null && byKernel.containsKey(kernel);
    }

    public boolean isEmpty() {
        return order == null || order.isEmpty();
    }

    public int size() {
        return order == null ? 0 : order.size();
    }

    /** Each waiting kernel with its priority, in grant order. */
    public java.util.List<java.util.Map.Entry<KernelSession, Integer>> waiters() {
        java.util.List<java.util.Map.Entry<KernelSession, Integer>> out = new java.util.ArrayList<>(size());
        if (order == null) {
            return out;
        }
        for (Waiter w : order) {
            out.add(java.util.Map.entry(w.kernel, w.priority));
        }
        return out;
    }

    /**
     * A waiting kernel as a snapshot writes it: its priority, arrival number, and when its top
     * waiter began waiting ({@link #UNKNOWN} if not known).
     */
    public interface WaiterVisitor {
        void waiter(KernelSession kernel, int priority, long arrival, long since);
    }

    /** Each waiting kernel in grant order, with its priority and arrival number (for snapshots). */
    public void forEachWaiter(WaiterVisitor visitor) {
        if (order == null) {
            return;
        }
        for (Waiter w : order) {
            visitor.waiter(w.kernel, w.priority, w.arrival, w.since);
        }
    }

    /** Arrival numbers handed out so far (the next arrival's number). */
    public long arrivals() {
        return arrivals;
    }

    /** Restores a snapshot's waiter, with its arrival number (in grant order, after the count). */
    public void restoreWaiter(KernelSession kernel, int priority, long arrival, long since) {
        made();
        if (byKernel.containsKey(kernel) || arrival >= arrivals) {
            throw new IllegalStateException(kernel + " is queued twice, or arrived after the count of arrivals");
        }
        Waiter w = new Waiter(kernel, priority, arrival, since);
        order.add(w);
        byKernel.put(kernel, w);
    }

    /** Restores a snapshot's count of arrivals (before its waiters). */
    public void restoreArrivals(long count) {
        arrivals = count;
    }

    /**
     * How long the top waiter of the kernel to grant next has waited at {@code now} (pager clock),
     * or -1 when nobody waits or that is not known.
     */
    public long topWaitedNanos(long now) {
        if (isEmpty() || order.first().since == UNKNOWN) {
            return -1;
        }
        return Math.max(0, now - order.first().since);
    }

    /** The highest priority waiting (uint32), 0 when nobody waits. */
    public int topPriority() {
        return isEmpty() ? 0 : order.first().priority;
    }
}
