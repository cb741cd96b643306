package io.machxp.kernel;

import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import java.util.concurrent.CompletableFuture;

/**
 * One XP stream of a {@link PagerLink}: one bidirectional gRPC call (Connect) to the pager, and
 * what the link needs to know of it. Core thread: its callbacks run on the core loop (see
 * {@link PagerChannels}).
 *
 * <h2>Overview</h2>
 * <pre>
 *  {@link #open}          OPENING: the link's current stream, numbered; the core's messages go on it
 *  onReady              READY: it has connected (gRPC can send on it; {@link StreamStall} hears
 *                       whether it takes more)
 *  pager_redirect       before any other message: the link follows it ({@link PagerRedirects});
 *                       after one, a protocol violation (xp-spec 3.6), logged and ignored
 *  any other message    ANSWERED: to the link, which gives it to the core (not once the stream
 *                       stalled: {@link StreamStall#overflowed})
 *  error, completion    ENDED: {@link #ended} completes; the link hears which
 * </pre>
 * The callbacks act only while the stream is the link's current one ({@link PagerLink#isCurrent}):
 * a new stream, a redirect and a half-close make it stale, and what it still reports is ignored.
 */
final class PagerStream implements ClientResponseObserver<KernelToPager, PagerToKernel> {
    /** Log lines keep the link's logger, as before the link's streams had a class of their own. */
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PagerLink.class);

    private final PagerLink link;
    private final StreamStall stall;
    private final String kernel;
    /** This stream's number at its link. */
    private final int number;
    /** Completes when this stream has ended, either way. */
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private StreamObserver<KernelToPager> toPager;
    /** Whether this stream has connected (gRPC said it is ready to send) while it was the current one. */
    private boolean ready;
    /**
     * Whether the pager has answered this stream's hello (any message but a redirect came on it):
     * a pager_redirect is taken only before that (xp-spec 13.2).
     */
    private boolean answered;

    /** @param kernel the kernel's name, for log lines */
    PagerStream(PagerLink link, StreamStall stall, String kernel, int number) {
        this.link = link;
        this.stall = stall;
        this.kernel = kernel;
        this.number = number;
    }

    /** Starts the call on {@code channel} (its observer is set before it starts: {@link #beforeStart}). */
    void open(ManagedChannel channel) {
        MemoryObjectPagerGrpc.newStub(channel).connect(this);
    }

    boolean ready() {
        return ready;
    }

    /** Any thread: completes when this stream has ended, either way. */
    CompletableFuture<Void> ended() {
        return ended;
    }

    void send(KernelToPager message) {
        toPager.onNext(message);
    }

    /** Ends the call at once (gRPC's cancel: the pager sees it end); a no-op for one that has ended already. */
    void cancel(String why) {
        if (toPager instanceof ClientCallStreamObserver<KernelToPager> call) {
            call.cancel(why, null);
        }
    }

    /** Half-closes the call: the kernel's side ends (throws if the call is gone already). */
    void halfClose() {
        toPager.onCompleted();
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<KernelToPager> started) {
        toPager = started; // what connect() returns; set here, so that it is there while the call starts
        stall.started(started);
        started.setOnReadyHandler(() -> {
            if (link.isCurrent(number)) {
                ready = true;
                stall.onReady(); // the pager read: the stream takes more again
            }
        });
    }

    @Override
    public void onNext(PagerToKernel message) {
        if (!link.isCurrent(number) || link.stalledNow()) {
            // a stale stream, or a stalled one: the kernel takes nothing more from it (what the
            // pager sent there and the kernel did not count, a resume's welcome has it send again)
            return;
        }
        if (message.hasPagerRedirect()) {
            if (answered) {
                // xp-spec 3.6: only the answer to a hello; mid-session it would move the session
                log.warn("kernel {}: protocol violation from the pager: a pager_redirect (to '{}') after the "
                        + "stream's hello was answered: a redirect answers a kernel_hello only; ignored",
                        kernel, message.getPagerRedirect().getLeader());
                return;
            }
            link.onRedirect(message.getPagerRedirect());
            return;
        }
        answered = true;
        link.onPagerMessage(message);
    }

    @Override
    public void onError(Throwable t) {
        ended.complete(null);
        if (link.isCurrent(number)) {
            link.onStreamFailed(t);
        }
    }

    @Override
    public void onCompleted() {
        ended.complete(null);
        if (link.isCurrent(number)) {
            link.onStreamCompleted();
        }
    }
}
