package io.machxp.chaos.real;

import io.machxp.chaos.History;
import io.machxp.chaos.History.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The history of a real chaos run, written by the workers and the fault injector under one lock,
 * so that its order is an order the run really had: a worker records its release before it calls
 * unlock and its acquisition after the lock returned, so no acquisition is recorded before the
 * release it followed. What the faults did is decided here from the faults injected, never from
 * what the system says.
 *
 * <p>Per kernel: an epoch and a gate. A fault on a kernel (or on the pager, for every kernel)
 * closes the gate, moves the epoch on and, in the same step, records what it ends: the owners on
 * that kernel lose their futexes ({@code OWNER_GONE}, with a death the next owner must be told of
 * when the kernel will have stopped) and every futex may have been cached there
 * ({@code MAY_HAVE_DIED}). A call begun in an older epoch records nothing: its answer may come
 * from before or after the fault. No call begins while the gate is closed.
 */
final class Recorder {
    /** How long a fault that stops a kernel lasts, in leases (see {@link Faults}). */
    static final long FAULT_LEASES_TENTHS = 25;
    private final History history = new History();
    private final long started = System.nanoTime();
    /** The wall clock when the history's time was 0: log stamps are turned into history times by it ({@link LeaseLog}). */
    private final long startedMillis = System.currentTimeMillis();
    private final Map<String, Integer> epochs = new HashMap<>();
    private final Map<String, Boolean> gated = new HashMap<>();
    /** Whether the kernel's last fault stops it (its futexes pass on with OWNER_DIED). */
    private final Map<String, Boolean> lastFaultStops = new HashMap<>();
    /** kernel -> the owning worker's name for each futex owned there now. */
    private final Map<String, Map<Integer, String>> owners = new HashMap<>();
    /** kernel -> when it last granted a futex (nanoTime). */
    private final Map<String, Long> lastAcquire = new HashMap<>();
    private final Map<String, Long> errors = new TreeMap<>();
    /** Who waits for the pager's next grant: the call must have begun after the key (nanoTime). */
    private final List<Map.Entry<Long, CompletableFuture<Long>>> grantWatches = new ArrayList<>();
    private final int futexes;
    private final long leaseNanos;

    Recorder(int futexes, Iterable<String> kernels, long leaseMillis) {
        this.futexes = futexes;
        this.leaseNanos = leaseMillis * 1_000_000;
        for (String k : kernels) {
            epochs.put(k, 0);
            gated.put(k, false);
            owners.put(k, new HashMap<>());
        }
    }

    private long now() {
        return System.nanoTime() - started;
    }

    /** Waits while the kernel's gate is closed (or until {@code stop}); returns the epoch the call begins in. */
    synchronized int begin(String kernel, java.util.function.BooleanSupplier stop) throws InterruptedException {
        while (gated.get(kernel) && !stop.getAsBoolean()) {
            wait(50);
        }
        return epochs.get(kernel);
    }

    private boolean current(String kernel, int epoch) {
        return epochs.get(kernel) == epoch;
    }

    /**
     * A lock call begun at {@code began} (nanoTime) returned, granted by the pager (not by its
     * kernel alone) when {@code byPager}: whoever waits for a grant of a call begun after a moment
     * before it learns when ({@link #pagerGrantAfter}). Recorded whatever the epoch.
     */
    synchronized void granted(long began, boolean byPager) {
        if (byPager) {
            long now = System.nanoTime();
            grantWatches.removeIf(w -> w.getKey() < began && w.getValue().complete(now));
        }
    }

    /** Completes with the time (nanoTime) the pager grants a lock call begun after {@code since}. */
    synchronized CompletableFuture<Long> pagerGrantAfter(long since) {
        CompletableFuture<Long> at = new CompletableFuture<>();
        grantWatches.add(Map.entry(since, at));
        return at;
    }

    /** A lock returned the futex; false (nothing recorded) if a fault came since the call began. */
    synchronized boolean acquired(String kernel, int epoch, String thread, int futex, long token, boolean ownerDied) {
        if (!current(kernel, epoch)) {
            return false;
        }
        history.add(now(), Kind.ACQUIRE, thread, futex, token, ownerDied, "");
        owners.get(kernel).put(futex, thread);
        lastAcquire.put(kernel, System.nanoTime());
        return true;
    }

    /** A read (READ) or the write about to be made (WRITE, recorded before its call: see the worker). */
    synchronized boolean value(String kernel, int epoch, String thread, int futex, Kind kind, long value) {
        if (!current(kernel, epoch)) {
            return false;
        }
        history.add(now(), kind, thread, futex, value, false, "");
        return true;
    }

    /** The owner is about to unlock. */
    synchronized boolean release(String kernel, int epoch, String thread, int futex) {
        if (!current(kernel, epoch)) {
            return false;
        }
        history.add(now(), Kind.RELEASE, thread, futex, 0, false, "");
        owners.get(kernel).remove(futex);
        return true;
    }

    /**
     * The owner gives up without an unlock it can be sure of (a call under the futex failed): its
     * task is terminated, so the futex passes on with OWNER_DIED.
     */
    synchronized void abandoned(String kernel, int epoch, String thread, int futex) {
        if (!current(kernel, epoch) || !thread.equals(owners.get(kernel).get(futex))) {
            return;
        }
        history.add(now(), Kind.OWNER_GONE, thread, futex, 0, true, "its task is terminated after a failed call");
        owners.get(kernel).remove(futex);
    }

