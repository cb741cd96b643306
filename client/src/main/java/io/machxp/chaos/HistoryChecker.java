package io.machxp.chaos;

import io.machxp.chaos.History.Entry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verifies a chaos {@link History}. The rules, per futex unless said otherwise:
 * <ol>
 *   <li>One owner at a time: an acquisition comes after the previous owner's release, or after
 *       its ownership ended with its task or kernel, never while it lasts. The simulator runs one
 *       event at a time in virtual-time order, so the history's order is both the real order and
 *       the virtual-time order of the run.</li>
 *   <li>Fencing: tokens never go down, and grow strictly when the futex moves to another kernel.</li>
 *   <li>OWNER_DIED exactly when an owner died: an acquisition says EOWNERDEAD if and only if,
 *       since the last acquisition, an owner's task died holding it or the pager declared the
 *       kernel that held it dead.</li>
 *   <li>No acknowledged write lost: the counter an owner reads is the last value written under
 *       the futex; after an owner death (only then) it may be an older one, since the dead
 *       kernel's writes it never returned are lost - which is what EOWNERDEAD tells.</li>
 *   <li>Every call is answered (a waiter acquires or times out) unless its kernel crashed; EIO
 *       only from a kernel that has lost its lease or its pager; only the owner reads, writes and
 *       releases.</li>
 * </ol>
 * The one exception is a pager crash, which loses all lock state: what a kernel held and did not
 * reclaim in the grace period (it crashed or stopped meanwhile) is {@code LOST_IN_RESTART}, and
 * the next owner of such a futex may read older data without being told of a death (rules 3, 4).
 * Everything else still holds across the restart, and rules 1 and 2 hold for every futex. A kernel
 * that did not reclaim although it had not stopped by itself (its lease ran, or the pager refused
 * it) is a violation ({@code UNRECLAIMED}). Where the recorder cannot see which futexes a kernel
 * held (real processes), it marks those a dead kernel may have held ({@code MAY_HAVE_DIED}): the
 * next owner may then be told of a death, and only if told may it read older data.
 */
public final class HistoryChecker {
    private static final int MAX_REPORTED = 20;

    private static final class FutexState {
        String owner;
        boolean pendingDeath;
        boolean acquiredAfterDeath;
        /** The pager crashed and nobody reclaimed what a kernel held of it: the next owner may not be told. */
        boolean lostInRestart;
        /** A kernel that may have held it died: the next acquisition may say EOWNERDEAD (MAY_HAVE_DIED). */
        boolean mayHaveDied;
        long expected;
        long lastToken;
        String lastKernel;
    }

    private final Map<Integer, FutexState> futexes = new HashMap<>();
    private final Map<String, String> pendingCalls = new LinkedHashMap<>();
    private final Set<String> crashedKernels = new HashSet<>();
    private final Set<String> stoppedKernels = new HashSet<>();
    private final List<String> violations = new ArrayList<>();
    private int violationCount;

    /** The violations found, at most a few spelled out; empty when the history is correct. */
    public static List<String> check(History history) {
        HistoryChecker c = new HistoryChecker();
        for (Entry e : history.entries()) {
            c.apply(e);
        }
        c.finish();
        if (c.violationCount > MAX_REPORTED) {
            c.violations.add("... and " + (c.violationCount - MAX_REPORTED) + " more");
        }
        return c.violations;
    }

    private static String kernelOf(String thread) {
        int slash = thread.indexOf('/');
        return slash < 0 ? thread : thread.substring(0, slash);
    }

    private void violation(Entry e, String what) {
        violationCount++;
        if (violationCount <= MAX_REPORTED) {
            violations.add(String.format("#%d at %.3f ms: %s", e.seq(), e.time() / 1e6, what));
        }
    }

