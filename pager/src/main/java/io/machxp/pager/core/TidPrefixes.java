package io.machxp.pager.core;

import io.machxp.proto.task.Errno;
import java.util.TreeMap;

/**
 * The TID prefixes of the pager's kernels, and the check that no two kernels share one: part of
 * the pager core beside {@link PagerSessions}, core thread only.
 *
 * <h2>Overview</h2>
 * A kernel's TIDs are {@code prefix << 20 | thread number}, the prefix being the kernel id its
 * primary pager (pager 0 of its list) gave it (xp-spec 2.9). TIDs go into futex words, which every
 * pager of a cluster serves, so two kernels with one prefix would share TIDs: a word naming one's
 * thread would read as the other's (priority inheritance, OWNER_DIED and unlock checks go to the
 * wrong thread, silently). A kernel's hello to a pager that is not its primary says its prefix
 * ({@code tid_prefix}); a hello without it (to the kernel's primary, or from an older kernel) has
 * the kernel id this pager gives as its prefix. Each session keeps its prefix
 * ({@link KernelSession#tidPrefix}), and a hello is refused when its prefix is
 * <pre>
 *  another welcomed session's (a kernel of another name, live or broken)  ALREADY_EXISTS (EEXIST)
 *  carried by futex words for a dead kernel of another name (a futex it   RESOURCE_EXHAUSTED (EAGAIN):
 *  held went on with owner_died, and no grantee has recorded it yet; or    clears once the death is
 *  it gave one back with owner_died, its own ended thread's, xp-spec 8.7)  recorded in every word (a
 *                                                                          stated prefix's refusal has
 *                                                                          the pager look at that
 *                                                                          prefix's futexes, {@link
 *                                                                          DeathRecorder#recordFor}:
 *                                                                          writers flushed, caching
 *                                                                          grantees asked back)
 * </pre>
 * The dead kernels' prefixes are kept here ({@link #died}) beside the futex records' count of
 * them ({@link PagerFutexes#diedPending}); an entry the records no longer count is stale and
 * dropped when looked at. At a kernel's primary the prefix is the kernel id it gives, so the first
 * rule is the id rule of xp-spec 2.5 seen from its secondaries.
 *
 * <p>After a restart a reclaim may name a futex's stale unlock heir (8.4): its prefix is held as a
 * dead kernel's while the word may name it ({@link #staleHeirReclaimed}), under the name of the
 * kernel this grace period let in with that prefix; with none yet, under {@link #STALE_HEIR},
 * which holds it from fresh hellos (no pager knows whose it is) but lets the first reclaim with
 * that prefix in and is then that kernel's: a reclaim shows the kernel held the prefix at the last
 * pager, which would not have let it in while another kernel's TIDs of it were in words (rv58
 * MED-1: before, the prefix was held under nobody's name and that kernel's reclaim refused,
 * final for the grace period). Both are the pager's state:
 * {@link SnapshotWriter} and {@link SnapshotReader} keep them, so every replica decides alike.
 */
final class TidPrefixes {
    private final CoreContext core;
    private final PagerFutexes futexes;
    /** Prefix -> the name of the dead kernel whose TIDs futex words may carry with it. */
    final TreeMap<Integer, String> died = new TreeMap<>();
    /**
     * The name a prefix is held under when a reclaim named a stale heir of it and no kernel of this
     * grace period has that prefix yet: whose the prefix is, is not known.
     */
    static final String STALE_HEIR = "(a thread a reclaim after the pager's restart named as a futex's stale unlock heir)";

    TidPrefixes(CoreContext core, PagerFutexes futexes) {
        this.core = core;
        this.futexes = futexes;
    }

    /** A refusal: the errno the hello's stream ends with, and the sentence. */
    record Refusal(Errno errno, String message) {}