    /**
     * An unlock whose answer was lost: the thread may still own the futex when its task is
     * terminated, so the next owner may be told of a death.
     */
    synchronized void unlockUncertain(String kernel, int epoch, int futex) {
        if (current(kernel, epoch)) {
            history.add(now(), Kind.MAY_HAVE_DIED, kernel, futex, 0, false, "an unlock whose answer was lost");
        }
    }

    /**
     * A lock whose answer was lost (its deadline passed): it may have been granted to the worker's
     * thread, whose task is terminated, so the next owner may be told of a death.
     */
    synchronized void lockUncertain(String kernel, int epoch, int futex) {
        if (current(kernel, epoch)) {
            history.add(now(), Kind.MAY_HAVE_DIED, kernel, futex, 0, false, "a lock whose answer was lost");
        }
    }

    /**
     * A fault begins on {@code kernel}: gate closed, epoch on; its owners lose their futexes (told
     * to the next owner as a death when {@code stops}: the kernel will have lost its lease or died),
     * and every futex may have been held there. A kernel that stops may also be granted a futex it
     * asked for before, by a pager that has not declared it dead yet, and the pager passes that on
     * with OWNER_DIED when it does: it has heard nothing from the kernel for a lease by then, and
     * the fault lasts 2.5 leases, so every futex may come with OWNER_DIED after any acquisition up
     * to the fault's end (an acquisition by another kernel meanwhile does not end that).
     */
    synchronized void faultOn(String kernel, String what, boolean stops) {
        gated.put(kernel, true);
        lastFaultStops.put(kernel, stops);
        epochs.merge(kernel, 1, Integer::sum);
        history.add(now(), Kind.KERNEL, kernel, -1, 0, false, (stops ? "lease-lost " : "fault ") + what);
        for (var e : owners.get(kernel).entrySet()) {
            history.add(now(), Kind.OWNER_GONE, e.getValue(), e.getKey(), 0, stops, what);
        }
        owners.get(kernel).clear();
        long grantableUntil = stops ? now() + FAULT_LEASES_TENTHS * leaseNanos / 10 : 0;
        for (int f = 0; f < futexes; f++) {
            history.add(now(), Kind.MAY_HAVE_DIED, kernel, f, grantableUntil, false, what);
        }
    }

    /**
     * Calls to the kernel may begin again. After a pager restart, a futex may have been granted to
     * the kernel after the fault began (by the old pager, a request it made before) and be passed
     * on with OWNER_DIED by the new one: each futex may again be told of a death once. (A kernel
     * that stops has its window from {@link #faultOn}.)
     */
    synchronized void open(String kernel) {
        gated.put(kernel, false);
        if (!lastFaultStops.getOrDefault(kernel, false)) {
            for (int f = 0; f < futexes; f++) {
                history.add(now(), Kind.MAY_HAVE_DIED, kernel, f, 0, false, "granted during the fault");
            }
        }
        notifyAll();
    }

    /**
     * Whether a worker whose call was overtaken by a fault should unlock what it got: yes after a
     * pager restart (its kernel may go on holding it); no when its kernel stops (the futex passes
     * on with OWNER_DIED, as recorded, and an unlock that slipped through first would say otherwise).
     */
    synchronized boolean unlockAfterFault(String kernel) {
        return !lastFaultStops.getOrDefault(kernel, false);
    }

    long startedMillis() {
        return startedMillis;
    }

    synchronized void pager(String what) {
        history.add(now(), Kind.PAGER, "", -1, 0, false, what);
    }

    /** When the kernel last granted a futex to a worker (nanoTime), or 0. */
    synchronized long lastAcquire(String kernel) {
        return lastAcquire.getOrDefault(kernel, 0L);
    }

    synchronized void error(String kind) {
        errors.merge(kind, 1L, Long::sum);
    }

    synchronized Map<String, Long> errors() {
        return new TreeMap<>(errors);
    }

    synchronized History history() {
        return history;
    }

    /**
     * The history with the stalls of the pager and kernels (not the harness's own) entered in time
     * order, as {@link Kind#STALL} entries: what the checker judges. Each stall is entered as the
     * process {@code as} names (a replica's as "pager" while it leads, see {@link RealChaos}).
     */
    synchronized History history(java.util.List<StallProbe.Stall> stalls,
            Function<StallProbe.Stall, String> as) {
        java.util.List<StallProbe.Stall> sorted = stalls.stream()
                .filter(s -> !s.process().equals(StallMonitor.HARNESS))
                .sorted(java.util.Comparator.comparingLong(StallProbe.Stall::start)).toList();
        History merged = new History();
        int next = 0;
        for (History.Entry e : history.entries()) {
            for (; next < sorted.size() && sorted.get(next).start() - started <= e.time(); next++) {
                addStall(merged, sorted.get(next), as);
            }
            merged.add(e.time(), e.kind(), e.thread(), e.futex(), e.value(), e.flag(), e.detail());
        }
        for (; next < sorted.size(); next++) {
            addStall(merged, sorted.get(next), as);
        }
        return merged;
    }

    private void addStall(History h, StallProbe.Stall s, Function<StallProbe.Stall, String> as) {
        h.add(s.start() - started, Kind.STALL, as.apply(s), -1, s.nanos(), false, "");
    }
}
