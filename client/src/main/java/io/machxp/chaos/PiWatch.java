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
 *
 * <p>A waiter's kernel that has a trylock of the same futex out to the pager sends no lock_futex
 * for its waiters until that try is answered (xp-spec 8.3: at most one lock_futex out per futex
 * and kernel), and a try's answer may take the holder's wait for its word's page (up to half a
 * lease) on top of the transits. So while a trylock of the futex is out on a waiter's kernel the
 * owner is not settled, and its answer there counts as a change of the waiters: their boost
 * leaves their kernel only then.
 */
final class PiWatch {
    private record Waiter(int base, String kernel, long earliestTimeout) { }

    private final long settle;
    private final Map<Integer, Map<String, Waiter>> waiting = new HashMap<>();
    private final Map<Integer, Long> changedAt = new HashMap<>();
    /** Trylocks out, by futex: worker to its kernel. */
    private final Map<Integer, Map<String, String>> trying = new HashMap<>();
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

    /** The worker's lock call was answered, or its kernel or task is gone (a trylock of it too). */
    void stopsWaiting(int futex, String worker, long now) {
        Map<String, Waiter> w = waiting.get(futex);
        if (w != null && w.remove(worker) != null) {
            changedAt.put(futex, now);
        }
        tryAnswered(futex, worker, now);
    }

    /** A worker's trylock of {@code futex} begins on {@code kernel}. */
    void tries(int futex, String worker, String kernel) {
        trying.computeIfAbsent(futex, f -> new LinkedHashMap<>()).put(worker, kernel);
    }

    /**
     * The worker's trylock of {@code futex} was answered (or the worker is gone): waiters of the
     * futex on its kernel send their lock_futex only now, so their boost starts its way now.
     */
    void tryAnswered(int futex, String worker, long now) {
        Map<String, String> t = trying.get(futex);
        String kernel = t == null ? null : t.remove(worker);
        if (kernel != null && waitsOn(futex, kernel)) {
            changedAt.put(futex, now);
        }
    }

    private boolean waitsOn(int futex, String kernel) {
        return waiting.getOrDefault(futex, Map.of()).values().stream().anyMatch(w -> w.kernel.equals(kernel));
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
            if (trying.getOrDefault(futex, Map.of()).containsValue(w.kernel)) {
                return OptionalInt.empty(); // its kernel's lock_futex waits for the try's answer
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
