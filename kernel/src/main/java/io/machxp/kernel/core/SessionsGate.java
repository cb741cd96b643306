package io.machxp.kernel.core;

import io.machxp.kernel.futex.LeaseGate;
import java.util.Arrays;

/**
 * The kernel's one lease gate over its sessions' leases: what the futex fast path reads
 * ({@link LeaseGate}, any thread). Part of {@link KernelSessions}: core thread only.
 *
 * <h2>Overview</h2>
 * With one pager the kernel's gate is that session's own. With several it is open until the
 * earliest end among the sessions still in use, each session's gate mirrored here:
 * <pre>
 *  a session's gate moves (renewal, grace, close) ──it is its pager's session in use──▶ its end
 *      noted; the gate open until the earliest end noted (closed once no session is in use)
 *  a session stopped and forgot its futexes ({@link #leaveOut}) ──▶ its end left out
 *      (a pager lost no longer holds the fast path: its futexes do not pass it any more)
 *  its pager's new session welcomed ({@link #rejoined}) ──▶ counted again at once, at its
 *      gate's last end (none: without a lease, below)
 *  a session in use without a lease, others with one ──▶ open until the earliest end here, but
 *      task processes are told "no lease" (they take nothing on the fast path: LeaseGate)
 * </pre>
 */
final class SessionsGate {
    /** The sessions in use, by pager: {@link KernelSessions}' own table (a replaced session shows here). */
    private final KernelSession[] sessions;
    private final LeaseGate gate;
    /** Per session: where its gate stands now; {@link Long#MAX_VALUE} once it is left out. */
    private final long[] ends;
    /** Per session: where its gate stands now, left out or not (what it counts at once when it rejoins). */
    private final long[] noted;
    private final boolean[] stopped;

    SessionsGate(KernelSession[] sessions) {
        this.sessions = sessions;
        this.ends = new long[sessions.length];
        this.noted = new long[sessions.length];
        this.stopped = new boolean[sessions.length];
        if (sessions.length == 1) {
            gate = sessions[0].gate;
        } else {
            gate = new LeaseGate();
            Arrays.fill(ends, Long.MAX_VALUE);
            for (KernelSession s : sessions) {
                mirror(s);
            }
        }
    }

    /** What the fast path reads of the leases; any thread. */
    LeaseGate gate() {
        return gate;
    }

    /** The kernel's gate follows session {@code s}'s while it is its pager's session in use. */
    void mirror(KernelSession s) {
        s.gate.mirrorTo(end -> {
            if (sessions[s.pager] == s) {
                noted[s.pager] = end;
                ends[s.pager] = stopped[s.pager] ? Long.MAX_VALUE : end;
                recompute();
            }
        });
    }

    private void recompute() {
        long min = Long.MAX_VALUE;
        boolean any = false;
        boolean withoutLease = false; // a pager in use gave no lease (or none yet)
        for (int p = 0; p < ends.length; p++) {
            any |= !stopped[p];
            withoutLease |= !stopped[p] && ends[p] == Long.MAX_VALUE;
            min = Math.min(min, ends[p]);
        }
        if (!any) {
            gate.close();
        } else if (withoutLease && min != Long.MAX_VALUE) {
            gate.openUntilPartlyWithoutLease(min); // task processes: as without a lease (LeaseGate)
        } else {
            gate.openUntil(min);
        }
    }

    /** The session with {@code pager} stopped using it and forgot what it held there: left out. */
    void leaveOut(int pager) {
        stopped[pager] = true;
        ends[pager] = Long.MAX_VALUE;
        recompute();
    }

    /**
     * A new session of {@code s.pager} was welcomed: the gate counts it again, at once. A session
     * without a lease never moves its gate, so without the recompute here a pager that rejoined
     * without one was counted only at another pager's next renewal: until then task processes were
     * told that pager's lease end and could take the rejoined pager's futexes on the fast path
     * (review shmfixb C). One with a lease is counted at its end so far (its gate's last move).
     */
    void rejoined(KernelSession s) {
        if (sessions.length > 1 && sessions[s.pager] == s) { // (one pager: its own gate; it never rejoins)
            stopped[s.pager] = false;
            ends[s.pager] = noted[s.pager];
            recompute();
        }
    }
}
