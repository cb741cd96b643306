package io.machxp.kernel.core;

import io.machxp.proto.xp.FutexForward;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;

/**
 * The kernel core's XP side as its runtime drives it ({@code PagerLink} and {@code PagerLinks}, or
 * the simulator's pagers): what the runtime tells the core of its pagers' streams and asks of its
 * sessions. Reached by {@link KernelCore#xp()}; core thread only, as all of the core.
 *
 * <h2>Overview</h2>
 * One session per pager ({@link KernelSessions}, each a {@link KernelSession}); the runtime holds
 * one stream per pager and says what happens on it:
 * <pre>
 *  {@link #start}                          kernel_hello to the primary (then to the others once welcomed)
 *  {@link #onXp}                           one pager message, checked by the session, then {@link XpDispatch}
 *  {@link #onFutexForward}                 a futex another kernel handed over directly (xp-spec 14)
 *  {@link #onStreamBroken}                 the connection broke: with a lease, reconnect and reclaim
 *  {@link #onStreamStalled}                the pager stopped reading: resume on a new connection, or break
 *  {@link #onResumeFailed}                 a stream carrying a resume failed
 *  {@link #onPagerLost}                    the pager's word: the session is over (the primary's: all are)
 *  {@link #shutdown}, {@link #finishShutdown}   the clean end in two parts ({@link ShutdownEnd})
 * </pre>
 * and asks the sessions what it waits on: {@link #ending}, {@link #keptWhileResuming},
 * {@link #unconfirmedReturns}, {@link #disconnected}, {@link #welcomed}, {@link #primaryLost}.
 */
public final class KernelXp {
    private final KernelCore core;
    private final KernelSessions sessions;
    private final XpDispatch dispatch;

    KernelXp(KernelCore core, XpDispatch dispatch) {
        this.core = core;
        this.sessions = core.sessions;
        this.dispatch = dispatch;
    }

    /** Opens the XP session with each pager: kernel_hello. */
    public void start() {
        core.checkThread();
        sessions.start();
    }

    /** One XP message from the pager (the primary, with several). */
    public void onXp(PagerToKernel m) {
        onXp(0, m);
    }

    /** One XP message from pager {@code pager}. */
    public void onXp(int pager, PagerToKernel m) {
        core.checkThread();
        if (sessions.serves(pager, m)) {
            dispatch.onXp(sessions.session(pager), m);
        }
    }

    /** The relinquish hints this kernel acted on and dropped (xp-spec 13.6). */
    RelinquishHints hints() {
        return dispatch.hints;
    }

    /** A futex another kernel forwarded over the kernel link (direct handoff, xp-spec 14). */
    public void onFutexForward(FutexForward m) {
        core.checkThread();
        core.futexes.forwards.onForward(m);
    }

    /**
     * Pager {@code pager} is gone: what waits for it fails with EIO, its objects' cached futexes stop
     * being handed out (it counts them released), as do later requests. Losing the primary (0) stops all.
     */
    public void onPagerLost(int pager, String reason) {
        sessions.session(pager).onPagerLost(reason);
    }

    /**
     * The stream to pager {@code pager} (0, the primary, for most kernels) broke: the connection, not the pager's
     * word ({@link #onPagerLost}). With a lease the kernel keeps what it holds and reconnects; without, it stops.
     */
    public void onStreamBroken(int pager, String reason) {
        core.checkThread();
        sessions.session(pager).onStreamBroken(reason);
    }

    /**
     * The stream to pager {@code pager} is stalled: the pager has not read it for longer, or more of
     * it, than the kernel lets wait (see XpSendLimits). True if the kernel resumes the session on a
     * new connection (xp-spec 4.7, as after a keepalive unanswered); false if it cannot (no lease
     * or token, a resume or reclaim under way): the stream is then broken, and ends as one.
     */
    public boolean onStreamStalled(int pager, String why) {
        core.checkThread();
        return sessions.session(pager).onStreamStalled(why);
    }

    /**
     * Pager {@code pager} refused a stream with {@code errno} ({@code finalInGrace}: its ErrorInfo
     * marked it final for the pager's grace period, xp-spec 9.7): true if it was a reclaim the kernel
     * sends again (a reclaim in parts refused by the version gate, or an EAGAIN not marked final:
     * {@link SessionReclaim#refused}).
     */
    public boolean onReclaimRefused(int pager, String errno, boolean finalInGrace, String reason) {
        core.checkThread();
        return sessions.session(pager).reclaim.refused(errno, finalInGrace, reason);
    }

    /** A stream to pager {@code pager} failed: false unless a resume was on it ({@link SessionResume#resumeFailed}). */
    public boolean onResumeFailed(int pager, String reason, boolean byPager) {
        core.checkThread();
        return sessions.session(pager).resume.resumeFailed(reason, byPager);
    }

    /**
     * The kernel is shutting down: its threads end, futexes and dirty pages go back to the pager;
     * then a last keepalive goes to each pager. A session with a lease stays open (it takes no new
     * task or mapping) until {@link #finishShutdown} terminates its objects; one without a lease
     * terminates them (memory_object_terminate) now, before its keepalive, and stops. Returns those keepalives: the caller ends each stream once
     * its answer came (xp-spec 2.6), so that what the kernel gave back is stored ({@link EndBarrier}).
     */
    public List<EndBarrier> shutdown() {
        core.checkThread();
        return sessions.shutdown();
    }

    /**
     * The clean end's second part at pager {@code pager}, once the runtime has the answer to its
     * end's keepalive (or gave up waiting): every object there is terminated
     * (memory_object_terminate, after the pages it got during the wait go back) and the session stops, dropping the copies it kept for a reclaim.
     * Nothing for a session that did all at {@link #shutdown} (no lease) or is lost. See {@link ShutdownEnd}.
     */
    public void finishShutdown(int pager) {
        core.checkThread();
        sessions.session(pager).end.finish();
    }

    /** Core thread: whether the session with pager {@code pager} waits, open, for its clean end's answer. */
    public boolean ending(int pager) {
        core.checkThread();
        return sessions.session(pager).ending();
    }

    /**
     * Core thread: how many messages the session with pager {@code pager} keeps to send once its
     * resume is taken (xp-spec 4.7), or -1 if it is not being resumed (or was lost meanwhile:
     * nothing kept will be sent). A shutdown then would only keep its returns, terminates and last
     * keepalive too, so the runtime's close waits for the resume first ({@code PagerLinks#close});
     * the core says when the answer changes with no word on the stream ({@link KernelEnv#resumeOver}).
     */
    public int keptWhileResuming(int pager) {
        core.checkThread();
        KernelSession s = sessions.session(pager);
        return s.resume.resuming() && !s.pagerLost() ? s.resume.keptCount() : -1;
    }

    /** Core thread: the dirty returns sent to pager {@code pager} that no answered keepalive confirmed yet. */
    public long unconfirmedReturns(int pager) {
        core.checkThread();
        return core.returns.unconfirmed(pager);
    }

    /** Whether the kernel lost its stream to a pager and is reconnecting; for tests and tools. */
    public boolean disconnected() {
        return sessions.disconnected();
    }

    /** Whether every one of its pagers has welcomed it (sessions open, or open before a loss). */
    public boolean welcomed() {
        return sessions.welcomed();
    }

    /**
     * Whether the kernel stopped using its primary pager (its lease ran out, the pager ended the
     * session or refused its reclaim, or the kernel shut down): then it uses no pager any more.
     * A secondary pager's loss alone does not count: the other pagers' objects go on. Core thread.
     */
    public boolean primaryLost() {
        return sessions.primary().pagerLost();
    }
}
