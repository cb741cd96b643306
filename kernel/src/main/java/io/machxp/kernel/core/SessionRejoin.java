package io.machxp.kernel.core;

import io.machxp.proto.task.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@link KernelSession} that replaces one lost for good opens itself: a secondary pager's
 * only ({@link LostSessions#stopped}); the primary's loss ends the kernel's sessions. Part of the
 * kernel core: core thread only; one per session.
 *
 * <h2>Overview</h2>
 * The new session sends kernel_hello on a new stream after a moment ({@link #start}), and again
 * after each stream that fails or hello the pager refuses (EAGAIN while it still holds the lost
 * session), until a welcome opens it; meanwhile a vm_map of that pager's objects fails with EIO
 * saying so ({@link #notOpenYet}), and what still comes on the lost session's stream before the
 * first hello is that session's, over as it is ({@link #beforeHello}).
 * <pre>
 *  REJOINING ──after min(L/20, 1 s) of the lost lease (the primary's if it had none): a new
 *             stream, kernel_hello─────────────────────────────────────────────────▶ HELLO OUT
 *     ▲                                                                              │
 *     └──────────────── the stream broke, or the pager refused the hello ────────────┤
 *                                                                                    │
 *       SESSION (a new kernel id at that pager, new objects) ◀──pager_welcome────────┘
 *  REJOINING or HELLO OUT ──the primary lost, or the kernel shuts down──▶ STOPPED (as if lost)
 *  an attempt ──the kernel cannot open a stream──▶ STOPPED, and no session replaces this one
 * </pre>
 */
final class SessionRejoin {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);

    private final KernelSession session;
    private final KernelCore core;
    private final int pager;
    private final KernelEnv env;
    private final String name;
    /** Why the session this one replaces was lost, while it is not welcomed yet; null otherwise. */
    private String rejoining;
    /** Hellos sent to rejoin; and how long between them. */
    private int rejoinAttempts;
    private long rejoinNanos;
    /** A rejoin's stream is out, its hello not answered yet. */
    private boolean rejoinOut;
    /** This session replaced one lost with the same pager (a rejoin), welcomed or not. */
    private boolean replacesLost;
    /** Its kernel could not open a stream to rejoin: once lost, no session replaces this one. */
    private boolean cannotRejoin;

    SessionRejoin(KernelSession session, KernelCore core, KernelEnv env, String name) {
        this.session = session;
        this.core = core;
        this.pager = session.pager;
        this.env = env;
        this.name = name;
    }

    /**
     * Whether this session replaces a lost one and has sent no hello yet: what arrives from its
     * pager now came on the lost session's stream (a keepalive answer on its way when the lease ran
     * out, say) and is that session's, over as it is; counted here it would shift the new
     * session's count of messages received, which its keepalives and resumes tell the pager.
     */
    boolean beforeHello() {
        return rejoining != null && !rejoinOut;
    }

    /** Whether this session replaced one lost with the same pager, welcomed or not. */
    boolean replacesLost() {
        return replacesLost;
    }

    /** Whether its kernel could not open a stream to rejoin (then no session replaces it once lost). */
    boolean cannotRejoin() {
        return cannotRejoin;
    }

    /**
     * This session replaces one lost for good ({@code reason}): its hello goes out on a new
     * stream after {@code retryNanos}, and again until the pager takes it.
     */
    void start(String reason, long retryNanos) {
        rejoining = reason;
        replacesLost = true;
        rejoinNanos = retryNanos > 0 ? retryNanos : KernelSession.MAX_RETRY_NANOS;
        env.schedule(rejoinNanos, this::rejoin);
    }

    /** pager_welcome opened the session ({@code id}: its kernel id there), if it was rejoining. */
    void welcomed(int id) {
        if (rejoining != null) {
            log.info("kernel {}: new session with pager {} (kernel id {} there) after {} attempts, since it lost the "
                    + "last ({}); mappings made before stay failed, a vm_map maps its objects again", name, pager, id,
                    rejoinAttempts, rejoining);
            env.trace("pager-rejoined", 0, "after " + rejoinAttempts + " attempts");
            rejoining = null;
            rejoinOut = false;
            core.sessions.gates.rejoined(session);
        }
    }

    /**
     * The session is lost ({@link KernelSession#onPagerLost}) while rejoining: true if that was the
     * attempt's stream or hello and the next attempt is due; false if the session stops (it was
     * not rejoining, or may rejoin no more: the primary is lost, or the kernel shuts down).
     */
    boolean attemptLost(String reason) {
        if (rejoining != null) {
            if (core.sessions.lost.mayRejoin(session)) {
                rejoinFailed(reason);
                return true;
            }
            rejoining = null; // the primary is lost, or the kernel shuts down: this session ends too
            rejoinOut = false;
        }
        return false;
    }

    /** Whether the session replaces a lost one and was not welcomed yet. */
    boolean rejoining() {
        return rejoining != null;
    }

    /** Why a call fails while the session rejoins and was not welcomed yet. */
    KernelError notOpenYet() {
        return KernelError.of(Errno.EIO, "kernel %s lost its session with %s (%s) and is opening a new one "
                + "(%d attempts so far); retry once that pager takes it", name, session.which(), rejoining, rejoinAttempts);
    }

    /** Core thread: one attempt to rejoin: a new stream and kernel_hello on it. */
    private void rejoin() {
        if (rejoining == null || rejoinOut || session.pagerLost()) {
            return;
        }
        if (!core.sessions.lost.mayRejoin(session)) {
            session.onPagerLost(rejoining); // the primary is lost meanwhile, or the kernel shuts down
            return;
        }
        if (core.sessions.primary().kernelId() == 0) {
            // Not welcomed by the primary yet (a secondary lost during the start): the hello's TID
            // prefix is the primary's kernel id (xp-spec 2.9), so the attempt waits for it.
            env.schedule(rejoinNanos, this::rejoin);
            return;
        }
        rejoinAttempts++;
        rejoinOut = true;
        if (!env.reconnect(pager)) {
            rejoinOut = false;
            String why = rejoining;
            rejoining = null;
            cannotRejoin = true; // and no session replaces this one: the same would follow
            session.onPagerLost(why + "; this kernel cannot reconnect, and uses the pager again after its restart");
            return;
        }
        if (rejoinOut) { // else the new stream failed at once (rejoinFailed ran inside): the next is due
            session.start();
        }
    }

    /** The rejoin's stream failed or its hello was refused: the next attempt is due after a while. */
    private void rejoinFailed(String reason) {
        if (!rejoinOut) {
            return;
        }
        rejoinOut = false;
        if (rejoinAttempts == 1 || rejoinAttempts % 50 == 0) {
            log.info("kernel {}: pager {} did not take a new session yet (attempt {}: {}); trying again every {} ms",
                    name, pager, rejoinAttempts, reason, rejoinNanos / 1_000_000);
        }
        env.schedule(rejoinNanos, this::rejoin);
    }
}
