package io.machxp.kernel.ipc.link;

import java.util.HashMap;
import java.util.Map;

/**
 * What a kernel knows of the others from their hellos: each one's incarnation (its process, a
 * random number) and IPC session (0, then one more each time it lost its pager session and
 * rejoined), and what a new hello means.
 * <pre>
 *  first hello of K                      -> ADMIT (REFUSE if K was declared dead before it spoke,
 *                                           the hello recorded all the same: K's probes of that
 *                                           session are answered "dead here", so a live K renews and
 *                                           its later session rejoins; a partition before the first
 *                                           hello heals like one after it)
 *  same incarnation, same session        -> ADMIT while K lives; REFUSE once dead (it stays dead:
 *                                           alive, it comes back as a later session, IpcLinks "renew")
 *  same incarnation, a later session     -> REJOIN: the earlier session is dead, K is back
 *  same incarnation, an earlier session  -> REFUSE (a stale connection)
 *  another incarnation                   -> RESTARTED: a new process took K's id; the old one is
 *                                           dead and the id with it (a restarted kernel takes a new id);
 *                                           IpcLinks asks only once K's own link is gone (while it is
 *                                           open and alive, such a hello is refused and K lives on)
 * </pre>
 * Guarded by the {@link IpcLinks} that owns it.
 */
final class Hellos {
    enum Verdict { ADMIT, REFUSE, REJOIN, RESTARTED }

    private record Seen(long incarnation, int session) {}

    private final Map<Integer, Seen> seen = new HashMap<>();

    Verdict hello(int kernel, long incarnation, int session, boolean dead) {
        Seen s = seen.get(kernel);
        if (s == null) {
            seen.put(kernel, new Seen(incarnation, session));
            return dead ? Verdict.REFUSE : Verdict.ADMIT;
        }
        if (s.incarnation != incarnation) {
            return Verdict.RESTARTED;
        }
        if (session == s.session) {
            return dead ? Verdict.REFUSE : Verdict.ADMIT;
        }
        if (session < s.session) {
            return Verdict.REFUSE;
        }
        seen.put(kernel, new Seen(incarnation, session));
        return Verdict.REJOIN;
    }

    /** Whether this hello is {@code kernel}'s own process back with a later session (a rejoin). */
    boolean rejoins(int kernel, long incarnation, int session) {
        Seen s = seen.get(kernel);
        return s != null && s.incarnation == incarnation && session > s.session;
    }

    /** Whether {@code kernel}'s last hello was of this process and session (a dead one: dead in that session). */
    boolean same(int kernel, long incarnation, int session) {
        Seen s = seen.get(kernel);
        return s != null && s.incarnation == incarnation && s.session == session;
    }

    /** Whether {@code kernel}'s last hello was of another process than {@code incarnation} (it restarted). */
    boolean otherProcess(int kernel, long incarnation) {
        Seen s = seen.get(kernel);
        return s != null && s.incarnation != incarnation;
    }

    /** The latest session of {@code kernel} that said hello (0 if none did). */
    int session(int kernel) {
        Seen s = seen.get(kernel);
        return s == null ? 0 : s.session;
    }

    /** Whether {@code session} is the latest of {@code kernel} that said hello. */
    boolean current(int kernel, int session) {
        Seen s = seen.get(kernel);
        return s == null || s.session == session;
    }
}
