package io.machxp.kernel.core;

import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The grace a kernel gives its session with a replicated pager when its lease runs out while it
 * resumes the session at the pager's next leader (Chubby's grace on a master change, Burrows
 * 2006; docs/replicated-pager.md, "Leases across a failover"). Part of the kernel core: core
 * thread only; one per {@link KernelSession}.
 *
 * <h2>Overview</h2>
 * <pre>
 *  NONE ──lease runs out while a resume is on its way to a replicated pager──▶ HELD (for the
 *    ▲        grace: one lease by default, {@link KernelEnv#leaseGraceNanos}; not if the kernel
 *    │        finds it out more than L/2 late: it was paused, and ends the session as always)
 *    │                                  │
 *    ├──the lease runs again────────────┤  a resume taken whose send is less than 0.8 L ago, or a
 *    │   (nothing lost)                 │  keepalive answered: parked calls run again, deferred
 *    │                                  │  pager messages are handled in order
 *    │                                  ├──the pager refuses the resume (it declared the kernel
 *    │                                  │  dead, or never knew it): the session ends, as today
 *    │                                  └──the grace ends unanswered: the session ends, as today
 * </pre>
 * While HELD the kernel hands out nothing it holds: the fast path's gate is closed; every task
 * call that checks the lease (vm_lock/unlock/trylock, consistent, read, write, msync and the
 * atomics) on an object of this session is parked ({@link GraceCalls}; another pager's calls go
 * on) and runs again when the grace ends (then with a lease, or failing through the session if
 * the grace ends it); a thread that dies owning a futex leaves it in its word
 * until then (no local handoff), and the woken heir of a dead owner's futex takes it only then
 * (FutexHeirs.heirRuns; an heir that leaves in the grace wakes the next waiter, who waits the
 * same way); a futex forwarded by another kernel is dropped (the pager's grant comes anyway); pager messages other than the resume's welcome and keepalive answers are counted
 * as received (the resume's count) but handled only once the lease runs again
 * ({@link #defer}); a grant answered late by the resumed session is thus never handed out on an
 * expired lease. What it sends (releases, requests) is kept for the resume, as while resuming.
 *
 * <p>Safety. The pager gives what a session holds to another kernel only after it has declared
 * the session dead, and then refuses its resume. The kernel in grace uses nothing it caches; it
 * uses it again only once the pager answered it after the grace began: a resume taken (the pager
 * applied it after its send: its lease runs from the apply, the kernel's from the send, less a
 * fifth) or a keepalive answered, each of which moves the lease's end past now. So no futex has
 * two holders, whatever the grace's length, and whether the new leader extended the session
 * (core/LeaderTakeover) or not; the extension is what makes the resume likely to be taken.
 */
final class LeaseGrace {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);

    private final KernelSession session;
    private final KernelCore core;
    private final KernelEnv env;
    private final String name;
    /** When the grace ends, by the kernel's clock; 0: no grace held. */
    private long ends;
    /** Pager messages received in grace, handled in order once the lease runs again. */
    private final ArrayDeque<PagerToKernel> deferred = new ArrayDeque<>();

    LeaseGrace(KernelSession session, KernelCore core, KernelEnv env, String name) {
        this.session = session;
        this.core = core;
        this.env = env;
        this.name = name;
    }

    /** Whether the session is in its grace: its lease ran out and the kernel holds still. */
    boolean held() {
        return ends != 0;
    }

    /** When the grace ends (meaningful while held). */
    long ends() {
        return ends;
    }

    /**
     * The lease, which ended at {@code leaseEnded}, is found out at {@code now}: whether the
     * session enters its grace (a replicated pager, a resume on its way, a grace configured, and
     * the kernel was running when its lease ended: found out at most half a lease late, not after
     * a pause, where the session ends as at any pager); if so the kernel holds still from now on.
     */
    boolean enter(long now, long leaseEnded, long leaseNanos) {
        long grace = env.leaseGraceNanos(session.pager, leaseNanos);
        if (held() || grace <= 0 || !env.replicated(session.pager) || !session.resume.resuming()
                || now - leaseEnded > leaseNanos / 2) {
            return false;
        }
        ends = now + grace;
        session.gate.close();
        log.warn("kernel {}: its lease ran out while it resumes its session at {}, which is replicated: it holds "
                + "still for a grace of {} ms (hands out nothing it holds, its tasks' calls wait) and goes on "
                + "resuming at the next leader", name, session.which(), grace / 1_000_000);
        env.trace("lease-grace", 0, grace / 1_000_000 + " ms");
        return true;
    }

    /**
     * The lease runs again (a resume taken, a keepalive answered): the grace ends with nothing
     * lost. Parked calls run again; the deferred messages are handled by {@link XpDispatch}.
     */
    void leaseRunsAgain() {
        if (!held()) {
            return;
        }
        long late = env.nanoTime() - (ends - env.leaseGraceNanos(session.pager, session.leaseNanos()));
        ends = 0;
        log.info("kernel {}: resumed its session at {} {} ms into its grace: nothing lost", name, session.which(),
                late / 1_000_000);
        env.trace("lease-grace-over", 0, "resumed");
        core.sessions.parked.release(session); // what it parked runs again
    }

    /**
     * The session ended (refused, the grace ran out, shut down): nothing deferred applies any more,
     * and the calls parked in the grace fail with {@code error}, the session's.
     */
    void over(KernelError error) {
        boolean was = held();
        ends = 0;
        deferred.clear();
        if (was) {
            core.sessions.parked.sessionOver(session); // its parked calls run again and fail with it
        }
    }

    /** Whether pager message {@code m} waits for the lease: in grace, all but welcomes and keepalive answers. */
    boolean defers(PagerToKernel m) {
        return held() && m.getRoutineCase() != PagerToKernel.RoutineCase.PAGER_WELCOME
                && m.getRoutineCase() != PagerToKernel.RoutineCase.PAGER_KEEPALIVE;
    }

    void defer(PagerToKernel m) {
        deferred.add(m);
    }

    /** The next deferred message once the grace is over; null if none (or still held). */
    PagerToKernel nextDeferred() {
        return held() ? null : deferred.poll();
    }
}