    /**
     * Whether kernel {@code kernelName} may use {@code prefix} here: null if so, else why not.
     *
     * @param stated whether its hello stated the prefix (this pager is not its primary); else the
     *     prefix is the kernel id this pager gives it
     * @param reclaim whether the hello is a reclaim in the grace period (a prefix held only for a
     *     stale heir another reclaim named, {@link #STALE_HEIR}, is its own)
     */
    Refusal refusal(Iterable<KernelSession> sessions, String kernelName, int prefix, boolean stated,
            boolean reclaim) {
        String whose = stated ? "its primary pager gave it kernel id " + prefix
                : "pager " + core.name + " gives it kernel id " + prefix + " as its primary";
        for (KernelSession other : sessions) {
            if (other.welcomed() && other.tidPrefix == prefix && !kernelName.equals(other.kernelName)) {
                return new Refusal(Errno.EEXIST, "kernel '" + kernelName + "' cannot use TID prefix " + prefix
                        + " at pager " + core.name + " (" + whose + "): kernel '" + other.kernelName + "', with a "
                        + "session at this pager, has the same TID prefix, so their threads would share TIDs in futex "
                        + "words. If the kernels use different primary pagers, give every kernel the same --pager list "
                        + "in the same order; if they share one (it restarted and gave the id again), the other "
                        + "kernel's session here ends with its lease: connect again after it");
            }
        }
        String dead = died.get(prefix);
        if (dead != null && !futexes.diedPending(prefix)) {
            died.remove(prefix); // its owner_died has been recorded in every word since
            dead = null;
        }
        if (STALE_HEIR.equals(dead) && reclaim) {
            return null; // its own prefix, which it held at the last pager (staleHeirReclaimed)
        }
        if (STALE_HEIR.equals(dead)) {
            return new Refusal(Errno.EAGAIN, "kernel '" + kernelName + "' cannot use TID prefix " + prefix
                    + " at pager " + core.name + " yet (" + whose + "): since this pager restarted, a kernel's reclaim "
                    + "named a thread of that prefix as the stale unlock heir of a futex it holds, and that futex's "
                    + "word may still name the thread until the holder rewrites it; no kernel with that prefix has "
                    + "reclaimed here, so the pager cannot tell whose thread it is (a kernel that reclaims with that "
                    + "prefix in the grace period is let in). The pager is asking the holder back to settle the word: "
                    + "connect again later; if two kernels got that prefix, give every kernel the same --pager list "
                    + "in the same order");
        }
        if (dead != null && !dead.equals(kernelName)) {
            return new Refusal(Errno.EAGAIN, "kernel '" + kernelName + "' cannot use TID prefix " + prefix
                    + " at pager " + core.name + " yet (" + whose + "): kernel '" + dead + "', declared dead by this "
                    + "pager, gone after giving back a futex its ended thread owned, or whose thread a futex carries as a "
                    + "stale unlock heir, had the same TID prefix, and futex words here may still carry its TIDs until its "
                    + "death is recorded in each (by a next owner of each futex it held, or by this pager in its copy "
                    + "once no kernel holds the page writable or its copy no longer names the prefix; a refusal like "
                    + "this one sets the pager to look, taking such pages back from their writers and asking kernels "
                    + "that cache such a futex for it back). Give every kernel the same --pager list in the same "
                    + "order; with one primary, connect again later (or under another name)");
        }
        return null;
    }

    /**
     * The prefixes kernel {@code kernelName} could not use here as its kernel id: those of welcomed
     * sessions of other names, and those futex words may still carry for dead kernels, its own
     * name's too (a kernel back under its name numbers its threads from 1 again, so its dead
     * threads' TIDs would read as its new threads': late12 LOW-4; {@link #refusal} lets a kernel
     * that states its own dead prefix have it, as it cannot choose another). A pager picking the
     * kernel id of a new name whose hello states no prefix (the id is its prefix), or of a name
     * back whose resting id is one of these, passes over these ids (xp-spec 2.5): a kernel that
     * states a prefix this pager has not given yet then costs the pager that one id, and never
     * locks out the new kernels whose primary it is (outside probe xpprobe P2).
     */
    java.util.Set<Integer> unusable(Iterable<KernelSession> sessions, String kernelName) {
        java.util.Set<Integer> out = new java.util.HashSet<>();
        for (KernelSession other : sessions) {
            if (other.welcomed() && other.tidPrefix != 0 && !kernelName.equals(other.kernelName)) {
                out.add(other.tidPrefix);
            }
        }
        died.forEach((prefix, dead) -> {
            if (futexes.diedPending(prefix)) {
                out.add(prefix);
            }
        });
        return out;
    }

    /**
     * Kernel session {@code s} was declared dead holding futexes, or gave one back with owner_died:
     * words may carry its TIDs.
     */
    void died(KernelSession s) {
        if (s.tidPrefix != 0 && s.kernelName != null) {
            died.put(s.tidPrefix, s.kernelName);
        }
    }

    /**
     * After a restart: a word of a futex whose holder did not reclaim it names a TID of this
     * prefix, of the kernel {@code kernelName} (or one the journal does not name, {@link
     * RestartDeaths#UNKNOWN}) that the last pager knew dead or that died in the crash.
     */
    void diedBeforeRestart(int prefix, String kernelName) {
        died.putIfAbsent(prefix, kernelName);
    }

    /**
     * A reclaim after a restart named a stale heir of {@code prefix} ({@link StaleHeirs#reclaimed}):
     * the prefix is held as a dead kernel's while the word may name that thread, so that no other
     * kernel gets it meanwhile (staleheir review LOW-3), under the name of the welcomed kernel that
     * has it (as a release naming its own heir holds it under its name: it may come back stating
     * it), else under {@link #STALE_HEIR} until a reclaim with that prefix comes ({@link
     * #reclaimedWith}).
     */
    void staleHeirReclaimed(Iterable<KernelSession> sessions, int prefix) {
        for (KernelSession s : sessions) {
            if (s.welcomed() && s.tidPrefix == prefix && s.kernelName != null) {
                if (died.get(prefix) == null || STALE_HEIR.equals(died.get(prefix))) {
                    died.put(prefix, s.kernelName);
                }
                return;
            }
        }
        died.putIfAbsent(prefix, STALE_HEIR);
    }

    /** Kernel {@code kernelName} was welcomed back by a reclaim with {@code prefix}: a stale heir's hold on it is its. */
    void reclaimedWith(int prefix, String kernelName) {
        if (STALE_HEIR.equals(died.get(prefix))) {
            died.put(prefix, kernelName);
        }
    }
}
