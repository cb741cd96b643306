package io.machxp.pager.core;

import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Resume;
import java.util.List;

/**
 * Session resume: a kernel whose stream stalled or broke goes on with the same session on a new
 * stream (xp.proto, Resume). Part of the pager core: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  kernel_hello(resumable), lease     -> after the welcome, the session keeps a {@link ReplayLog}
 *                                        under a token the welcome gives
 *  any message from the kernel         -> counted (the hello not)
 *  kernel_keepalive(received = n)      -> what the pager kept up to n is dropped
 *  kernel_hello(resume: id, token, n)  on a new stream, for an open session of that name with that
 *    session open, not broken,           id and token: the session moves to the new stream at once
 *    token and id match, n replayable    (the old stream is ended and fenced: what still arrives
 *                                        on it is dropped and counted); pager_welcome(resumed,
 *                                        received) on the new stream, then every message after n
 *                                        again, in order
 *    otherwise, with a reclaim         -> the reclaim's (a pager that restarted knows no session)
 *    otherwise                         -> the new stream ends with ESTALE and why
 * </pre>
 * Everything the session holds stays as it was: futexes, pages, queued requests, its place in
 * every queue, its lease (the resume is a message heard). Nothing is lost in between: the
 * messages the old stream did not deliver are sent again on the new one, on both sides.
 * A broken session (its stream ended at the pager: it left every queue) is not resumed.
 */
final class PagerResume {
    private final CoreContext core;
    private final PagerSessions sessions;

    PagerResume(CoreContext core, PagerSessions sessions) {
        this.core = core;
        this.sessions = sessions;
    }

    /** A message of a welcomed session arrived: counted; a keepalive's count drops what the kernel has. */
    void received(KernelSession s, KernelToPager m) {
        if (m.getRoutineCase() == KernelToPager.RoutineCase.KERNEL_HELLO
                || m.getRoutineCase() == KernelToPager.RoutineCase.MEMORY_OBJECT_RECLAIM_CONTINUE) {
            return; // a reclaim's further part is part of its hello: not counted either
        }
        s.received++; // counted before the welcome too: a hello held in grace is followed by more
        if (s.replay != null && m.getRoutineCase() == KernelToPager.RoutineCase.KERNEL_KEEPALIVE) {
            s.replay.acknowledged(m.getKernelKeepalive().getReceived());
        }
    }

    /**
     * Whether the session {@code fresh} (a new stream whose hello carries {@code resume}) resumed
     * an open session of {@code kernelName}; false when there is none to resume: then the hello's
     * reclaim, if any, is the grace period's, and without one the stream has been ended.
     */
    boolean resume(KernelSession fresh, io.machxp.proto.xp.KernelHello h) {
        String kernelName = h.getKernelName();
        Resume r = h.getResume();
        boolean hasReclaim = h.hasReclaim();
        KernelSession s = sessions.byName(kernelName);
        String refusal = s == null ? "pager " + core.name + " has no open session of kernel '" + kernelName
                + "' (it restarted, or declared the kernel dead)"
                : s.broken ? "its stream to pager " + core.name + " ended while it held futexes or pages, so it left "
                        + "every queue"
                : s.replay == null ? "its session did not say it was resumable"
                : s.kernelId != r.getKernelId() || s.replay.token != r.getSessionToken()
                        ? "the kernel id or session token is not its session's"
                : PagerSessions.prefixOf(h, s.kernelId) != s.tidPrefix ? "its TID prefix "
                        + PagerSessions.prefixOf(h, s.kernelId) + " is not its session's (" + s.tidPrefix + ")"
                : Long.compareUnsigned(r.getAttempt(), s.replay.attempt) <= 0 ? "resume attempt "
                        + Long.toUnsignedString(r.getAttempt()) + " is not above the last it took ("
                        + Long.toUnsignedString(s.replay.attempt) + ")" // uint64s, 2^63 and up included
                : s.replay.cannotResume(r.getReceived());
        if (refusal != null) {
            if (!hasReclaim) {
                // A broken session cannot be resumed (4.7): it ends with its lease, and only then may its
                // name open a new one (2.9); any other refusal leaves the kernel a new session now.
                sessions.end(fresh, Errno.ESTALE, "kernel '" + kernelName + "' cannot resume its session: " + refusal
                        + (s != null && s.broken ? "; that session ends when its lease runs out in "
                                + Math.max(1, sessions.leases.leaseLeftMillis(s)) + " ms, and the kernel may then open a new "
                                + "one under its name" : "; it opens a new session"));
            }
            CoreContext.log.info("pager {}: kernel {} cannot resume its session: {}", core.name, kernelName, refusal);
            return false;
        }
        s.replay.attempt = r.getAttempt();
        long oldStream = s.id;
        sessions.moveTo(s, fresh);
        core.env.endSession(oldStream, Errno.ESTALE, "kernel '" + kernelName + "' resumed its session on a new "
                + "stream; nothing more is taken on this one");
        core.stats.sessionsResumed.increment();
        List<PagerToKernel> again = s.replay.after(r.getReceived());
        core.env.send(s.id, PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder()
                .setKernelId(s.kernelId).setPageSize(core.pageSize).setPagerName(core.name)
                .setSessionEpoch(sessions.tokenEpoch()).setLeaseMillis(sessions.leaseNanos() / 1_000_000)
                .setSessionToken(s.replay.token).setResumed(true).setReceived(s.received)).build());
        for (PagerToKernel m : again) {
            core.stats.sent(s, m);
            core.env.send(s.id, m);
        }
        CoreContext.log.info("pager {}: kernel {} resumed its session on a new stream (the old one fenced); sent "
                + "again {} messages it had not received, it had sent {} the pager received", core.name,
                kernelName, again.size(), s.received);
        return true;
    }
}
