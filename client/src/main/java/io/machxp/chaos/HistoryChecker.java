package io.machxp.chaos;

import io.machxp.chaos.History.Entry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Verifies a chaos {@link History}. It trusts nothing the cores say about themselves: who died,
 * and which errors and OWNER_DIEDs are allowed, follow from the faults the harness recorded
 * ({@code DOOMED}, {@code DEAD}, {@code OWNER_GONE}, {@code PAGER}). The rules, per futex unless
 * said otherwise:
 * <ol>
 *   <li>One owner at a time: an acquisition comes after the previous owner's release, or after
 *       its ownership ended with its task or kernel, never while it lasts. The one handover the
 *       harness cannot time is a doomed kernel's: another kernel's acquisition fences its owner
 *       off (it needs OWNER_DIED), and any success the fenced owner is told of afterwards breaks
 *       the rule. The simulator runs one event at a time, so the history's order is the real one.</li>
 *   <li>Fencing: tokens never go down, and grow strictly when the futex moves to another kernel.</li>
 *   <li>OWNER_DIED: required when, since the last acquisition, an owner's task died holding the
 *       futex or its kernel died (crashed, shut down, doomed) while it owned it; allowed also when
 *       a kernel that ever asked for the futex (it may have held it unowned, with unreturned
 *       writes) died or was doomed, and until the pager must have declared such a kernel dead
 *       (the pager may grant it the futex up to then: {@code DOOMED}'s time, or the one a
 *       {@code MAY_HAVE_DIED} carries); allowed too when a thread whose lock of it was pending
 *       died after its last release began (nobody owned it, or its owner's unlock of it was
 *       pending) and no living waiter of its kernel above its priority had waited since before
 *       that release: it may have been the waiter an unlock handed the futex to, which dies
 *       holding it before it runs, as on Linux; the last write then stands. A waiter that died
 *       while a living owner held on, or below such a waiter of its kernel, allows nothing.
 *       Otherwise refused.</li>
 *   <li>No acknowledged write lost: the counter an owner reads is the last value written under
 *       the futex, unless its acquisition said OWNER_DIED (then an older one).</li>
 *   <li>Errors and deaths: EIO only from a kernel the harness doomed or killed; nothing a kernel
 *       acknowledges (lock, unlock, read, write, consistent) after the time it must have stopped
 *       by. With the contended mix ({@link ContendedWorkload}): EBUSY only from a trylock (which
 *       asks for the futex as a lock does, and acquires it only when it succeeds); a racy access
 *       of a page outside its futex ("peek", "poke") fails only with EIO, or ESRCH once the
 *       harness recorded its worker gone; a compute, like a sleep, only passes time. No lock or
 *       trylock answers EDEADLK, nor ESRCH to a worker that lives on (calls again): a worker
 *       holds at most one futex and writes no futex word, so either says a stale TID in the word
 *       ({@link StaleTids}).</li>
 *   <li>Liveness: after {@code QUIET} every call is answered within the quiet period of its start
 *       (or of the quiet's, if older), a lock with no timeout, or one longer than the quiet period,
 *       never times out, and no call is left unanswered unless its kernel was killed: a breach is
 *       a stuck waiter.</li>
 *   <li>Priority inheritance: every {@code PRIORITY} sample matched (see {@link PiWatch}).</li>
 *   <li>Stalls the harness saw but did not inject ({@code STALL}, real processes): where a
 *       kernel's and the pager's stalls add up to what can cost the kernel its lease (an episode
 *       of {@link Starvation}), OWNER_DIED is allowed as after a fault that stops the kernel, and
 *       its owners may be fenced off by another kernel's acquisition with OWNER_DIED; nothing else
 *       is allowed by a stall.</li>
 *   <li>The pager's declarations ({@code DECLARED}, real processes): only of a kernel that stopped;
 *       from one, the kernel's futexes may pass on with OWNER_DIED and its owners are fenced off
 *       ({@link DeclaredDeaths}).</li>
 * </ol>
 * A pager crash loses all lock state: a futex with a death not yet passed on, or asked for by a
 * kernel that died before the last grace period ended (it could not reclaim), may then be
 * acquired without OWNER_DIED and read older data (rules 3, 4); the others hold across it.
 * With several pagers ({@code PAGER} entries "serves" say which pager serves each futex) a
 * pager's crash puts only its own futexes at risk, and each pager's outage counts on its own. A
 * kernel cut off from one pager ({@code LINK_DOOMED}, {@code LINK_DEAD}) is judged as a doomed or
 * dead kernel for that pager's futexes and calls only: EIO is allowed for those, its owners of them
 * are fenced off or end, and nothing it does on them may succeed after it must have stopped -
 * until its worker has mapped the pager's object again (a new session), which that worker then
 * uses as a kernel that just started.
 */
public final class HistoryChecker {
    private static final int MAX_REPORTED = 20;

    /** What the checker found: broken safety rules, and calls not answered in time. */
    public record Verdict(List<String> violations, List<String> stuck) {
        public boolean passed() {
            return violations.isEmpty() && stuck.isEmpty();
        }
    }

    private record Pending(String call, long timeout, long start, long deadline, long seq) { }

    private final Map<Integer, FutexState> futexes = new HashMap<>();
    private final Map<String, Pending> pendingCalls = new LinkedHashMap<>();
    private final Set<String> killedKernels = new HashSet<>();
    /** Each worker's priority, from its start's entry ("worker, priority N"; a waiter holds nothing: not boosted). */
    private final Map<String, Integer> priorities = new HashMap<>();
    /** Workers the harness recorded gone (their task died, or their kernel): ESRCH may answer their racy accesses. */
    private final Set<String> gone = new HashSet<>();
    /** Rule 5's stale TIDs: EDEADLK, and ESRCH to a worker that lives on. */
    private final StaleTids staleTids = new StaleTids(this::violation);
    /** Kernels doomed or dead (EIO is allowed from them), with when the pager must have declared them dead. */
    private final Map<String, Long> failingKernels = new HashMap<>();
    /** Kernels past the time they must have stopped by: nothing they do may succeed. */
    private final Set<String> deadKernels = new HashSet<>();
    /** Owners fenced off by another kernel's acquisition, with the futex. */
    private final Map<String, Integer> fenced = new HashMap<>();
    /** Pagers crashed whose grace has not ended, each with the kernels that died meanwhile. */
    private final Map<String, Set<String>> diedInOutage = new HashMap<>();
    /** Kernel-pager sessions ("kernel|pager") doomed or dead, with when the pager must have declared them dead. */
    private final Map<String, Long> failingLinks = new HashMap<>();
    /** Kernel-pager sessions doomed and not yet past the time they must have stopped by: their owners are fenced off. */
    private final Set<String> doomedLinks = new HashSet<>();
    /** Kernel-pager sessions past the time they must have stopped by. */
    private final Set<String> deadLinks = new HashSet<>();
    /** Workers ("thread|pager") that mapped the pager's object again after their kernel's session with it died. */
    private final Set<String> remapped = new HashSet<>();
    /** Which pager serves each futex; empty: one pager serves them all. */
    private final Map<Integer, String> servedBy = new HashMap<>();
    /** The starvation episodes of a real run (see {@link Starvation}), in order of start. */
    private final List<Starvation.Episode> episodes;
    /** Rule 9: the pager's declarations of death, judged against the kernels' stops. */
    private final DeclaredDeaths declarations = new DeclaredDeaths(this::violation);
    private long quietStart = -1;
    private long quietNanos;
    private final List<String> violations = new ArrayList<>();
    private final List<String> stuck = new ArrayList<>();
    private int violationCount;
    private int stuckCount;

    private HistoryChecker(List<Starvation.Episode> episodes) {
        this.episodes = episodes;
    }

    /** The violations and stuck waiters found, a few of each spelled out; both empty when correct. */
    public static Verdict check(History history) {
        return check(history, 0);
    }

    /**
     * As {@link #check(History)}, for a history with {@code STALL} entries, judged with the lease
     * {@code leaseNanos} the run's pager gave (see {@link Starvation}).
     */
    public static Verdict check(History history, long leaseNanos) {
        List<Starvation.Episode> episodes = List.of();
        if (history.entries().stream().anyMatch(e -> e.kind() == History.Kind.STALL)) {
            if (leaseNanos <= 0) {
                throw new IllegalArgumentException("a history with stalls is judged with the run's lease");
            }
            episodes = new Starvation(leaseNanos).episodes(history.entries(), Starvation.kernels(history.entries()));
        }
        HistoryChecker c = new HistoryChecker(episodes);
        for (Entry e : history.entries()) {
            c.apply(e);
        }
        c.finish();
        if (c.violationCount > MAX_REPORTED) {
            c.violations.add("... and " + (c.violationCount - MAX_REPORTED) + " more");
        }
        if (c.stuckCount > MAX_REPORTED) {
            c.stuck.add("... and " + (c.stuckCount - MAX_REPORTED) + " more");
        }
        return new Verdict(c.violations, c.stuck);
    }

    static String kernelOf(String thread) {
        int slash = thread.indexOf('/');
        return slash < 0 ? thread : thread.substring(0, slash);
    }

    private void violation(Entry e, String what) {
        violationCount++;
        if (violationCount <= MAX_REPORTED) {
            violations.add(String.format(Locale.ROOT, "#%d at %.3f ms: %s", e.seq(), e.time() / 1e6, what));
        }
    }

    private void stuck(String what) {
        stuckCount++;
        if (stuckCount <= MAX_REPORTED) {
            stuck.add(what);
        }
    }

    private void apply(Entry e) {
        FutexState f = e.futex() < 0 ? null : futexes.computeIfAbsent(e.futex(), i -> new FutexState());
        switch (e.kind()) {
            case ACQUIRE -> acquire(e, f);
            case RELEASE -> {
                if (fenced.remove(e.thread()) == null) {
                    if (!e.thread().equals(f.owner)) {
                        violation(e, e.thread() + " released f" + e.futex() + ", which " + owned(f));
                    }
                    f.owner = null;
                    f.releaseSeq = e.seq();
                }
            }
            case OWNER_GONE -> {
                if (e.thread().equals(f.owner)) {
                    f.owner = null;
                    f.requiredDeath |= e.flag();
                }
                fenced.remove(e.thread());
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
            case CALL -> call(e);
            case ANSWER -> answer(e);
            case KERNEL -> {
                declarations.kernel(e.thread(), e.detail());
                if (e.detail().startsWith("worker gone")) {
                    gone.add(e.thread());
                    staleTids.gone(e.thread());
                    Pending p = pendingCalls.get(e.thread());
                    if (p != null && p.call.startsWith("lock f")) {
                        int id = futexOfCall(p.call);
                        FutexState g = futexes.computeIfAbsent(id, i -> new FutexState());
                        // Only an unlock makes a waiting lock its heir: not while the owner holds on,
                        // nor while a higher waiter of its kernel that was there at the unlock waits.
                        g.waiterDied |= releaseBegun(g, id) && !outranked(e.thread(), id, g);
                    }
                } else if (e.detail().startsWith("worker")) {
                    if (e.detail().startsWith("worker, priority")) {
                        priorities.put(e.thread(), (int) e.value());
                    }
                    // A worker that starts now maps every object now: on a new session with a pager
                    // its kernel lost before.
                    String kernel = kernelOf(e.thread());
                    deadLinks.stream().filter(l -> l.startsWith(kernel + "|"))
                            .forEach(l -> remapped.add(e.thread() + "|" + l.substring(kernel.length() + 1)));
                }
            }
            case STALL -> { }
            case DOOMED -> kernelDies(e, false);
            case LINK_DOOMED -> linkDies(e, false);
            case LINK_DEAD -> linkDies(e, true);
            case DEAD -> {
                kernelDies(e, true);
                if (e.flag()) {
                    killedKernels.add(e.thread());
                }
            }
            case PAGER -> pager(e);
            case DECLARED -> declarations.declared(e, failingKernels.containsKey(e.thread()), futexes, fenced);
            case QUIET -> {
                quietStart = e.time();
                quietNanos = e.value();
                pendingCalls.replaceAll((thread, p) -> new Pending(p.call, p.timeout, p.start,
                        Math.min(p.deadline, e.time() + quietNanos), p.seq));
            }
            case MAY_HAVE_DIED -> {
                f.possibleDeath = true;
                f.grantableToStoppedUntil = Math.max(f.grantableToStoppedUntil, e.value());
            }
            case PRIORITY -> {
                if (!e.flag()) {
                    violation(e, "priority inheritance: " + e.thread() + " owns f" + e.futex() + " and runs at "
                            + "priority " + e.value() + ", but " + e.detail());
                }
            }
        }
    }

    private void call(Entry e) {
        staleTids.called(e.thread());
        long deadline = quietStart < 0 ? Long.MAX_VALUE : e.time() + quietNanos;
        pendingCalls.put(e.thread(), new Pending(e.detail(), e.value(), e.time(), deadline, e.seq()));
        if (e.detail().startsWith("lock f") || e.detail().startsWith("trylock f")) {
            // A trylock asks the pager too: its kernel may be granted the futex and hold it unowned.
            FutexState f = futexes.computeIfAbsent(futexOfCall(e.detail()), i -> new FutexState());
            f.askedBy.add(kernelOf(e.thread()));
            f.askedSinceAcquired.add(kernelOf(e.thread()));
        }
    }

    /** The futex a "lock fN" or "trylock fN" call names. */
    private static int futexOfCall(String call) {
        return Integer.parseInt(call.substring(call.indexOf(" f") + 2));
    }

    private void answer(Entry e) {
        Pending p = pendingCalls.remove(e.thread());
        String kernel = kernelOf(e.thread());
        String pager = p == null ? null : pagerOfCall(p.call);
        String link = pager == null ? null : kernel + "|" + pager;
        if (e.detail().equals("EIO") && !failingKernels.containsKey(kernel)
                && (link == null || !failingLinks.containsKey(link))) {
            violation(e, e.thread() + " got EIO although the harness injected no fault its kernel cannot survive");
        }
        if (p == null) {
            return;
        }
        // A sleep or a compute only passes time: a kernel past its lease may still answer them.
        boolean acts = !p.call.equals("sleep") && !p.call.equals("compute");
        if (e.detail().equals("EBUSY") && !p.call.startsWith("trylock f")) {
            violation(e, e.thread() + "'s " + p.call + " answered EBUSY: only a trylock may be busy");
        } else if ((p.call.startsWith("peek f") || p.call.startsWith("poke f")) && !e.detail().equals("OK")
                && !e.detail().equals("EIO") && !(e.detail().equals("ESRCH") && gone.contains(e.thread()))) {
            violation(e, e.thread() + "'s racy " + p.call + " (an access of a page outside its futex) failed with "
                    + e.detail() + ": only EIO (from a kernel that lost its pager) and ESRCH (once its task ended) "
                    + "are allowed");
        }
        if (p.call.startsWith("lock f") || p.call.startsWith("trylock f")) {
            staleTids.lockAnswered(e, p.call, futexOfCall(p.call), p.start, gone.contains(e.thread()));
        } else if (p.call.startsWith("unlock f")) {
            staleTids.unlockAnswered(e.thread(), futexOfCall(p.call), e.detail().equals("OK"));
        }
        boolean anew = link != null && remapped.contains(e.thread() + "|" + pager);
        if (e.detail().equals("OK") && p.call.startsWith("vm_map ") && link != null && deadLinks.contains(link)) {
            remapped.add(e.thread() + "|" + pager);
        } else if (e.detail().equals("OK") && acts && deadKernels.contains(kernel)) {
            violation(e, e.thread() + "'s " + p.call + " succeeded after the time its kernel must have stopped by");
        } else if (e.detail().equals("OK") && acts && link != null && deadLinks.contains(link) && !anew) {
            violation(e, e.thread() + "'s " + p.call + " succeeded after the time its kernel must have stopped using "
                    + pager + ", on a mapping made before");
        } else if (e.detail().equals("OK") && acts && fenced.containsKey(e.thread())) {
            violation(e, e.thread() + "'s " + p.call + " succeeded after another kernel was given f"
                    + fenced.get(e.thread()) + ", which it owned: a stale owner acted");
        }
        if (e.time() > p.deadline) {
            stuck(String.format(Locale.ROOT, "%s's %s (started at %.3f ms) was answered only at %.3f ms, after the quiet "
                    + "period of %.0f ms", e.thread(), p.call, p.start / 1e6, e.time() / 1e6, quietNanos / 1e6));
        } else if (e.detail().equals("ETIMEDOUT") && quietStart >= 0 && p.start >= quietStart
                && (p.timeout < 0 || p.timeout >= quietNanos)) {
            stuck(String.format(Locale.ROOT, "%s's %s (started at %.3f ms, %s) timed out in the quiet period: nothing held "
                    + "the futex that long", e.thread(), p.call, p.start / 1e6,
                    p.timeout < 0 ? "no timeout" : "timeout " + p.timeout / 1_000_000 + " ms"));
        }
    }

    /** The pager a worker's call is about ("lock f3": the one serving futex 3; "vm_map NAME": that pager), or null. */
    private String pagerOfCall(String call) {
        if (call.startsWith("vm_map ")) {
            return call.substring("vm_map ".length());
        }
        int f = call.lastIndexOf(" f");
        if (f < 0 || servedBy.isEmpty()) {
            return null;
        }
        try {
            return servedBy.get(Integer.parseInt(call.substring(f + 2)));
        } catch (NumberFormatException notAFutex) {
            return null;
        }
    }

    /**
     * As {@link #kernelDies}, for the kernel's ({@code thread}) session with one pager
     * ({@code detail}) only: the futexes that pager serves.
     */
    private void linkDies(Entry e, boolean dead) {
        String kernel = e.thread();
        String pager = e.detail();
        String link = kernel + "|" + pager;
        failingLinks.merge(link, e.value(), Math::max);
        Set<String> died = diedInOutage.get(pager);
        if (died != null) {
            died.add(kernel);
        }
        futexes.forEach((id, f) -> {
            if (pager.equals(servedBy.get(id))) {
                mayHaveLost(f, kernel, dead);
            }
        });
        if (dead) {
            doomedLinks.remove(link);
            deadLinks.add(link);
            remapped.removeIf(r -> r.startsWith(kernel + "/") && r.endsWith("|" + pager));
        } else {
            doomedLinks.add(link);
        }
    }

    /** A kernel doomed ({@code dead} false) or past its end: what it may have held may come with OWNER_DIED. */
    private void kernelDies(Entry e, boolean dead) {
        String kernel = e.thread();
        failingKernels.merge(kernel, e.value(), Math::max);
        diedInOutage.values().forEach(died -> died.add(kernel));
        futexes.values().forEach(f -> mayHaveLost(f, kernel, dead));
        if (dead) {
            deadKernels.add(kernel);
        }
    }

    /**
     * {@code kernel} is doomed ({@code dead} false) or gone for futex {@code f}: if it ever asked
     * for f it may have held it (OWNER_DIED allowed); gone, its owner's ownership ends with a death.
     */
    private static void mayHaveLost(FutexState f, String kernel, boolean dead) {
        if (f.askedBy.contains(kernel)) {
            f.possibleDeath = true;
        }
        if (dead && f.owner != null && kernelOf(f.owner).equals(kernel)) {
            f.owner = null;
            f.requiredDeath = true;
        }
    }

    private void pager(Entry e) {
        String pager = e.thread();
        if (e.detail().equals("serves")) {
            servedBy.put(e.futex(), pager);
        } else if (e.detail().startsWith("crash")) {
            diedInOutage.put(pager, new HashSet<>());
            futexes.forEach((id, f) -> {
                if (serves(pager, id)) {
                    f.atRiskInRestart |= f.requiredDeath || f.possibleDeath;
                }
            });
        } else if (e.detail().equals("grace-end")) {
            Set<String> died = diedInOutage.remove(pager);
            futexes.forEach((id, f) -> {
                if (!serves(pager, id)) {
                    return;
                }
                if (f.atRiskInRestart || (died != null && f.askedBy.stream().anyMatch(died::contains))) {
                    f.lostInRestart = true;
                }
                f.atRiskInRestart = false;
            });
        }
    }

    /** Whether {@code pager} serves futex {@code id} (with one pager, every futex). */
    private boolean serves(String pager, int id) {
        String p = servedBy.get(id);
        return p == null || p.equals(pager);
    }

    private void acquire(Entry e, FutexState f) {
        String kernel = kernelOf(e.thread());
        if (f.owner != null && !kernelOf(f.owner).equals(kernel) && (failingKernels.containsKey(kernelOf(f.owner))
                || doomedLinks.contains(kernelOf(f.owner) + "|" + servedBy.get(e.futex()))
                || Starvation.starved(episodes, kernelOf(f.owner), e.time()))) {
            fenced.put(f.owner, e.futex()); // the doomed kernel's owner is fenced off: it died holding it
            f.owner = null;
            f.requiredDeath = true;
        }
        if (f.owner != null) {
            violation(e, "two owners of f" + e.futex() + ": " + e.thread() + " acquired it while " + f.owner
                    + " owned it");
        }
        boolean onlyAWaiterDied = false;
        if (!f.lostInRestart) {
            boolean ownerMayHaveDied = f.requiredDeath || f.possibleDeath || mayHoldWhileDeclaredDead(e.futex(), f)
                    || (f.grantableToStoppedUntil > 0 && f.lastAcquiredAt <= f.grantableToStoppedUntil)
                    || Starvation.explains(episodes, e.time(), f.lastAcquiredAt);
            onlyAWaiterDied = e.flag() && !ownerMayHaveDied && f.waiterDied;
            if (e.flag() && !ownerMayHaveDied && !f.waiterDied) {
                violation(e, e.thread() + " acquired f" + e.futex() + " with EOWNERDEAD, but no owner died since "
                        + "it was last acquired");
            } else if (!e.flag() && f.requiredDeath) {
                violation(e, e.thread() + " acquired f" + e.futex() + " without EOWNERDEAD, but an owner died "
                        + "holding it");
            }
        }
        if (e.value() < f.lastToken || (e.value() == f.lastToken && f.lastKernel != null
                && !f.lastKernel.equals(kernel))) {
            violation(e, e.thread() + " acquired f" + e.futex() + " with fencing token " + e.value()
                    + ", not above " + f.lastToken + " of " + f.lastKernel);
        }
        staleTids.acquired(e.futex());
        f.lastToken = Math.max(f.lastToken, e.value());
        f.lastKernel = kernel;
        f.lastAcquiredAt = e.time();
        f.owner = e.thread();
        f.acquiredAfterDeath = (e.flag() && !onlyAWaiterDied) || f.lostInRestart;
        f.requiredDeath = false;
        f.possibleDeath = false;
        f.waiterDied = false;
        f.lostInRestart = false;
        f.askedSinceAcquired.clear();
        pendingCalls.forEach((thread, p) -> { // a lock still pending may be granted later
            if (!thread.equals(e.thread()) && (p.call.startsWith("lock f") || p.call.startsWith("trylock f"))
                    && futexOfCall(p.call) == e.futex()) {
                f.askedSinceAcquired.add(kernelOf(thread));
            }
        });
    }

    /**
     * Whether a failing kernel that asked for the futex was declared dead after its last
     * acquisition, or may have been: the pager may have granted it the futex in between, and
     * passes it on with OWNER_DIED when it declares it dead.
     */
    private boolean mayHoldWhileDeclaredDead(int id, FutexState f) {
        String pager = servedBy.get(id);
        for (String k : f.askedBy) {
            Long by = failingKernels.get(k);
            if (by != null && by >= f.lastAcquiredAt) {
                return true;
            }
            Long byPager = pager == null ? null : failingLinks.get(k + "|" + pager);
            if (byPager != null && byPager >= f.lastAcquiredAt) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether futex {@code id}'s last release has begun: nobody owns it (the harness records a
     * release before the unlock call), or its owner's {@code unlock} of it is pending. Only then
     * may a waiting lock be the heir an unlock handed it to, here or, after a grant, on another
     * kernel; while a living owner holds on, a waiter's death cannot leave it dead-owned.
     */
    private boolean releaseBegun(FutexState f, int id) {
        if (f.owner == null) {
            return true;
        }
        Pending ownerCall = pendingCalls.get(f.owner);
        return ownerCall != null && ownerCall.call.equals("unlock f" + id);
    }

    /**
     * Whether waiter {@code thread} of futex {@code id}, dying, cannot be the heir of its last
     * release: another living worker of its kernel, of a strictly higher priority, has waited for
     * it (a lock, pending) since before that release began. That waiter was in its kernel's queue
     * when the futex was handed on there (a call is recorded when its kernel runs it; an unlock
     * and a grant hand the futex to the top waiter of the kernel; a waiter elsewhere that comes
     * first takes it to another kernel, and back here it goes to the top again), and it is still
     * there: the heir, woken or re-elected, is never below it. A waiter that came after the release
     * began may have been passed over by then, so only those before count; a trylock waits for
     * nobody. Unknown priorities (no worker entry) outrank nothing.
     */
    private boolean outranked(String thread, int id, FutexState f) {
        Integer mine = priorities.get(thread);
        if (mine == null) {
            return false;
        }
        long releasedAt = f.owner == null ? f.releaseSeq : pendingCalls.get(f.owner).seq;
        String kernel = kernelOf(thread);
        String lock = "lock f" + id;
        for (Map.Entry<String, Pending> other : pendingCalls.entrySet()) {
            String x = other.getKey();
            Pending p = other.getValue();
            Integer theirs = priorities.get(x);
            if (!x.equals(thread) && p.call.equals(lock) && kernelOf(x).equals(kernel) && !gone.contains(x)
                    && theirs != null && theirs > mine && p.seq < releasedAt) {
                return true;
            }
        }
        return false;
    }

    private void requireOwner(Entry e, FutexState f, String what) {
        if (!e.thread().equals(f.owner)) {
            violation(e, e.thread() + " " + what + " the counter of f" + e.futex() + ", which " + owned(f));
        }
    }

    private static String owned(FutexState f) {
        return f.owner == null ? "nobody owned" : f.owner + " owned";
    }

    /** The run is over: calls left unanswered are stuck unless their kernel was killed; parked ESRCHs judged. */
    private void finish() {
        staleTids.finish(quietStart, thread -> gone.contains(thread) || killedKernels.contains(kernelOf(thread))
                || failingKernels.containsKey(kernelOf(thread)));
        pendingCalls.forEach((thread, p) -> {
            if (!killedKernels.contains(kernelOf(thread))) {
                stuck(String.format(Locale.ROOT, "%s's %s (started at %.3f ms) was never answered (its kernel was not killed)",
                        thread, p.call, p.start / 1e6));
            }
        });
    }
}
