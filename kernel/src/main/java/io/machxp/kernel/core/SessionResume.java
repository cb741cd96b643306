package io.machxp.kernel.core;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Resume;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's side of session resume (xp.proto, Resume): its count of what it received from the
 * pager, the messages it sent that the pager has not confirmed, and the resume itself. Part of
 * the kernel core: core thread only; {@link KernelSession} says when the stream stalled.
 *
 * <h2>Overview</h2>
 * <pre>
 *  message sent (after kernel_hello)      -> numbered (1, 2, ...) and kept
 *  message received (not a welcome)       -> counted, unless it is one the pager sends again after
 *                                            a resume that the kernel had already received on an
 *                                            earlier stream (the first count - attempt's received
 *                                            after that welcome: dropped, xp-spec 4.7)
 *  pager_keepalive answers keepalive k    -> kept messages up to k's number dropped (the stream
 *                                            is FIFO: the pager had them all)
 *  stream stalled  CONNECTED ──▶ RESUMING: a new connection, kernel_hello(resume: id, token,
 *                                received, attempt); what the kernel sends is kept, not sent;
 *                                another attempt on another connection every tenth of the lease
 *                                while the last one's connection is not up (once it is, its
 *                                answer is awaited: a new attempt would only fence it; at a
 *                                replicated pager, for a fifth of the lease, then the next
 *                                attempt goes to the next replica, once: a stopped one still
 *                                accepts)
 *  pager_welcome(resumed, n)  RESUMING ──▶ CONNECTED: the kept messages after n sent again, then
 *                                the rest; the lease runs as from a keepalive answered that was
 *                                sent with the resume
 *  refused by the pager       RESUMING ──▶ the kernel reclaims (KernelSession: DISCONNECTED),
 *                                everything kept is dropped (a reclaim asks again instead)
 *  lease runs out             the session is over, as always; at a replicated pager while
 *                                resuming, it holds its grace first ({@link LeaseGrace}): the
 *                                resume goes on, and a resume taken ends the grace
 * </pre>
 * What is kept is bounded by what the kernel sends in a lease: a pager that answers no keepalive
 * for a lease ends the session.
 */
