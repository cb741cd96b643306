package io.machxp.kernel;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
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
 * The kernel's XP stream to its pager: one bidirectional gRPC call whose I/O and callbacks both
 * run on the kernel's core event loop, so messages from the pager enter the core without another
 * hop, and the core sends on the stream from that same thread.
 *
 * <p>The call executor is not gRPC's direct executor: until name resolution finishes, a call is
 * buffered and its first callbacks (the pager's welcome among them) are replayed by whichever
 * thread completes the resolution, which would enter the core from a foreign thread. The
 * executor below runs a callback inline when it is already on the core loop, and hands it to
 * the loop otherwise.
 */
final class PagerLink {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PagerLink.class);
    private static final long CLOSE_WAIT_SECONDS = 5;
    private final ManagedChannel channel;
    private final EventLoop loop;
    private final KernelCore core;
    private final CompletableFuture<Integer> welcomed = new CompletableFuture<>();
    /** Completes when the stream has ended, either way. */
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private StreamObserver<KernelToPager> toPager;

    /**
     * @param credentials mutual TLS or plaintext, already checked against the policy
     * @param coreGroup the core's one-thread group: the channel's I/O and its callbacks both run on it
     */
    PagerLink(String target, ChannelCredentials credentials, EventLoopGroup coreGroup, KernelCore core) {
        this.loop = coreGroup.next();
        this.core = core;
        this.channel = NettyChannelBuilder.forTarget(target, credentials)
                .eventLoopGroup(coreGroup).channelType(NioSocketChannel.class).executor(this::onLoop).build();
    }

    private void onLoop(Runnable callback) {
        if (loop.inEventLoop()) {
            callback.run();
        } else {
            loop.execute(callback);
        }
    }

    /** Opens the stream and sends kernel_hello; the future completes with the kernel id. */
    CompletableFuture<Integer> open() {
        loop.execute(() -> {
            toPager = MemoryObjectPagerGrpc.newStub(channel).connect(new StreamObserver<>() {
                @Override
                public void onNext(PagerToKernel message) {
                    try {
                        core.onXp(message);
                    } catch (RuntimeException | Error e) {
                        log.error("kernel {}: failed on {} from the pager", core.name(), message.getRoutineCase(), e);
                        throw e;
                    }
                    if (message.hasPagerWelcome()) {
                        welcomed.complete(core.kernelId());
                    }
                }

                @Override
                public void onError(Throwable t) {
                    lost(t.getMessage());
                }

                @Override
                public void onCompleted() {
                    lost("the pager ended the session");
                }
            });
            core.start();
        });
        return welcomed;
    }

    /** Core thread only. */
    void send(KernelToPager message) {
        toPager.onNext(message);
    }

    private void lost(String reason) {
        ended.complete(null);
        welcomed.completeExceptionally(new IllegalStateException(reason));
        core.onPagerLost(reason);
    }

    /** Cuts the stream without a word to the pager, as a crashed kernel would. */
    void abort() {
        CompletableFuture<Void> cancelled = new CompletableFuture<>();
        loop.execute(() -> {
            if (toPager instanceof ClientCallStreamObserver<KernelToPager> call) {
                call.cancel("kernel crashed", null);
            }
            cancelled.complete(null);
        });
        cancelled.orTimeout(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS).exceptionally(e -> null).join();
        channel.shutdownNow();
    }

    /**
     * Returns dirty pages, terminates every object and ends the stream; waits (a few seconds at
     * most) until the pager has ended its side, so that what the kernel sent has arrived.
     */
    void close() {
        CompletableFuture<Boolean> halfClosed = new CompletableFuture<>();
        loop.execute(() -> {
            boolean open = toPager != null && !ended.isDone();
            if (open) {
                try {
                    core.shutdown();
                    toPager.onCompleted();
                } catch (RuntimeException gone) {
                    open = false; // the stream is already gone
                }
            }
            halfClosed.complete(open);
        });
        if (!loop.inEventLoop()) {
            try {
                if (halfClosed.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    ended.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // the pager did not answer in time: close anyway
            }
        }
        channel.shutdown();
    }
}
