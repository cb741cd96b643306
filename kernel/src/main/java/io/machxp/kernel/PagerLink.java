package io.machxp.kernel;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.machxp.kernel.core.KernelCore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;

/**
 * The kernel's XP stream to its pager: one bidirectional gRPC call, its callbacks run on the
 * kernel's core event loop (the channel's executor), so messages from the pager enter the core
 * without another hop, and the core sends on the stream from that same thread.
 */
final class PagerLink {
    private final ManagedChannel channel;
    private final EventLoop loop;
    private final KernelCore core;
    private final CompletableFuture<Integer> welcomed = new CompletableFuture<>();
    private StreamObserver<KernelToPager> toPager;

    PagerLink(String target, EventLoop loop, KernelCore core) {
        this.loop = loop;
        this.core = core;
        this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().executor(loop).build();
    }

    /** Opens the stream and sends kernel_hello; the future completes with the kernel id. */
    CompletableFuture<Integer> open() {
        loop.execute(() -> {
            toPager = MemoryObjectPagerGrpc.newStub(channel).connect(new StreamObserver<>() {
                @Override
                public void onNext(PagerToKernel message) {
                    core.onXp(message);
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
        welcomed.completeExceptionally(new IllegalStateException(reason));
        core.onPagerLost(reason);
    }

    void close() {
        loop.execute(() -> {
            if (toPager != null) {
                try {
                    toPager.onCompleted();
                } catch (RuntimeException ignored) {
                    // the stream is already gone
                }
            }
        });
        channel.shutdown();
    }
}