    private void apply(Entry e) {
        FutexState f = e.futex() < 0 ? null : futexes.computeIfAbsent(e.futex(), i -> new FutexState());
        switch (e.kind()) {
            case ACQUIRE -> acquire(e, f);
            case RELEASE -> {
                if (!e.thread().equals(f.owner)) {
                    violation(e, e.thread() + " released f" + e.futex() + ", which " + owned(f));
                }
                end(e, f);
            }
            case OWNER_GONE -> {
                if (e.thread().equals(f.owner)) {
                    end(e, f);
                    f.pendingDeath |= e.flag();
                }
            }
            case READ -> {
                requireOwner(e, f, "read");
                if (!f.acquiredAfterDeath && e.value() != f.expected) {
                    violation(e, e.thread() + " read " + e.value() + " under f" + e.futex() + ", but the last write "
                            + "acknowledged under it was " + f.expected + " and no owner died: a write was lost");
                } else if (f.acquiredAfterDeath && e.value() > f.expected) {
                    violation(e, e.thread() + " read " + e.value() + " under f" + e.futex() + ", a value never "
                            + "written (the last was " + f.expected + ")");
                }
                f.expected = e.value();
            }
            case WRITE -> {
                requireOwner(e, f, "wrote");
                f.expected = e.value();
            }
            case CALL -> pendingCalls.put(e.thread(), e.detail());
            case ANSWER -> {
                pendingCalls.remove(e.thread());
                if (e.detail().equals("EIO") && !stoppedKernels.contains(kernelOf(e.thread()))) {
                    violation(e, e.thread() + " got EIO although its kernel still had its lease");
                }
            }
            case HOLDER_DECLARED_DEAD -> {
                if (f.owner != null && kernelOf(f.owner).equals(e.thread())) {
                    violation(e, "the pager declared " + e.thread() + " dead while its thread " + f.owner
                            + " still owned f" + e.futex() + ": the kernel had not stopped first");
                }
                f.pendingDeath = true;
            }
            case LOST_IN_RESTART -> f.lostInRestart = true;
            case MAY_HAVE_DIED -> f.mayHaveDied = true;
            case UNRECLAIMED -> violation(e, "kernel " + e.thread() + " held f" + e.futex() + " when the pager "
                    + "crashed and did not reclaim it in the grace period, but had not stopped by itself ("
                    + e.detail() + "): it could still be using it");
            case PAGER -> { }
            case KERNEL -> {
                if (e.detail().startsWith("shutdown") || e.detail().startsWith("pager-lost")) {
                    stoppedKernels.add(e.thread());
                } else if (e.detail().startsWith("crash")) {
                    crashedKernels.add(e.thread());
                    stoppedKernels.add(e.thread());
                } else if (e.detail().startsWith("lease-lost")) {
                    stoppedKernels.add(e.thread());
                }
            }
        }
    }

    private void acquire(Entry e, FutexState f) {
        if (f.owner != null) {
            violation(e, "two owners of f" + e.futex() + ": " + e.thread() + " acquired it while " + f.owner
                    + " owned it");
        }
        if (e.flag() != f.pendingDeath && !f.lostInRestart && !(e.flag() && f.mayHaveDied)) {
            violation(e, e.thread() + " acquired f" + e.futex() + (e.flag()
                    ? " with EOWNERDEAD, but no owner died since it was last acquired"
                    : " without EOWNERDEAD, but an owner died holding it"));
        }
        String kernel = kernelOf(e.thread());
        if (e.value() < f.lastToken || (e.value() == f.lastToken && f.lastKernel != null
                && !f.lastKernel.equals(kernel))) {
            violation(e, e.thread() + " acquired f" + e.futex() + " with fencing token " + e.value()
                    + ", not above " + f.lastToken + " of " + f.lastKernel);
        }
        f.lastToken = Math.max(f.lastToken, e.value());
        f.lastKernel = kernel;
        f.owner = e.thread();
        f.acquiredAfterDeath = e.flag() || f.lostInRestart;
        f.pendingDeath = false;
        f.lostInRestart = false;
        f.mayHaveDied = false;
    }

    private void end(Entry e, FutexState f) {
        f.owner = null;
    }

    private void requireOwner(Entry e, FutexState f, String what) {
        if (!e.thread().equals(f.owner)) {
            violation(e, e.thread() + " " + what + " the counter of f" + e.futex() + ", which " + owned(f));
        }
    }

    private static String owned(FutexState f) {
        return f.owner == null ? "nobody owned" : f.owner + " owned";
    }

    private void finish() {
        pendingCalls.forEach((thread, call) -> {
            if (!crashedKernels.contains(kernelOf(thread))) {
                violationCount++;
                if (violationCount <= MAX_REPORTED) {
                    violations.add(thread + "'s " + call + " was never answered (its kernel did not crash)");
                }
            }
        });
    }
}