final class SessionResume {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);

    private final KernelSession session;
    private final KernelCore core;
    private final String name;
    private final KernelEnv env;
    private final KernelStats stats;
    /** From the welcome: names the session for a resume; 0: it cannot be resumed. */
    private long sessionToken;
    /** A resume is on its way on a new stream; what the kernel sends waits for the answer. */
    private boolean resuming;
    /** When the current resume attempt was sent: a resume taken counts as a keepalive answered then. */
    private long resumeSentAt;
    /** Pager messages of the session received (welcomes not counted). */
    private long received;
    /** The {@code received} the last resume attempt sent said. */
    private long receivedInAttempt;
    /**
     * Messages the pager sends again after the welcome of a resume that the kernel had received
     * already (on an earlier stream, after the attempt was sent): dropped, not handled twice.
     */
    private long duplicates;
    /** Number of the last message sent (or kept to send once resumed). */
    private long sent;
    private final ArrayDeque<KernelToPager> kept = new ArrayDeque<>();
    /** The last resume attempt sent: each is one more. */
    private long attempt;
    /** Whether sent messages are kept: until the welcome says the session cannot be resumed. */
    private boolean keeping = true;

    SessionResume(KernelSession session, KernelCore core, String name, KernelEnv env, KernelStats stats) {
        this.session = session;
        this.core = core;
        this.name = name;
        this.env = env;
        this.stats = stats;
    }

    /** The welcome's token (0: the session cannot be resumed, and nothing is kept for it). */
    void welcomed(long token) {
        sessionToken = token;
        if (token == 0) {
            stopKeeping();
        }
    }

    /** The session's token (0: none, or the session is over: the kernel reclaims instead). */
    long token() {
        return sessionToken;
    }

    /** Whether a stall may be resumed: the session has a token and no resume is on its way. */
    boolean mayResume() {
        return sessionToken != 0 && !resuming;
    }

    /** The stream broke for good (the kernel reclaims instead): no resume, nothing kept is sent again. */
    void abandon() {
        resuming = false;
        sessionToken = 0; // a forward for this session (xp-spec 14) is not for the next one
        kept.clear();
    }

    /**
     * The session stopped (its lease or grace ran out, its pager was lost): a resume on its way
     * will never be taken, and nothing told the stream so; a close waiting for it asks again
     * ({@link KernelEnv#resumeOver}).
     */
    void sessionStopped() {
        if (resuming) {
            env.resumeOver(session.pager);
        }
    }

    /** Whether a resume is on its way on a new stream (see {@link KernelXp#keptWhileResuming} once the session stopped). */
    boolean resuming() {
        return resuming;
    }

    /** Sends kernel_hello with resume on a new connection; tries again every tenth of the lease. */
    void resume(String why) {
        if (!resuming) {
            leftReplica = false;
            log.warn("kernel {}: its stream to {} stalled ({}); it resumes that session on a new connection",
                    name, session.which(), why);
            env.trace("pager-stalled", 0, why);
        }
        resuming = true;
        if (!env.resume(session.pager)) {
            resuming = false;
            return; // this env cannot: the lease decides
        }
        long attempt = nextAttempt();
        KernelToPager hello = KernelToPager.newBuilder().setKernelHello(session.hello().setResume(Resume.newBuilder()
                        .setKernelId(session.kernelId()).setSessionToken(sessionToken).setReceived(receivedCount())
                        .setAttempt(attempt))).build();
        receivedInAttempt = receivedCount();
        resumeSentAt = env.nanoTime();
        stats.sent(hello);
        env.send(session.pager, hello);
        env.schedule(session.leaseNanos() / 10, () -> retry(why, attempt));
    }

    /**
     * A tenth of the lease after attempt {@code attempt}, still unanswered: another attempt on
     * another connection if this one's has not come up (a connect lost in a cut, or held by TCP's
     * backoff, may take longer than the lease), else its answer is awaited. A new attempt would
     * fence this one at the pager and the kernel reads only the newest stream: on a loaded host,
     * where the pager's answer to a resume takes longer than the interval, attempts each fencing
     * the one before would never be answered, and the lease would run out.
     */
    private void retry(String why, long attempt) {
        if (!resuming || session.pagerLost() || attempt() != attempt) {
            return;
        }
        long waited = env.nanoTime() - resumeSentAt;
        long giveUp = session.leaseNanos() / GIVE_UP_FRACTION;
        long interval = session.leaseNanos() / 10;
        if (!env.resumeAwaited(session.pager)) {
            resume(why);
        } else if (!leftReplica && waited >= giveUp && env.nextReplica(session.pager)) {
            leftReplica = true;
            log.warn("kernel {}: {} did not answer its resume within {} ms; it tries the next replica", name,
                    session.which(), (env.nanoTime() - resumeSentAt) / 1_000_000);
            env.trace("resume-elsewhere", 0, why);
            resume(why);
        } else {
            boolean replicated = env.replicated(session.pager) && !leftReplica && waited < giveUp;
            env.schedule(replicated ? Math.min(interval, giveUp - waited) : interval, () -> retry(why, attempt));
        }
    }

    /**
     * A resume at a replicated pager unanswered for a fifth of the lease on a connection that is
     * up goes to the next replica: a SIGSTOPped leader's socket still takes connections and hellos,
     * and waiting for its answer would cost the lease while another replica leads. The budget: a
     * kernel stops 0.8 L after the send of its last keepalive answered, at least 0.675 L after the
     * leader stopped; the stall is seen at most L/8 + L/6 + L/20 after the stop, and the next
     * replica is tried L/5 later (0.54 L), which leaves the redirect and the new leader's answer
     * 0.13 L. A loaded leader whose answer takes longer than L/5 (0.6-0.7 s seen with a 3 s lease)
     * is asked again through the next replica, which redirects the new attempt to it. Once per
     * resume: see {@link #leftReplica}.
     */
    private static final int GIVE_UP_FRACTION = 5;
    /**
     * This resume left a replica already: the replica its stream stalled on is left once, and the
     * attempt elsewhere is awaited: a second give-up could fence an attempt the new leader (named
     * by a follower's redirect) is about to answer, and go back to the stopped replica (chaos
     * --real run 6, docs/chaos-real.md).
     */
    private boolean leftReplica;

    /**
     * The pager took the resume: the session goes on on the new stream. What the pager did not
     * receive is sent again, then what waited; the resume counts as a keepalive answered.
     */
    void resumed(PagerWelcome w) {
        if (!resuming || w.getKernelId() != session.kernelId() || !plausible(w.getReceived())) {
            core.violation("a pager_welcome to a resume it did not send, or with kernel id "
                    + Integer.toUnsignedString(w.getKernelId()) + " and " + w.getReceived() + " messages received", 0, 0);
            return;
        }
        resuming = false;
        duplicates = received - receivedInAttempt; // read on an earlier stream after the attempt went
        session.resumeTaken(resumeSentAt);
        var again = resumed(w.getReceived());
        for (KernelToPager m : again) {
            stats.sent(m);
            env.send(session.pager, m);
        }
        env.resumed(session.pager);
        session.afterResume();
        log.info("kernel {}: resumed its session with pager {} on a new connection; sent again {} messages the "
                + "pager had not received", name, w.getPagerName(), again.size());
        env.trace("pager-resumed", 0, again.size() + " sent again");
    }

    /**
     * The resume's stream failed. Refused by the pager (it knows no such session: it restarted, or
     * declared this kernel dead): the kernel reclaims, as after a broken stream. Anything else
     * (the pager not reachable yet): the next attempt is due. False if no resume was on its way
     * (the failure is then the stream's own, see KernelCore).
     */
    boolean resumeFailed(String reason, boolean byPager) {
        if (!resuming || !byPager) {
            return resuming;
        }
        log.warn("kernel {}: {} refused to resume its session ({}); it reclaims what it holds there", name,
                session.which(), reason);
        resuming = false;
        sessionToken = 0; // refused: this token resumes nothing any more (a reclaim's welcome gives the next)
        session.onStreamBroken(reason);
        return true;
    }

    /**
     * Every twentieth of the lease: a keepalive unanswered for a sixth of the lease means the
     * stream stalled (after a short cut, TCP's retransmission backoff can hold it for seconds):
     * the kernel resumes the session on a new connection long before its lease runs out.
     */
    void checkStall() {
        if (session.pagerLost()) {
            return;
        }
        long since = session.unansweredSince();
        if (since >= 0 && mayResume() && env.nanoTime() - since > session.leaseNanos() / 6) {
            resume(String.format(Locale.ROOT, "the pager answered no keepalive for %d ms", (env.nanoTime() - since) / 1_000_000));
        }
        env.schedule(KernelSession.retryNanos(session.leaseNanos()), this::checkStall);
    }

    /**
     * A pager message (not a welcome) arrived: counted, and true, unless it is one the pager sent
     * again after a resume that the kernel already had (xp-spec 4.7): then false, drop it.
     */
    boolean received() {
        if (duplicates > 0) {
            duplicates--;
            return false;
        }
        received++;
        return true;
    }

    long receivedCount() {
        return received;
    }

    /** A message leaves (or waits for the resume): its number. */
    long sent(KernelToPager m) {
        if (keeping) {
            kept.add(m);
        }
        return ++sent;
    }

    /** The session cannot be resumed (no lease, or no token): nothing is kept from now on. */
    void stopKeeping() {
        keeping = false;
        kept.clear();
    }

    /** A reclaim opened a new count on both sides (the pager that takes it numbers from 1). */
    void reset() {
        received = 0;
        receivedInAttempt = 0;
        duplicates = 0;
        sent = 0;
        kept.clear();
    }

    /** The pager has the first {@code count} messages. */
    void acknowledged(long count) {
        while (!kept.isEmpty() && sent - kept.size() + 1 <= count) {
            kept.poll();
        }
    }

    /** The pager took a resume and had received {@code count}: what to send again, in order. */
    List<KernelToPager> resumed(long count) {
        acknowledged(count);
        return List.copyOf(kept);
    }

    /** Whether {@code count} is a number the pager can have received: not above what was sent. */
    boolean plausible(long count) {
        return count <= sent && count >= sent - kept.size();
    }

    long nextAttempt() {
        return ++attempt;
    }

    long attempt() {
        return attempt;
    }

    /** Messages kept now; for tests. */
    int keptCount() {
        return kept.size();
    }
}
