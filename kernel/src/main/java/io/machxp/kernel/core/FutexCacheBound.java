package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.ABSENT;
import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.isLive;
import static io.machxp.kernel.futex.FutexWord.isNoPage;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The kernel's bound on the futexes it caches (Part III: kept after the last local unlock "until
 * asked", xp-spec 8.2). Part of the kernel core's futexes, core thread only.
 *
 * <h2>Overview</h2>
 * Every futex granted to this kernel is remembered here until it leaves (futex_released). When a
 * grant makes them more than the policy's bound
 * ({@link io.machxp.kernel.policy.FutexPolicy#maxCachedFutexes}), idle ones are given back until
 * a quarter of the bound is free again: idle means no thread here owns it, none waits for it, and
 * nothing is under way for it (a grant waiting for its page, a relinquish pending, a request out,
 * a trylock waiting for its page, a dead owner's heir). A futex in use is never given back here;
 * the pager's own bounds (a session's, and all kernels' together, where it asks idle futexes back
 * with relinquish_futex(try)) are far above the default bound, so an application with many
 * mutexes, each locked now and then, never meets them.
 *
 * <h2>Two ordered sets, so a trim costs O(1) amortized per grant</h2>
 * A futex is in exactly one of them while cached:
 * <ul>
 * <li>{@link #unseen}: granted since a trim last looked at it, oldest grant first. A trim looks
 *     at these first, oldest first, and each at most once before it leaves the set: given back
 *     (idle), dropped (it left without our futex_released: its word is ABSENT) or parked (in use);
 * <li>{@link #inUse}: found in use by a trim, the longest unlooked-at first. An owner's unlock on
 *     the fast path tells the core nothing, so a parked futex may be idle by now: each trim looks
 *     again at no more than {@link #REVISITS_PER_TRIM} of them (idle: given back; still in use: to
 *     the end of the set).
 * </ul>
 * Before (review rv58 MED-3), one set was walked from the oldest grant at every grant past the
 * bound; with more than the bound owned (one client's threads holding 65,536 futexes) the walk
 * found nothing idle and crossed the whole cache at every grant, on the core thread (25 times
 * slower locks). Now a grant costs a look at itself and a few parked ones; once parked futexes
 * become idle the cache shrinks by up to REVISITS_PER_TRIM - 1 per grant.
 * <pre>
 *  futex_granted                 unseen, as the newest (out of inUse if there)
 *  futex_released (any reason)   forgotten
 *  more than the bound held      unseen, oldest first: idle given back, ABSENT dropped, owned parked;
 *                                then up to REVISITS_PER_TRIM parked: idle given back, owned to the end
 *                                - until 3/4 of the bound is reached
 * </pre>
 */
final class FutexCacheBound {
    /** Parked futexes a trim looks at again (after the unseen ones), at most. */
    static final int REVISITS_PER_TRIM = 4;

    private final FutexToPager toPager;
    private final int max;
    /** Granted since a trim last looked at them, oldest grant first. */
    private final LinkedHashSet<FutexEntry> unseen = new LinkedHashSet<>();
    /** Found in use by a trim, longest unlooked-at first. */
    private final LinkedHashSet<FutexEntry> inUse = new LinkedHashSet<>();
    /** Futexes trims looked at, all together (tests count work with it). */
    private long examined;

    FutexCacheBound(FutexToPager toPager, int max) {
        this.toPager = toPager;
        this.max = max;
    }

    /** A grant: remembered as unseen; past the bound, idle futexes are given back. */
    void granted(FutexEntry e) {
        inUse.remove(e);
        unseen.remove(e);
        unseen.add(e);
        if (size() > max) {
            trim(e);
        }
    }

    /** The futex left for the pager. */
    void released(FutexEntry e) {
        if (!unseen.remove(e)) {
            inUse.remove(e);
        }
    }

    /** How many futexes the kernel holds from the pager, as far as this set knows (tests). */
    int size() {
        return unseen.size() + inUse.size();
    }

    /** How many futexes trims have looked at so far (tests: work per grant). */
    long examined() {
        return examined;
    }

    private void trim(FutexEntry keep) {
        int target = max - max / 4;
        List<FutexEntry> idle = new ArrayList<>();
        for (Iterator<FutexEntry> it = unseen.iterator(); it.hasNext() && size() - idle.size() > target; ) {
            FutexEntry e = it.next();
            if (e == keep) {
                continue; // just granted: for the thread that asked (the newest, so the walk's last)
            }
            examined++;
            long s = e.state();
            if (isAbsent(s)) {
                it.remove();
                toPager.shares.mayHaveLeft(e);
            } else if (idle(e, s)) {
                idle.add(e); // stays unseen until its futex_released (or, if the fast path takes it first, parked next time)
            } else {
                it.remove();
                inUse.add(e);
            }
        }
        for (int n = Math.min(REVISITS_PER_TRIM, inUse.size()); n > 0 && size() - idle.size() > target; n--) {
            FutexEntry e = inUse.iterator().next();
            inUse.remove(e);
            examined++;
            long s = e.state();
            if (isAbsent(s)) {
                toPager.shares.mayHaveLeft(e);
                continue;
            }
            inUse.add(e); // to the end; an idle one leaves with its futex_released below
            if (idle(e, s)) {
                idle.add(e);
            }
        }
        for (FutexEntry e : idle) {
            giveBack(e);
        }
    }

    private static boolean idle(FutexEntry e, long s) {
        return owner(s) == 0 && e.waiters.isEmpty() && !e.grantAwaitsPage && !e.relinquishPending
                && e.request == FutexEntry.Request.NONE && !e.tryAwaitsPage && e.heir == null;
    }

    /**
     * Gives {@code e} back if it is idle (FutexShares' look before a refusal), as a trim would;
     * whether it left.
     */
    boolean giveBackIfIdle(FutexEntry e) {
        examined++;
        giveBack(e);
        return isAbsent(e.state());
    }

    /** Gives an idle futex back, as a relinquish would (the fast path may have taken it meanwhile: then kept). */
    private void giveBack(FutexEntry e) {
        long s = e.state();
        if (!idle(e, s)) {
            return;
        }
        if (isLive(s)) {
            toPager.giveBack(e, s); // false: a thread here took it on the fast path; it stays
        } else if (isNoPage(s)) {
            e.setState(ABSENT); // its word is already where the page is
            toPager.sendReleased(e);
        }
    }
}
