package io.machxp.kernel.core;

import io.machxp.kernel.futex.LeaseGate;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayDeque;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease of one {@link KernelSession}: the keepalives that extend it and the timer that ends
 * it. Part of the kernel core: core thread only.
 *
 * <h2>Overview</h2>
 * The welcome gives the session's lease L (0: none). The kernel sends kernel_keepalive at once and
 * then every L/8; each pager_keepalive extends the lease to (when the keepalive it answers was
 * sent) + L - L/5. The pager counts from when it heard the kernel, so it cannot declare the kernel
 * dead before the kernel has stopped by a margin of L/5 plus the transit. States: NONE (no lease,
 * or before the welcome) → RUNNING (the end moves on with each answer, a resume taken or a
 * reclaim welcomed) → OVER (the timer, or a call that runs after the end, finds it passed: the
 * session stops using its pager). At a replicated pager, a lease found passed while a resume is
 * on its way goes to GRACE first ({@link LeaseGrace}): the gate closed, the session kept; a
 * resume taken or a keepalive answered that moves the end past now → RUNNING, the grace's end →
 * OVER. The end is mirrored to {@link #gate}, which the fast paths read.
 */
final class SessionLease {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);
    /**
     * Keepalives per lease: eight, not the spec's four, so that the last keepalive answered before
     * a short cut is at most L/8 old, which leaves a resume (xp-spec 4.7) time before the lease
     * runs out (0.8 L from that keepalive's send).
     */
    private static final int KEEPALIVES_PER_LEASE = 8;

    private final KernelSession session;
    private final KernelCore core;
    private final KernelEnv env;
    private final String name;
    /** What the fast path reads of the lease (see {@link LeaseGate}); the session's. */
    final LeaseGate gate;
    /** The session's lease from the welcome, 0: none. */
    private long leaseNanos;
    /** When this kernel stops counting on its lease unless a keepalive is answered first. */
    private long leaseEnds;
    private long keepaliveSequence;
    /** Send times of the keepalives not answered yet, oldest first (answers come in order). */
    private final ArrayDeque<long[]> keepalivesOut = new ArrayDeque<>();
    private Timer leaseTimer;

    SessionLease(KernelSession session, KernelCore core, KernelEnv env, String name) {
        this.session = session;
        this.core = core;
        this.env = env;
        this.name = name;
        this.gate = session.gate;
    }

    /**
     * The longest lease the kernel counts: a year. A welcome's lease_millis is a uint64; a longer
     * one (2^63 ms and more read as a negative long, or one whose nanoseconds overflow a long) is
     * counted as this. Counting a shorter lease than the pager's is always safe: the kernel stops
     * earlier than it must and renews more often (xp-spec 4.3).
     */
    static final long MAX_LEASE_MILLIS = 365L * 24 * 3600 * 1000;

    /** The lease a welcome's uint64 {@code leaseMillis} gives, in nanoseconds (0: none). */
    static long nanosOf(long leaseMillis) {
        if (leaseMillis != 0 && Long.compareUnsigned(leaseMillis, MAX_LEASE_MILLIS) > 0) {
            log.warn("the pager gave a lease of {} ms; the kernel counts it as {} ms (a year)",
                    Long.toUnsignedString(leaseMillis), MAX_LEASE_MILLIS);
            return MAX_LEASE_MILLIS * 1_000_000;
        }
        return leaseMillis * 1_000_000;
    }

    /** The session's lease from the welcome (0: none). */
    long nanos() {
        return leaseNanos;
    }

    /** Whether the lease has ended by the kernel's clock (or there is none to go on with). */
    boolean overNow() {
        return leaseNanos == 0 || env.nanoTime() >= leaseEnds;
    }

    /** How long it still runs, in ms, for log lines. */
    long millisLeft() {
        return (leaseEnds - env.nanoTime()) / 1_000_000;
    }

    /**
     * The pager's lease. It is established by a keepalive sent at once: the kernel holds nothing
     * before the answer, since whatever it asks for after the welcome is answered after it (the
     * streams are FIFO), and a slow welcome (a cold start, a slow connect) cannot cost the lease.
     */
    void start(long lease) {
        leaseNanos = lease;
        if (lease <= 0) {
            return;
        }
        core.returns.retainReturns(session.pager);
        // Counted from the first keepalive, sent now, as if answered: unanswered, it still bounds
        // the wait, and the kernel holds nothing before its answer.
        endsAt(env.nanoTime() + lease - margin());
        keepalive();
        checkIn(lease - margin());
        env.schedule(KernelSession.retryNanos(leaseNanos), session.resume::checkStall);
    }

    /**
     * The pager took a reclaim sent at {@code sentAt} with a lease of {@code lease} (0: none): the
     * welcome answers the reclaim as a pager_keepalive answers a keepalive, so the lease runs from
     * the reclaim's send (the pager counts it from when it took the reclaim, later), whether that
     * ends before the old lease's end (a new pager may give a shorter lease: the old end must not
     * outlast it) or after it. Before, it ended at the earlier of the two: a welcome that came just
     * before the old end left the lease to the keepalive sent after it, and if that answer came after
     * the old end (a round trip on a loaded host), the kernel ended the session the pager had just
     * taken, and what it held went on with OWNER_DIED a lease later, its dirty pages lost.
     */
    void reclaimed(long lease, long sentAt) {
        if (lease > 0) {
            leaseNanos = lease;
            endsAt(sentAt + leaseNanos - margin());
            checkIn(leaseEnds - env.nanoTime());
        }
    }

    /** The lease now ends at {@code nanos}; the fast path's gate follows it. */
    private void endsAt(long nanos) {
        leaseEnds = core.plants.leaseEnds(nanos);
        if (session.grace.held()) {
            if (leaseEnds <= env.nanoTime()) {
                return; // still over: the gate stays closed, the grace goes on
            }
            gate.openUntil(leaseEnds);
            session.grace.leaseRunsAgain();
            return;
        }
        gate.openUntil(leaseEnds);
    }

    /** How much earlier than the pager the kernel stops counting on its lease: a fifth of it. */
    private long margin() {
        return leaseNanos / 5;
    }

    private void keepalive() {
        if (session.pagerLost()) {
            return;
        }
        if (!session.disconnected() && !session.resume.resuming()) {
            sendKeepalive();
        }
        env.schedule(leaseNanos / KEEPALIVES_PER_LEASE, this::keepalive);
    }

    /** Sends the next keepalive; returns its sequence. */
    long sendKeepalive() {
        long sequence = ++keepaliveSequence;
        long number = session.send(KernelToPager.newBuilder().setKernelKeepalive(
                KernelKeepalive.newBuilder().setSequence(sequence).setReceived(session.resume.receivedCount())).build());
        keepalivesOut.add(new long[] {sequence, env.nanoTime(), number});
        core.returns.keepaliveSent(session.pager, sequence);
        return sequence;
    }

    /** The stream broke: the pager that would have answered the keepalives out is gone. */
    void forgetKeepalives() {
        keepalivesOut.clear();
    }

    /** pager_keepalive: the lease runs on from when the keepalive it answers was sent. */
    void keepaliveAnswered(long sequence) {
        while (!keepalivesOut.isEmpty() && keepalivesOut.peek()[0] <= sequence) {
            long[] k = keepalivesOut.poll();
            if (k[0] == sequence) {
                long ends = k[1] + leaseNanos - margin();
                endsAt(Math.max(leaseEnds, ends));
                core.returns.keepaliveAnswered(session.pager, sequence);
                session.resume.acknowledged(k[2]); // the pager had everything sent before it
                return;
            }
        }
        core.violation("pager_keepalive " + sequence + ", which answers no keepalive it sent", 0, 0);
    }

    /** When the oldest keepalive still unanswered on the stream was sent; -1: none, or no stream. */
    long unansweredSince() {
        return session.disconnected() || keepalivesOut.isEmpty() ? -1 : keepalivesOut.peek()[1];
    }

    /** The pager took a resume sent at {@code sentAt}: as a keepalive sent then and answered. */
    void resumeTaken(long sentAt) {
        endsAt(Math.max(leaseEnds, sentAt + leaseNanos - margin()));
        checkIn(leaseEnds - env.nanoTime());
    }

    /** The one pending check of the lease, moved to {@code delayNanos} from now. */
    private void checkIn(long delayNanos) {
        if (leaseTimer != null) {
            leaseTimer.cancel();
        }
        leaseTimer = env.schedule(Math.max(0, delayNanos), this::check);
    }

    /**
     * A task's call checks the lease when it runs, not when it arrived: a kernel paused past its
     * lease (its lease timer not run yet) stops using the pager before it hands anything out.
     */
    void checkNow() {
        if (leaseNanos > 0 && !session.pagerLost() && core.plants.leaseOverWhenRun(env.nanoTime() >= leaseEnds)) {
            check();
        }
    }

    private void check() {
        if (session.pagerLost()) {
            return;
        }
        long now = env.nanoTime();
        if (now < leaseEnds) {
            checkIn(leaseEnds - now);
            return;
        }
        if (session.grace.held()) {
            if (now < session.grace.ends()) {
                checkIn(session.grace.ends() - now);
                return;
            }
        } else if (session.grace.enter(now, leaseEnds, leaseNanos)) {
            checkIn(session.grace.ends() - now);
            return;
        }
        String disconnected = session.reclaim.reason();
        String why = String.format(Locale.ROOT, "its lease%s ran out: the pager answered no keepalive for %d ms (lease %d ms, "
                + "the kernel stops %d ms early)%s", core.sessions.count() == 1 ? "" : " with pager " + session.pager, (now - leaseEnds + leaseNanos - margin()) / 1_000_000,
                leaseNanos / 1_000_000, margin() / 1_000_000,
                disconnected == null ? "" : ", and it could not reconnect (" + disconnected + ")")
                + (session.grace.held() ? ", nor resume within its grace" : "");
        log.warn("kernel {}: {}; it stops handing out what it holds before the pager gives it to others", name, why);
        env.trace("lease-lost", 0, why);
        session.leaseLost(why);
    }
}
