package io.machxp.chaos;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Predicate;

/**
 * The harness's own record of who waits for which futex, to check priority inheritance under
 * faults: a settled owner runs at the highest priority of the threads waiting for it.
 *
 * <p>Settled, precisely, at time t for an owner of futex f: the owner acquired f at least S
 * before t; the set of f's waiters (the workers whose lock call on f is unanswered) has not
 * changed since t - S; no fault has been in effect since t - S (no partition, pause, clock jump,
 * death or pager outage; a fault's effect lasts until the kernel has its lease whole again, see
 * {@link FaultBounds#recoveryNanos}); every kernel involved is alive by the harness's record; and
 * no waiter's timeout can have fired by t, on its kernel's clock. S ({@link FaultBounds#settleNanos})
 * covers a boost's path from a waiter's kernel through the pager to the owner's kernel twice.
 * Then the owner's effective priority is exactly the highest of its base priority and its
 * waiters' (a worker waits only while it owns nothing, so no chains).
 */
final class PiWatch {
    private record Waiter(int base, String kernel, long earliestTimeout) { }

    private final long settle;
    private final Map<Integer, Map<String, Waiter>> waiting = new HashMap<>();
    private final Map<Integer, Long> changedAt = new HashMap<>();
    private long disturbedUntil;

    PiWatch(long settleNanos) {
        this.settle = settleNanos;
    }

    /** A fault's effect lasts until {@code until}. */
    void disturbed(long until) {
        disturbedUntil = Math.max(disturbedUntil, until);
    }

    /** A worker's lock call on {@code futex} begins; it may time out from {@code earliestTimeout} on. */
    void waits(int futex, String worker, int base, String kernel, long now, long earliestTimeout) {
        waiting.computeIfAbsent(futex, f -> new LinkedHashMap<>()).put(worker, new Waiter(base, kernel, earliestTimeout));
        changedAt.put(futex, now);
    }

    /** The worker's lock call was answered, or its kernel or task is gone. */
    void stopsWaiting(int futex, String worker, long now) {
        Map<String, Waiter> w = waiting.get(futex);
        if (w != null && w.remove(worker) != null) {
            changedAt.put(futex, now);
        }
    }

    /**
     * The priority a settled owner of {@code futex} must run at, or empty if it is not settled.
     *
     * @param alive whether a kernel is alive, by the harness's record
     */
    OptionalInt expected(int futex, String ownerKernel, int ownerBase, long acquiredAt, long now,
            Predicate<String> alive) {
        long since = now - settle;
        if (acquiredAt > since || changedAt.getOrDefault(futex, 0L) > since || disturbedUntil > since
                || !alive.test(ownerKernel)) {
            return OptionalInt.empty();
        }
        int expected = ownerBase;
        for (Waiter w : waiting.getOrDefault(futex, Map.of()).values()) {
            if (!alive.test(w.kernel) || w.earliestTimeout <= now) {
                return OptionalInt.empty();
            }
            expected = Math.max(expected, w.base);
        }
        return OptionalInt.of(expected);
    }

    /** How many waiters the futex has by the record. */
    int waiters(int futex) {
        return waiting.getOrDefault(futex, Map.of()).size();
    }
}
