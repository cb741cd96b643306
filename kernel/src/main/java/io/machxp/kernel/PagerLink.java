package io.machxp.kernel;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.kernel.core.KernelCore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The kernel's XP stream to one pager (a kernel with several has one each, see {@link PagerLinks}): one bidirectional gRPC call whose I/O and callbacks both
 * run on the kernel's core event loop, so messages from the pager enter the core without another
 * hop, and the core sends on the stream from that same thread.
 *
 * <p>The call executor is not gRPC's direct executor: until name resolution finishes, a call is
 * buffered and its first callbacks (the pager's welcome among them) are replayed by whichever
 * thread completes the resolution, which would enter the core from a foreign thread. The
 * executor below runs a callback inline when it is already on the core loop, and hands it to
 * the loop otherwise.
 *
 * <p>A stream that ends with the pager's own word (a status with a machxp errno: it refused or
 * ended the session) ends the kernel's use of the pager. One that breaks otherwise (the pager
 * process died, the connection dropped, the pager is not up yet) is reported as broken, and the
 * core may ask for a new stream on the same channel to reclaim what it holds ({@link #reconnect}).
 * Callbacks of a stream that has been replaced are ignored.
 *
 * <p>A pager that does not read its stream (gRPC's flow control: the stream is not ready, the
 * pager's window is full) makes what the kernel sends wait in gRPC's buffers. That wait is bounded
 * as the pager bounds a kernel's ({@link XpSendLimits}): a stream that has not been ready for the
 * patience, or on which more than the bound in bytes waits, is stalled (xp-spec 4.7). The core
 * resumes the session on a new connection if it can; otherwise the stream is cancelled and ends
 * as a broken one. From the moment the bound is passed nothing more is written on it. The send
 * path adds one call of gRPC's isReady per message; the rest runs only while the stream is not ready.
 */
final class PagerLink {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PagerLink.class);
    private static final long CLOSE_WAIT_SECONDS = 5;
    /**
     * The replicas of this pager (xp-spec 13), from its --pager entry "host:port+host:port+...";
     * one for an unreplicated pager. Core thread.
     */
    private final java.util.List<String> targets;
    /** Where the kernel's links to this pager, of this session and the next, connect first. */
    private final ReplicaChoice choice;
    /** The replica the next connection goes to: the last leader named, or the next after a failure. */
    private String target;
    /** The replica the current channel and the spare connect to. */
    private String channelTarget;
    private String spareTarget;
    /** The last kernel_hello sent: sent again to the leader a follower names (pager_redirect). */
    private KernelToPager lastHello;
    /** Redirects followed for the current hello: a bound, against replicas that name each other. */
    private int redirects;
    private final ChannelCredentials credentials;
    private final EventLoopGroup coreGroup;
    /** The channel of the current stream: a resume makes a new one (a new connection). */
    private ManagedChannel channel;
    /**
     * A second connection to the pager, kept connected and idle for a resume: an idle connection
     * has nothing in retransmission backoff, so after a short cut a hello on it goes out at once,
     * and the resume costs one round trip instead of a TCP and HTTP/2 handshake. Core thread.
     */
    private ManagedChannel spare;
    /** Channels of streams a resume replaced: closed once the pager took the resume. Core thread. */
    private final java.util.List<ManagedChannel> replaced = new java.util.ArrayList<>();
    private final EventLoop loop;
    private final KernelCore core;
    /** Which of the kernel's pagers (0: its primary). */
    private final int pager;
    private final CompletableFuture<Integer> welcomed = new CompletableFuture<>();
    /** Completes when the current stream has ended, either way. */
    private volatile CompletableFuture<Void> ended = new CompletableFuture<>();
    private StreamObserver<KernelToPager> toPager;
    /** Which stream is the current one: callbacks of an older one are ignored. Core thread. */
    private int stream;
    /** Cut as by a crash: nothing reconnects. */
    private volatile boolean aborted;
    private final XpTap tap;
    /** How long the stream may stay not ready, and how much may wait on it meanwhile. */
    private final long patienceNanos;
    private final long maxUnsentBytes;
    /** The current stream's call, for its flow control (the same object as {@link #toPager}). Core thread. */
    private ClientCallStreamObserver<KernelToPager> call;
    /** Counts the current stream's waits (stream not ready): a wait's timer acts on its own only. Core thread. */
    private long waits;
    /** Whether the current stream is waiting (not ready since a send), and the bytes sent meanwhile. Core thread. */
    private boolean waiting;
    private long waitingBytes;
    /** The current stream passed a bound: nothing more is written on it. Core thread. */
    private boolean overflowed;
    /**
     * The core is handling the pager's welcome to a resume: what it sends again then was counted
     * against the bound on the stream it left, and is not counted again (it may exceed the bound
     * by itself: it is what the pager did not read). Core thread.
     */
    private boolean resending;

    /**
     * @param credentials mutual TLS or plaintext, already checked against the policy
     * @param coreGroup the core's one-thread group: the channel's I/O and its callbacks both run on it
     */
    PagerLink(ReplicaChoice choice, ChannelCredentials credentials, EventLoopGroup coreGroup, KernelCore core,
            int pager, XpTap tap, XpSendLimits limits) {
        this.tap = tap;
        this.patienceNanos = limits.patience().toNanos();
        this.maxUnsentBytes = limits.maxBytes();
        this.loop = coreGroup.next();
        this.core = core;
        this.pager = pager;
        this.choice = choice;
        this.targets = choice.replicas();
        this.target = choice.current();
        this.credentials = credentials;
        this.coreGroup = coreGroup;
        this.channel = newChannel();
    }

    /**
     * HTTP/2 keepalive pings find a dead connection that carries no stream traffic (grpc-java pings
     * at most every {@link #PING_SECONDS} s: it raises shorter times to that floor, so leases of a
     * few seconds count on the kernel's own keepalives and stall detection, see KernelSession);
     * the pager permits pings that often (Pager's permitKeepAliveTime).
     */
    private ManagedChannel newChannel() {
        channelTarget = target;
        return NettyChannelBuilder.forTarget(target, credentials).eventLoopGroup(coreGroup)
                .channelType(NioSocketChannel.class).executor(this::onLoop)
                .keepAliveTime(PING_SECONDS, TimeUnit.SECONDS).keepAliveTimeout(PING_SECONDS, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(true).build();
    }

    /** How often the kernel pings its pager's connection, and how long it waits for the answer. */
    static final long PING_SECONDS = 10;

    private void onLoop(Runnable callback) {
        if (loop.inEventLoop()) {
            callback.run();
        } else {
            loop.execute(callback);
        }
    }

    /**
     * Core thread: opens the stream (the core's start then sends kernel_hello on it); the future
     * completes with the kernel id once this pager welcomed the kernel.
     */
    CompletableFuture<Integer> open() {
        connect(true);
        return welcomed;
    }

    /** Core thread: a new stream, for a core that lost its last one and reclaims what it holds. */
    boolean reconnect() {
        if (aborted || channel.isShutdown()) {
            return false;
        }
        // After a failed connect the channel backs off (seconds, growing): try at once instead, so
        // that a pager back within the lease is found in time.
        channel.resetConnectBackoff();
        connect(true);
        // A stream that neither connects nor fails (a connect to an unreachable host can take longer
        // than the lease) must not stop the attempts: one not ready within a second is cancelled,
        // which reports it broken, and the core tries again. One that connected is left alone: the
        // pager has the reclaim, and a second would be refused as a duplicate.
        int attempt = stream;
        loop.schedule(() -> {
            if (attempt == stream && !ready && toPager instanceof ClientCallStreamObserver<KernelToPager> call) {
                call.cancel("the pager did not accept the connection within " + RECONNECT_WAIT_MILLIS + " ms", null);
            }
        }, RECONNECT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        return true;
    }

    /**
     * Core thread: a new connection and stream for a session resume. The old stream is no longer
     * read but is left open (cancelling it could reach the pager before the resume does, and end
     * the session there), as are earlier attempts' (one may carry the stream the pager moved the
     * session to): all close when the pager took the resume ({@link #resumed}).
     */
    boolean resume() {
        if (aborted || channel.isShutdown()) {
            return false;
        }
        replaced.add(channel);
        boolean warm = spare != null && spare.getState(false) == io.grpc.ConnectivityState.READY
                && target.equals(spareTarget);
        if (warm) {
            channel = spare;
            channelTarget = spareTarget;
        } else {
            if (spare != null) {
                replaced.add(spare);
            }
            channel = newChannel();
        }
        spare = null;
        connect(false);
        return true;
    }

    /**
     * Core thread: whether the current stream (a resume's) has connected and not ended: its
     * hello went out on a connection that is up, so the pager's answer is awaited.
     */
    boolean resumeAwaited() {
        return ready && !ended.isDone();
    }

    /** Core thread: the pager took the resume on the current stream; the replaced connections close. */
    void resumed() {
        closeReplaced();
        warmSpare();
    }

    /** Core thread: connects a spare channel for the next resume (see {@link #spare}). */
    void warmSpare() {
        if (spare == null && !aborted && !channel.isShutdown()) {
            String current = channelTarget;
            spare = newChannel();
            spareTarget = channelTarget;
            channelTarget = current;
            spare.getState(true); // connect now, not at the first call
        }
    }

    private void closeReplaced() {
        for (ManagedChannel old : replaced) {
            old.shutdownNow();
        }
        replaced.clear();
    }

    /** The link is done: every connection but the current one closes. */
    void closeAllButCurrent() {
        closeReplaced();
        if (spare != null) {
            spare.shutdownNow();
            spare = null;
        }
    }

    private static final long RECONNECT_WAIT_MILLIS = 1000;
    /**
     * Whether the pager has answered the current stream's hello (any message but a redirect came
     * on it): a pager_redirect is taken only before that (xp-spec 13.2). Core thread.
     */
    private boolean answered;
    /** Whether the current stream has connected (gRPC said it is ready to send). Core thread. */
    private boolean ready;

    /** A new stream on the current channel; {@code cancelOld}: the one it replaces is cancelled. */
    private void connect(boolean cancelOld) {
        if (!target.equals(channelTarget)) {
            replaced.add(channel); // another replica: a connection of its own
            channel = newChannel();
        }
        int current = ++stream; // first: what the old stream still reports is ignored from now on
        if (cancelOld && toPager instanceof ClientCallStreamObserver<KernelToPager> old) {
            old.cancel("replaced by a new stream", null); // a no-op for one that has ended already
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        ended = done;
        ready = false;
        answered = false;
        waiting = false;
        overflowed = false;
        toPager = MemoryObjectPagerGrpc.newStub(channel).connect(new ClientResponseObserver<KernelToPager, PagerToKernel>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<KernelToPager> started) {
                call = started;
                started.setOnReadyHandler(() -> {
                    if (current == stream) {
                        ready = true;
                        if (started.isReady()) {
                            waiting = false; // the pager read: the stream takes more again
                        }
                    }
                });
            }

            @Override
            public void onNext(PagerToKernel message) {
                if (current != stream) {
                    return;
                }
                if (message.hasPagerRedirect()) {
                    if (answered) {
                        // xp-spec 3.6: only the answer to a hello; mid-session it would move the session
                        log.warn("kernel {}: protocol violation from the pager: a pager_redirect (to '{}') after the "
                                + "stream's hello was answered: a redirect answers a kernel_hello only; ignored",
                                core.name(), message.getPagerRedirect().getLeader());
                        return;
                    }
                    redirected(message.getPagerRedirect());
                    return;
                }
                answered = true;
                if (message.hasPagerKeepalive() && endBarrier != null
                        && endBarrier.answeredBy(message.getPagerKeepalive().getSequence())) {
                    endAnswered.complete(true); // what the kernel gave back is stored: the stream may end
                }
                resending = message.hasPagerWelcome() && message.getPagerWelcome().getResumed();
                try {
                    tap.received(pager, message);
                    core.onXp(pager, message);
                } catch (RuntimeException | Error e) {
                    log.error("kernel {}: failed on {} from the pager", core.name(), message.getRoutineCase(), e);
                    throw e;
                } finally {
                    resending = false;
                }
                if (message.hasPagerWelcome()) {
                    welcomed.complete(core.kernelId());
                    warmSpare();
                }
            }

            @Override
            public void onError(Throwable t) {
                done.complete(null);
                if (current == stream && endBarrier != null && !core.ending(pager)) {
                    endAnswered.complete(false); // the end's stream broke before its answer, no resume or reclaim
                }
                if (current == stream) {
                    lost(t);
                }
            }

            @Override
            public void onCompleted() {
                done.complete(null);
                if (current == stream && endBarrier != null && !core.ending(pager)) {
                    endAnswered.complete(false); // the end's stream broke before its answer, no resume or reclaim
                }
                if (current == stream && !core.onResumeFailed(pager, "the pager ended the resumed stream", true)) {
                    welcomed.completeExceptionally(new NotWelcomed("the pager ended the session", ""));
                    core.onPagerLost(pager, "the pager ended the session");
                }
            }
        });
    }

    /** Core thread only. */
    void send(KernelToPager message) {
        if (message.hasKernelHello()) {
            lastHello = message;
            redirects = 0;
        }
        if (ready && (overflowed || !call.isReady() && !mayWait(message))) {
            // the stream is stalled, even if it became ready again since: the core resumes (it kept
            // this message) or the stream breaks
            return;
        }
        toPager.onNext(message);
    }

    /**
     * Core thread: {@code message} is to go on a stream that takes nothing now (the pager has not
     * read what is on its way). Counts it against the bounds; false once they are passed.
     */
    private boolean mayWait(KernelToPager message) {
        if (overflowed) {
            return false;
        }
        if (!waiting) {
            waiting = true;
            waitingBytes = 0;
            long wait = ++waits;
            int current = stream;
            loop.schedule(() -> {
                if (current == stream && wait == waits && waiting && !overflowed && !call.isReady()) {
                    stalled(current, "the pager has not read what waits on the stream for " + patienceNanos / 1_000_000
                            + " ms (gRPC's flow control: the stream takes no more)");
                }
            }, patienceNanos, TimeUnit.NANOSECONDS);
        }
        if (!resending) {
            waitingBytes += message.getSerializedSize();
        }
        if (waitingBytes > maxUnsentBytes) {
            overflowed = true;
            int current = stream;
            String why = "more than " + maxUnsentBytes + " bytes of messages wait on the stream: the pager does not "
                    + "read it (gRPC's flow control: the stream takes no more)";
            loop.execute(() -> stalled(current, why)); // not inside the core's own send
            return false;
        }
        return true;
    }

    /**
     * Core thread: stream {@code which} passed a bound for a pager that does not read it. Nothing
     * more is written on it; the core resumes the session on a new connection (this stream stays
     * open, unread, until the pager takes the resume: xp-spec 4.7), or else it is cancelled, and
     * ends as a broken stream does (the kernel reclaims, or without a lease its session is over).
     */
    private void stalled(int which, String why) {
        if (which != stream || aborted) {
            return;
        }
        overflowed = true;
        if (!core.onStreamStalled(pager, why)) {
            call.cancel(why, null);
        }
    }

    /** Whether this pager has several replicas. */
    boolean replicated() {
        return targets.size() > 1;
    }

    /** Core thread, after a stream failed without the pager's word: the next connection tries the next replica. */
    private void nextTarget() {
        target = choice.next(target);
    }

    /** Core thread: a resume here went unanswered (see SessionResume): the next goes to the next replica. */
    boolean nextReplica() {
        if (replicated()) {
            nextTarget();
        }
        return replicated();
    }

    /** The most redirects followed for one hello before the kernel lets its own retries decide. */
    private static final int MAX_REDIRECTS = 8;
    /** How long the kernel waits when a replica knows no leader yet (an election is under way). */
    private static final long NO_LEADER_WAIT_MILLIS = 50;

    /**
     * Core thread: a replica that does not lead answered the hello with pager_redirect (xp-spec
     * 13): the same hello goes to the leader it names on a new stream, or, while it knows none,
     * to the next replica after a short wait. The core sees none of this: it sees a welcome or a
     * refusal, as from an unreplicated pager.
     */
    private void redirected(io.machxp.proto.xp.PagerRedirect r) {
        KernelToPager hello = lastHello;
        if (hello == null || ++redirects > MAX_REDIRECTS) {
            return; // the stream's end reports it broken, and the core's retries decide
        }
        int count = redirects;
        int redirectedStream = ++stream; // the follower's stream (it ends now) is not this link's any more
        if (r.getLeader().isEmpty()) {
            nextTarget();
            loop.schedule(() -> {
                // Unless the core opened a stream meanwhile (its next resume attempt, say): a stale
                // hello sent now would replace that stream, and the pager would refuse its attempt
                // number as not above the one it took from the newer hello.
                if (stream == redirectedStream && lastHello == hello) {
                    sendAgain(hello, count);
                }
            }, NO_LEADER_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            target = r.getLeader();
            choice.leader(target);
            sendAgain(hello, count);
        }
    }

    private void sendAgain(KernelToPager hello, int count) {
        if (aborted || channel.isShutdown()) {
            return;
        }
        connect(false);
        send(hello);
        redirects = count;
    }

    /** The pager's own refusal ends the session; anything else is a broken stream the core may mend. */
    private void lost(Throwable t) {
        String reason = t.getMessage();
        if (!fromPager(t) && replicated() && !welcomed.isDone() && lastHello != null && redirects < MAX_REDIRECTS) {
            // The first hello found no replica to take it (down, or not reachable): the next replica
            // is tried a moment later, as after a redirect that names no leader (xp-spec 13.2),
            // rather than failing the kernel's start because the first replica it names is down.
            redirected(io.machxp.proto.xp.PagerRedirect.getDefaultInstance());
            return;
        }
        if (!fromPager(t) && replicated()) {
            nextTarget();
        }
        if (core.onResumeFailed(pager, reason, fromPager(t))) {
            return; // the resume's stream: the core decides (see SessionResume)
        }
        if (!welcomed.isDone()) {
            welcomed.completeExceptionally(new NotWelcomed(reason, errno(t), t));
        }
        if (aborted || fromPager(t)) {
            core.onPagerLost(pager, reason);
        } else {
            core.onStreamBroken(pager, reason);
        }
    }

    /** Whether the call ended with a status the pager made (a machxp errno in its details). */
    static boolean fromPager(Throwable t) {
        return errno(t) != null;
    }

    /** The machxp errno (ErrorInfo reason) of the status the call ended with, or null if the pager gave none. */
    private static String errno(Throwable t) {
        com.google.rpc.Status status = io.grpc.protobuf.StatusProto.fromThrowable(t);
        if (status == null) {
            return null;
        }
        for (com.google.protobuf.Any detail : status.getDetailsList()) {
            if (detail.is(com.google.rpc.ErrorInfo.class)) {
                try {
                    return detail.unpack(com.google.rpc.ErrorInfo.class).getReason();
                } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                    return "";
                }
            }
        }
        return null;
    }

    /**
     * Why the session could not open: the pager's refusal ({@code errno} its reason, e.g. EAGAIN
     * while an earlier session of the name waits for its lease) or a stream that broke before the
     * welcome ({@code errno} null: the pager is not up or not reachable).
     */
    static final class NotWelcomed extends IllegalStateException {
        final String errno;

        NotWelcomed(String reason, String errno) {
            this(reason, errno, null);
        }

        /** With the stream's failure as the cause (a caller tells an unreachable pager from a refusal by it). */
        NotWelcomed(String reason, String errno, Throwable cause) {
            super(reason, cause);
            this.errno = errno;
        }
    }

    /** Core thread: stops this link for good without waiting (its session is over); idempotent. */
    void dispose() {
        aborted = true;
        if (toPager instanceof ClientCallStreamObserver<KernelToPager> call) {
            call.cancel("the kernel's session is over", null);
        }
        closeAllButCurrent();
        channel.shutdownNow();
    }

    /** Cuts the stream without a word to the pager, as a crashed kernel would. */
    void abort() {
        aborted = true;
        CompletableFuture<Void> cancelled = new CompletableFuture<>();
        loop.execute(() -> {
            if (toPager instanceof ClientCallStreamObserver<KernelToPager> call) {
                call.cancel("kernel crashed", null);
            }
            closeAllButCurrent();
            cancelled.complete(null);
        });
        cancelled.orTimeout(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS).exceptionally(e -> null).join();
        channel.shutdownNow();
    }

    /** The keepalive the clean end awaits the answer of ({@link EndBarrier}); null before the end. Core thread. */
    private io.machxp.kernel.core.EndBarrier endBarrier;
    /** True once that keepalive is answered, false if the stream ended first. */
    private final CompletableFuture<Boolean> endAnswered = new CompletableFuture<>();

    /**
     * Core thread, after the core's shutdown sent {@code barrier}'s keepalive on this stream:
     * completes true when the pager answers it or a later keepalive (what the kernel gave back is
     * stored, xp-spec 4.2), on whichever stream the session has then: a session with a lease that
     * stays open while ending ({@link KernelCore#ending}) is resumed or reclaimed over a broken
     * stream and sends a keepalive again. False if the stream ends and the session is not ending,
     * or when the core says it was lost for good ({@link #endOver}).
     */
    CompletableFuture<Boolean> awaitEndBarrier(io.machxp.kernel.core.EndBarrier barrier) {
        endBarrier = barrier;
        if (ended.isDone() && !core.ending(pager)) {
            endAnswered.complete(false);
        }
        return endAnswered;
    }

    /** Core thread: the ending session was lost for good: its end's barrier will not be answered. */
    void endOver() {
        endAnswered.complete(false);
    }

    /** The pager's address this link's stream goes to, for log lines. */
    String target() {
        return channelTarget;
    }

    /** Core thread: whether the stream is open (the core's shutdown then sends on it). */
    boolean streamOpen() {
        return toPager != null && !ended.isDone();
    }

    /**
     * Core thread, after the core's shutdown sent its returns and terminates: ends the stream.
     * What the pager still sends (a welcome that comes after a start gave up on it) is for a
     * session this kernel ended: ignored, as an old stream's is. False if it was gone already.
     */
    boolean halfClose() {
        try {
            toPager.onCompleted();
            stream++;
            return true;
        } catch (RuntimeException gone) {
            return false; // the stream is already gone
        }
    }

    /** Waits (until {@code deadline}, System.nanoTime, at most) until the pager has ended its side; then shuts the channel. */
    void awaitEnd(boolean halfClosed, long deadline) {
        if (halfClosed && !loop.inEventLoop()) {
            try {
                ended.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // the pager did not answer in time: close anyway
            }
        }
        channel.shutdown();
    }
}
