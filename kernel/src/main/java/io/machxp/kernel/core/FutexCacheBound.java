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
 * Every futex granted to this kernel is remembered here, oldest grant first, until it leaves
 * (futex_released). When a grant makes them more than the policy's bound
 * ({@link io.machxp.kernel.policy.FutexPolicy#maxCachedFutexes}), idle ones, oldest first, are
 * given back until a quarter of the bound is free again: idle means no thread here owns it, none
 * waits for it, and nothing is under way for it (a grant waiting for its page, a relinquish
 * pending, a request out, a trylock waiting for its page, a dead owner's heir). A futex in use is
 * never given back here; the pager's own bounds (a session's, and all kernels' together, where it
 * asks idle futexes back with relinquish_futex(try)) are far above the default bound, so an
 * application with many mutexes, each locked now and then, never meets them.
 * <pre>
 *  futex_granted                 remembered (as the newest)
 *  futex_released (any reason)   forgotten
 *  more than the bound held      idle ones given back, oldest first, down to 3/4 of the bound
 * </pre>
 * A futex that left without a futex_released of ours (a session's end) is dropped from the set
 * when a trim meets it (its word is ABSENT).
 */
final class FutexCacheBound {
    private final FutexToPager toPager;
    private final int max;
    private final LinkedHashSet<FutexEntry> held = new LinkedHashSet<>();

    FutexCacheBound(FutexToPager toPager, int max) {
        this.toPager = toPager;
        this.max = max;
    }

    /** A grant: remembered; past the bound, idle futexes are given back. */
    void granted(FutexEntry e) {
        held.remove(e);
        held.add(e);
        if (held.size() > max) {
            trim(e);
        }
    }

    /** The futex left for the pager. */
    void released(FutexEntry e) {
        held.remove(e);
    }

    /** How many futexes the kernel holds from the pager, as far as this set knows (tests). */
    int size() {
        return held.size();
    }

    private void trim(FutexEntry keep) {
        int target = max - max / 4;
        List<FutexEntry> idle = new ArrayList<>();
        int size = held.size();
        for (Iterator<FutexEntry> it = held.iterator(); it.hasNext() && size - idle.size() > target; ) {
            FutexEntry e = it.next();
            long s = e.state();
            if (isAbsent(s)) {
                it.remove();
                size--;
            } else if (e != keep && idle(e, s)) {
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
