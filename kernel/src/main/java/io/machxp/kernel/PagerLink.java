package io.machxp.kernel;

import io.grpc.ChannelCredentials;
import io.machxp.kernel.core.EndBarrier;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelXp;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerRedirect;
import io.machxp.proto.xp.PagerToKernel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The kernel's XP link to one pager (a kernel with several has one each, see {@link PagerLinks}):
 * its successive streams ({@link PagerStream}, one bidirectional gRPC call each, one current at a
 * time), whose I/O and callbacks both run on the kernel's core event loop, so messages from the
 * pager enter the core without another hop, and the core sends on the stream from that same
 * thread. Core thread unless said otherwise.
 *
 * <h2>Overview</h2>
 * Each new stream gets a number; only the current one's callbacks act (a redirect and a
 * half-close make the current one stale too).
 * <pre>
 *  {@link #open}         a stream on the current channel; the core sends kernel_hello on it
 *  pager_welcome         OPEN: {@link #open}'s future completes with the kernel id; a spare
 *                        connection warms for a resume ({@link PagerChannels})
 *  pager_redirect        before the hello's answer: the hello goes to the leader ({@link PagerRedirects})
 *  other messages        to the core ({@link KernelXp#onXp})
 *  stream ends with the pager's word ({@link PagerWord}: it refused or ended the session)
 *                        the kernel's use of the pager ends ({@link KernelXp#onPagerLost}), or the
 *                        resume that stream carried was refused (the core reclaims)
 *  stream breaks otherwise (the pager died, the connection dropped, the pager is not up yet)
 *                        the core may mend it: {@link #reconnect} (a reclaim on a new stream on
 *                        the same channel) or, at a replicated pager, a resume at the next replica
 *  stream stalled        (the pager does not read it, {@link StreamStall}) the core resumes the
 *                        session: {@link #resume}, a new connection; the old stream stays open,
 *                        unread; or, if it cannot, the stream is cancelled and breaks
 *  resume taken          {@link #resumed}: the replaced connections close
 *  clean end             the end's keepalive answered ({@link EndBarrierWait}), then
 *                        {@link #halfClose} and {@link #awaitEnd}
 *  {@link #dispose}, {@link #abort}  for good: nothing reconnects
 * </pre>
 */
final class PagerLink {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PagerLink.class);
    private static final long CLOSE_WAIT_SECONDS = 5;
    private static final long RECONNECT_WAIT_MILLIS = 1000;

    private final EventLoop loop;
    private final KernelCore core;
    /** Which of the kernel's pagers (0: its primary). */
    private final int pager;
    private final XpTap tap;
    private final PagerChannels channels;
    private final PagerRedirects redirects;
    private final StreamStall stall;
    private final EndBarrierWait endWait;
    private final CompletableFuture<Integer> welcomed = new CompletableFuture<>();
    /** The current stream; null before {@link #open}. Volatile: {@link #awaitEnd} reads it off the loop. */
    private volatile PagerStream current;
    /** Which stream number is the current one: callbacks of an older one are ignored. */
    private int stream;
    /** Cut as by a crash, or stopped for good: nothing reconnects. */
    private volatile boolean aborted;
    /** Completes at the link's next event that may end a resume: see {@link #resumeOutcome}. */
    private CompletableFuture<Void> resumeOutcome = new CompletableFuture<>();

    /**
     * @param credentials mutual TLS or plaintext, already checked against the policy
     * @param coreGroup the core's one-thread group: the channel's I/O and its callbacks both run on it
     */
    PagerLink(ReplicaChoice choice, ChannelCredentials credentials, EventLoopGroup coreGroup, KernelCore core,
            int pager, XpTap tap, XpSendLimits limits) {
        this.tap = tap;
        this.loop = coreGroup.next();
        this.core = core;
        this.pager = pager;
        this.channels = new PagerChannels(choice, credentials, coreGroup, loop);
        this.redirects = new PagerRedirects(this, channels, loop);
        this.stall = new StreamStall(loop, limits, () -> stream, this::stalled, this::hand);
        this.endWait = new EndBarrierWait(core, pager);
    }

    /** Opens the stream (the core's start sends kernel_hello on it); completes with the kernel id once welcomed. */
    CompletableFuture<Integer> open() {
        connect(true);
        return welcomed;
    }

    /** A new stream, for a core that lost its last one and reclaims what it holds. */
    boolean reconnect() {
        if (aborted || channels.shutDown()) {
            return false;
        }
        channels.resetConnectBackoff();
        connect(true);
        // A stream that neither connects nor fails (a connect to an unreachable host can take longer
        // than the lease) must not stop the attempts: one not ready within a second is cancelled,
        // which reports it broken, and the core tries again. One that connected is left alone: the
        // pager has the reclaim, and a second would be refused as a duplicate.
        int attempt = stream;
        loop.schedule(() -> {
            if (attempt == stream && !current.ready()) {
                current.cancel("the pager did not accept the connection within " + RECONNECT_WAIT_MILLIS + " ms");
            }
        }, RECONNECT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        return true;
    }

    /**
     * A new connection and stream for a session resume. The old stream is no longer read but is
     * left open (cancelling it could reach the pager before the resume does, and end the session
     * there), as are earlier attempts' (one may carry the stream the pager moved the session to):
     * all close when the pager took the resume ({@link #resumed}).
     */
    boolean resume() {
        if (aborted || channels.shutDown()) {
            resumeOutcome.complete(null); // this resume cannot go on
            return false;
        }
        channels.renew();
        connect(false);
        return true;
    }

    /** Whether the current stream (a resume's) has connected and not ended: the pager's answer is awaited. */
    boolean resumeAwaited() {
        return current != null && current.ready() && !current.ended().isDone();
    }

    /** The pager took the resume on the current stream; the replaced connections close. */
    void resumed() {
        channels.closeReplaced();
        warmSpare();
        resumeOutcome.complete(null);
    }

    /**
     * Completes (on the core loop, inside the link's or the core's own call: a caller that acts on
     * it hands its action to the loop) at the next event that may end a resume of its session.
     * The link's: the pager took it ({@link #resumed}), the current stream ended and the core heard
     * it (a refusal ends the resume; a broken stream leaves its next attempt due), a resume could
     * not start, or the link stopped ({@link #dispose}, {@link #abort}). The core's, which come
     * with no word on the stream ({@link #resumeOver}): the session was lost (its lease or grace
     * ran out, its pager was lost) or replaced by a rejoin's new session. Whether the session is
     * still resuming is then the core's to say ({@link KernelXp#keptWhileResuming}); a caller
     * that waits on asks for the next one.
     */
    CompletableFuture<Void> resumeOutcome() {
        if (resumeOutcome.isDone()) {
            resumeOutcome = new CompletableFuture<>();
        }
        return resumeOutcome;
    }

    /**
     * The core ended its session's resume with no word on the stream (see
     * {@link io.machxp.kernel.core.KernelEnv#resumeOver}): whoever waits for the resume's outcome asks again.
     */
    void resumeOver() {
        resumeOutcome.complete(null);
    }

    private void warmSpare() {
        if (!aborted) {
            channels.warmSpare();
        }
    }

    /** The link is done: every connection but the current one closes. */
    void closeAllButCurrent() {
        channels.closeAllButCurrent();
    }

    /** Whether this pager has several replicas. */
    boolean replicated() {
        return channels.replicated();
    }

    /** A resume here went unanswered (see SessionResume): the next goes to the next replica. */
    boolean nextReplica() {
        return channels.nextReplica();
    }

    /**
     * A new stream on the current channel (or a new one, to another replica: {@link PagerChannels#toTarget});
     * {@code cancelOld}: the one it replaces is cancelled.
     */
    private void connect(boolean cancelOld) {
        channels.toTarget();
        int number = ++stream; // first: what the old stream still reports is ignored from now on
        if (cancelOld && current != null) {
            current.cancel("replaced by a new stream"); // a no-op for one that has ended already
        }
        stall.newStream();
        // current before the call starts: gRPC may end a call from inside its start (on this loop),
        // and what the core asks the link meanwhile is then about the new stream, not the old one
        current = new PagerStream(this, stall, core.name(), number);
        current.open(channels.current());
    }

    /** Whether stream {@code number} is the current one: no stream was opened, dropped or half-closed since. */
    boolean isCurrent(int number) {
        return stream == number;
    }

    /** For {@link PagerStream}: a message from the pager on the current stream (not a redirect). */
    void onPagerMessage(PagerToKernel message) {
        if (message.hasPagerKeepalive()) {
            endWait.keepaliveAnswered(message.getPagerKeepalive().getSequence());
        }
        stall.resending(message.hasPagerWelcome() && message.getPagerWelcome().getResumed());
        try {
            tap.received(pager, message);
            core.xp().onXp(pager, message);
        } catch (RuntimeException | Error e) {
            log.error("kernel {}: failed on {} from the pager", core.name(), message.getRoutineCase(), e);
            throw e;
        } finally {
            stall.resending(false);
        }
        if (message.hasPagerWelcome()) {
            welcomed.complete(core.kernelId());
            warmSpare();
        }
    }

    /** For {@link PagerStream}: a pager_redirect answered the current stream's hello. */
    void onRedirect(PagerRedirect r) {
        redirects.redirected(r);
    }

    /** For {@link PagerStream}: the current stream ended with an error (the pager's word, or broken). */
    void onStreamFailed(Throwable t) {
        endWait.streamEnded();
        try {
            lost(t);
        } finally {
            resumeOutcome.complete(null);
        }
    }

    /** For {@link PagerStream}: the pager completed the current stream (not after a half-close: that one is stale). */
    void onStreamCompleted() {
        endWait.streamEnded();
        try {
            if (!core.xp().onResumeFailed(pager, "the pager ended the resumed stream", true)) {
                welcomed.completeExceptionally(new PagerWord.NotWelcomed("the pager ended the session", ""));
                core.xp().onPagerLost(pager, "the pager ended the session");
            }
        } finally {
            resumeOutcome.complete(null);
        }
    }

    /**
     * Core thread only. On a stream that has connected, the send bound decides ({@link StreamStall#admit}):
     * the message goes to gRPC, waits in the kernel's backlog until the stream takes it, or is not
     * written (the stream is stalled, even if it became ready again since: the core resumes, it
     * kept this message, or the stream breaks). Before it connects, gRPC holds what is sent.
     */
    void send(KernelToPager message) {
        if (message.hasKernelHello()) {
            redirects.helloSent(message);
        }
        if (!current.ready() || stall.admit(message) == StreamStall.Verdict.HAND) {
            hand(message);
        }
    }

    /** The message goes onto the current stream (gRPC's call): the tap hears it now. */
    private void hand(KernelToPager message) {
        tap.sent(pager, message);
        current.send(message);
    }

    /** Whether the current stream is stalled: what still arrives on it is not taken (the resume has it sent again). */
    boolean stalledNow() {
        return stall.overflowed();
    }

    /**
     * Stream {@code which} passed a bound for a pager that does not read it ({@link StreamStall}).
     * Nothing more is written on it; the core resumes the session on a new connection (this stream
     * stays open, unread, until the pager takes the resume: xp-spec 4.7), or else it is cancelled,
     * and ends as a broken stream does (the kernel reclaims, or without a lease its session is over).
     */
    private void stalled(int which, String why) {
        if (which != stream || aborted) {
            return;
        }
        stall.stalled();
        if (!core.xp().onStreamStalled(pager, why)) {
            current.cancel(why);
        }
    }

    /** For {@link PagerRedirects}: the current stream is dropped (read no more); the number it gives up. */
    int dropStream() {
        return ++stream;
    }

    /** For {@link PagerRedirects}: {@code hello} again on a new stream; false if the link is done. */
    boolean sendOnNewStream(KernelToPager hello) {
        if (aborted || channels.shutDown()) {
            return false;
        }
        connect(false);
        send(hello);
        return true;
    }

    /** The pager's own refusal ends the session; anything else is a broken stream the core may mend. */
    private void lost(Throwable t) {
        String reason = t.getMessage();
        boolean byPager = PagerWord.fromPager(t);
        if (!byPager && redirects.tryNextReplica(welcomed.isDone())) {
            return; // the first hello goes to the next replica
        }
        if (!byPager && channels.replicated()) {
            channels.nextTarget();
        }
        if (core.xp().onResumeFailed(pager, reason, byPager)) {
            return; // the resume's stream: the core decides (see SessionResume)
        }
        boolean finalInGrace = byPager && PagerWord.finalInGrace(t);
        if (byPager && !aborted && core.xp().onReclaimRefused(pager, PagerWord.errno(t), finalInGrace, reason)) {
            return; // sent again: a reclaim in parts refused by an older pager (in one message, xp-spec 2.3),
                    // or an EAGAIN the pager did not mark final (xp-spec 9.4, Again; 9.7)
        }
        if (finalInGrace) {
            // The pager's sentence may say "connect again later": the tasks' EIO says it was final here.
            reason = "final for this kernel's session with that pager (the pager marked it final for its grace "
                    + "period, xp-spec 9.7): " + reason;
        }
        if (!welcomed.isDone()) {
            welcomed.completeExceptionally(new PagerWord.NotWelcomed(reason, PagerWord.errno(t), t));
        }
        if (aborted || byPager) {
            core.xp().onPagerLost(pager, reason);
        } else {
            core.xp().onStreamBroken(pager, reason);
        }
    }

    /** Stops this link for good without waiting (its session is over); idempotent. */
    void dispose() {
        aborted = true;
        if (current != null) {
            current.cancel("the kernel's session is over");
        }
        channels.closeAllButCurrent();
        channels.current().shutdownNow();
        resumeOutcome.complete(null);
    }

    /** Any thread: cuts the stream without a word to the pager, as a crashed kernel would. */
    void abort() {
        aborted = true;
        CompletableFuture<Void> cancelled = new CompletableFuture<>();
        loop.execute(() -> {
            if (current != null) {
                current.cancel("kernel crashed");
            }
            channels.closeAllButCurrent();
            resumeOutcome.complete(null);
            cancelled.complete(null);
        });
        cancelled.orTimeout(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS).exceptionally(e -> null).join();
        channels.current().shutdownNow();
    }

    /**
     * After the core's shutdown sent {@code barrier}'s keepalive on this stream: completes true
     * when the pager answers it or a later keepalive, on whichever stream the session has then;
     * false if the stream ends and the session is not ending, or when the core says it was lost
     * for good ({@link #endOver}). See {@link EndBarrierWait}.
     */
    CompletableFuture<Boolean> awaitEndBarrier(EndBarrier barrier) {
        return endWait.await(barrier, current != null && current.ended().isDone());
    }

    /** The ending session was lost for good: its end's barrier will not be answered. */
    void endOver() {
        endWait.over();
    }

    /** The pager's address this link's stream goes to, for log lines. */
    String target() {
        return channels.connectedTo();
    }

    /** Whether the stream is open (the core's shutdown then sends on it). */
    boolean streamOpen() {
        return current != null && !current.ended().isDone();
    }

    /**
     * After the core's shutdown sent its returns and terminates: ends the stream. What the pager
     * still sends (a welcome that comes after a start gave up on it) is for a session this kernel
     * ended: ignored, as an old stream's is. False if it was gone already.
     */
    boolean halfClose() {
        try {
            stall.flush(); // what waits for the stream goes before its end
            current.halfClose();
            stream++;
            return true;
        } catch (RuntimeException gone) {
            return false; // the stream is already gone
        }
    }

    /**
     * Any thread: waits (until {@code deadline}, System.nanoTime, at most; not on the core loop)
     * until the pager has ended its side; then shuts the channel.
     */
    void awaitEnd(boolean halfClosed, long deadline) {
        if (halfClosed && !loop.inEventLoop()) {
            try {
                current.ended().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // the pager did not answer in time: close anyway
            }
        }
        channels.current().shutdown();
    }
}
