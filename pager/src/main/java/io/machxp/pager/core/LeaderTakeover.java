package io.machxp.pager.core;

/**
 * What a replicated pager's core does when a new leader takes over: every live session's lease
 * runs a full lease from the takeover (Chubby's grace on a master change, Burrows 2006).
 *
 * <h2>Overview</h2>
 * <pre>
 *  leader_started(clock T)   for every session the core keeps (live, or broken and waiting out its
 *                            lease): lastHeard := max(lastHeard, T); its lease check, when due,
 *                            finds it heard and watches on
 *                            unless a takeover extended it already since the kernel was last
 *                            heard (extendedSinceHeard): at most one extension per message heard
 *  sessions declared dead    untouched: their futexes went on already, what they send is fenced
 * </pre>
 * Why: while the group has no leader, no kernel can be heard (every keepalive and resume waits
 * for the next leader), so a lease counted from the last message applied would run out for a
 * silence that is the group's, not the kernel's. The replica applies the entry before any timer
 * the entry's clock makes due ({@code ReplicaCore}), and the leader appends it before any tick of
 * its term and before it takes kernels ({@code LeaderTicker}), so no lease check of the new term
 * runs on the old last-heard times.
 *
 * <p>Liveness: a session is extended at most once between two messages heard from it (a flag
 * cleared when one is applied, kept in snapshots), so leader changes more often than every lease
 * still let a dead kernel be declared dead: at most one lease after the first takeover following
 * its last message, plus its own lease.
 *
 * <p>Safety: the extension only delays declarations of death; the pager gives a futex or page a
 * session holds to another kernel only after that session is declared dead (or gave it back), so
 * it never makes two holders. A kernel whose own lease ran out meanwhile hands out nothing until a
 * resume is answered (the kernel's grace, {@code LeaseGrace}); the resume is a message heard, so
 * its new lease (counted from the resume's send, less a fifth) ends before the pager's (counted
 * from the resume's apply).
 */
final class LeaderTakeover {
    private LeaderTakeover() {}

    /** Every session the core keeps is heard from at {@code now} at the latest; how many moved. */
    static int extendLeases(PagerSessions sessions, long now) {
        int moved = 0;
        for (KernelSession s : sessions.sessions.values()) {
            if (s.lastHeard < now && !s.extendedSinceHeard) {
                s.lastHeard = now;
                s.extendedSinceHeard = true; // once until the kernel is heard again
                moved++;
            }
        }
        return moved;
    }
}
