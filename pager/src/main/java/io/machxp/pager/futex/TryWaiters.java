package io.machxp.pager.futex;

import io.machxp.pager.core.KernelSession;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The kernels whose trylock of a futex waits for its holder's answer to a relinquish_futex with
 * try, each with the trylock's priority, in arrival order. A release that answers them grants the
 * highest first (the first of equals); a futex_held answers those at or below the priority the
 * holder was asked with (core's FutexTries). Pager core thread only.
 */
public final class TryWaiters implements Iterable<KernelSession> {
    /**
     * Empty until the first trylock waits (every futex record has one; few ever hold a try), then
     * kept: no allocation for a record that never sees a try (2026-12-08, the synthetic load's profile).
     */
    private Map<KernelSession, Integer> priorities = java.util.Collections.emptyMap();

    /** {@code s} waits as a try with {@code priority} (its lock_futex's; 0 without PI). */
    public void add(KernelSession s, int priority) {
        if (!(priorities instanceof LinkedHashMap)) {
            priorities = new LinkedHashMap<>();
        }
        priorities.putIfAbsent(s, priority);
    }

    public boolean contains(KernelSession s) {
        return priorities.containsKey(s);
    }

    public boolean remove(KernelSession s) {
        return !priorities.isEmpty() && priorities.remove(s) != null;
    }

    public boolean isEmpty() {
        return priorities.isEmpty();
    }

    public int size() {
        return priorities.size();
    }

    public void clear() {
        if (!priorities.isEmpty()) {
            priorities.clear();
        }
    }

    /** The priority {@code s} tries with (0 if it does not try). */
    public int priorityOf(KernelSession s) {
        return priorities.getOrDefault(s, 0);
    }

    /** The first of the highest priority, or null if none waits. */
    public KernelSession highest() {
        KernelSession best = null;
        int top = Integer.MIN_VALUE;
        for (Map.Entry<KernelSession, Integer> e : priorities.entrySet()) {
            if (e.getValue() > top) {
                best = e.getKey();
                top = e.getValue();
            }
        }
        return best;
    }

    /** The highest priority waiting (0 if none waits). */
    public int highestPriority() {
        KernelSession s = highest();
        return s == null ? 0 : priorities.get(s);
    }

    public Stream<KernelSession> stream() {
        return priorities.keySet().stream();
    }

    /** In arrival order; {@link Iterator#remove} removes the kernel. */
    @Override
    public Iterator<KernelSession> iterator() {
        return priorities.keySet().iterator();
    }
}
