package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.Reclaim;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A reclaim taken again (xp-spec 9.4, "Again"): part of the pager core beside {@link PagerGrace},
 * core thread only.
 *
 * <h2>Overview</h2>
 * A kernel whose reclaim the pager took may lose the stream before it reads the welcome: it has
 * no session token to resume with, and it reclaims again on a new stream. In the grace period
 * that welcomed the first reclaim, the name's session decides ({@link #nameTaken}):
 * <pre>
 *  no session of the name                 -> an ordinary reclaim
 *  welcomed by a reclaim in this grace:
 *    either reclaim without boot_nonce     -> EEXIST, as before (no order between the attempts)
 *      or attempt
 *    another boot_nonce                    -> EINVAL (another boot of the kernel)
 *    an attempt not above the one taken    -> ESTALE: an earlier attempt, late; the session stays
 *    broken, same id and TID prefix        -> taken again ({@link #detach}, then judged as any
 *                                            reclaim, then {@link #settle}): the new reclaim is the
 *                                            kernel's complete account at its send
 *    live                                  -> EAGAIN: the pager has not noticed that stream's end
 *                                            yet; the kernel tries again while its lease runs
 *  any other (a hello's session, broken    -> EEXIST, as before: another kernel has the name
 *    or live; a reclaim's after grace)
 *  the name assembled in parts elsewhere   -> EAGAIN for the same boot_nonce, else EEXIST
 * </pre>
 * The order matters: a late earlier attempt names an older account (a page at a version below
 * what the kernel has written since); taken, it would make the pager count less as the kernel's
 * than the kernel holds, and after grace give a page it still writes to another writer.
 * Taken again, the old session is retired without a death: its pages are forgotten (the named
 * ones are judged again at once, against the other kernels only), its futexes detached; after
 * the judgement a futex the new reclaim names but that was refused stays the session's (it goes
 * on with owner_died when the lease ends, as after any refused futex), one it does not name is
 * released, as a release the crash overtook (9.6). Safe because nothing is granted in grace: no
 * other kernel can have got what the old session held, and the data it returned stays taken
 * (versions order it against the new account). Pager-to-kernel messages of the old session that
 * the kernel may not have read (a refused page's drop, a flush) need no repeat: the new account is
 * judged afresh, and an operation waiting for the old session's answer stops waiting for it.
 */
final class ReclaimRetry {
    /** Why a reclaim under a name cannot be taken: its errno and sentence. */
    record Taken(Errno errno, String why) {}

    /** The futexes of a retired session, not held by anyone until {@link #settle}. */
    record Detached(List<FutexKey> futexes) {}

    private final CoreContext core;
    private final PageCoherence pages;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;

    ReclaimRetry(CoreContext core, PageCoherence pages, PagerFutexes futexes, PagerSessions sessions) {
        this.core = core;
        this.pages = pages;
        this.futexes = futexes;
        this.sessions = sessions;
    }

    /**
     * The session a reclaim {@code r} of {@code kernelName} replaces (broken, reclaimed in this
     * grace by an earlier attempt of the same kernel boot), or null.
     */
    KernelSession replaced(String kernelName, Reclaim r) {
        KernelSession old = sessions.byName(kernelName);
        return old != null && nameTaken(kernelName, r) == null ? old : null;
    }

    /**
     * Why reclaim {@code r} of {@code kernelName} in grace cannot be taken for the name's session,
     * or null (no session of the name, or one {@code r} replaces). Only the same kernel boot
     * ({@code boot_nonce}) with a newer {@code attempt} may replace a reclaimed session: a late
     * earlier attempt would put an older account in place of a newer one, and the pager would count
     * less as the kernel's than it holds (a page it wrote since, given to another writer).
     */
    Taken nameTaken(String kernelName, Reclaim r) {
        KernelSession old = sessions.byName(kernelName);
        if (old == null) {
            return null;
        }
        // Called in grace only (PagerGrace), where every welcomed session was welcomed by a reclaim
        // of this grace period (hellos wait for its end; a resume only moves a session): one it
        // may replace once broken.
        if (!core.plants.reclaimRetried(old.welcomed())) {
            return new Taken(Errno.EEXIST, "a kernel of that name has connected already; restart the kernel");
        }
        if (r.getBootNonce() == 0 || r.getAttempt() == 0 || old.reclaimBootNonce == 0) {
            return new Taken(Errno.EEXIST, "a kernel of that name has reclaimed already, and a reclaim again needs the "
                    + "boot_nonce and attempt of both reclaims (xp-spec 9.4, Again); restart the kernel");
        }
        if (r.getBootNonce() != old.reclaimBootNonce) {
            return new Taken(Errno.EINVAL, "its boot_nonce is not the one of the reclaim taken under that name in "
                    + "this grace period (another boot of the kernel has nothing to reclaim, xp-spec 9.4); restart "
                    + "the kernel");
        }
        if (!core.plants.reclaimAttemptNewer(
                Long.compareUnsigned(r.getAttempt(), old.reclaimAttempt) > 0)) { // uint64s, 2^63 and up included
            return new Taken(Errno.ESTALE, "its attempt " + Long.toUnsignedString(r.getAttempt()) + " is not newer "
                    + "than attempt " + Long.toUnsignedString(old.reclaimAttempt) + ", which the pager took in this "
                    + "grace period: an earlier attempt, which the kernel abandoned (xp-spec 9.4, Again)");
        }
        if (!old.broken) {
            return new Taken(Errno.EAGAIN, "its earlier reclaim's stream is still open at the pager (it has not "
                    + "noticed that stream's end yet); the kernel reclaims again while its lease runs (xp-spec 9.4)");
        }
        return null;
    }

    /**
     * Why a reclaim of {@code kernelName} cannot be taken while another stream ({@code other}) is
     * assembling a reclaim in parts under that name: EAGAIN if it is the same kernel boot (its
     * earlier attempt's stream, which the pager has not seen end: the kernel tries again), else
     * EEXIST.
     */
    static Taken assemblingElsewhere(Reclaim other, Reclaim r) {
        boolean sameBoot = r.getBootNonce() != 0 && r.getBootNonce() == other.getBootNonce();
        return sameBoot ? new Taken(Errno.EAGAIN, "its earlier attempt's reclaim in parts is still being "
                + "assembled on another stream, which the pager has not seen end yet; the kernel reclaims again while "
                + "its lease runs (xp-spec 9.4, Again)")
                : new Taken(Errno.EEXIST, "another stream is sending a reclaim in parts under that name; restart the "
                        + "kernel");
    }

    /** Why a reclaim cannot replace {@code old}: another kernel id or TID prefix; null if it may. */
    String mismatch(KernelSession old, int id, int prefix) {
        return old.kernelId != id ? "it names kernel id " + id + ", but its reclaim taken in this grace period named "
                + old.kernelId
                : old.tidPrefix != prefix ? "its TID prefix " + prefix + " is not the one of its reclaim taken in this "
                        + "grace period (" + old.tidPrefix + ")"
                : null;
    }

    /**
     * The old session goes without a death: its pages are forgotten, its futexes nobody's until
     * {@link #settle}, its stream (ended already) fenced; its id stays its name's.
     */
    Detached detach(KernelSession old) {
        pages.forget(old, null);
        List<FutexKey> held = new ArrayList<>(old.held);
        for (FutexKey key : held) {
            futexes.records().get(key).holder = null;
            core.holders.freed(key);
        }
        old.held.clear();
        sessions.retire(old);
        CoreContext.log.info("pager {}: kernel {} reclaims again (its first reclaim's stream broke, perhaps before "
                + "it read the welcome): the new reclaim replaces that session ({} futexes, its pages judged again)",
                core.name, old.kernelName, held.size());
        return new Detached(held);
    }

    /**
     * After the new reclaim was judged on {@code s}: each futex of the old session that nobody
     * holds now is {@code s}'s if the reclaim named it ({@code named}: refused, it goes with the
     * session), else released (the kernel had given it back).
     */
    void settle(Detached d, KernelSession s, Set<FutexKey> named) {
        for (FutexKey key : d.futexes()) {
            FutexRecord f = futexes.records().get(key);
            if (f.holder != null) {
                if (f.holder == s) {
                    core.stats.futexesReclaimed.decrement(); // counted at the first reclaim already
                }
                continue; // taken again
            }
            f.holder = s;
            s.held.add(key);
            core.answers.tryOwed(f); // a try asked of the old session is owed by the new one
            core.holders.held(f);
            if (!named.contains(key)) {
                futexes.markIfWriting(s, key); // released keeping its page, as a release's (review deaths3 MED-1)
                futexes.grants.release(f, null, 0, 0, -1);
            }
        }
    }
}
