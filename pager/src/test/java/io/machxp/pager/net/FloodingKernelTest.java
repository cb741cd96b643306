package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A kernel that asks and never reads what the pager answers: once it has read nothing for the
 * pager's patience, the pager ends its session, and a kernel that behaves is served throughout;
 * a kernel that reads a burst of answers as they come is never ended. (Without a lease, so that the ended session is forgotten at once.)
 * The kernel that never reads is ended after a patience of 1 s (10 s by default): what is checked
 * is that it is ended while the other is served, not how long the pager waited.
 */
class FloodingKernelTest {
    private static final int PAGE = 4096;
    /** The flow-control window of the kernel that never reads. */
    private static final int WINDOW = 64 << 10;
    /** The pager's bounds for the kernel that never reads: 1 s of patience, the default bytes. */
    private static final UnreadLimits SHORT_PATIENCE = new UnreadLimits(Duration.ofSeconds(1),
            UnreadLimits.DEFAULT.maxBytes());

    /** A raw XP session; {@code reads} false: it never asks gRPC for a message. */
    static final class RawKernel implements AutoCloseable {
        final ManagedChannel channel;
        final StreamObserver<KernelToPager> out;
        final LinkedBlockingQueue<PagerToKernel> in = new LinkedBlockingQueue<>();

        RawKernel(String target, String name, boolean reads) {
            // A fixed window for a kernel that never reads: with gRPC's automatic window tuning
            // (BDP pings, on by default) the window grows in steps while data flows, and each step
            // lets the pager's stream take a little more - to the pager, a read that starts its
            // patience again, a few times over (one patience or more; several under load).
            NettyChannelBuilder builder = NettyChannelBuilder.forTarget(target).usePlaintext();
            channel = (reads ? builder : builder.flowControlWindow(WINDOW)).build();
            out = MemoryObjectPagerGrpc.newStub(channel).connect(new ClientResponseObserver<KernelToPager, PagerToKernel>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<KernelToPager> call) {
                    if (!reads) {
                        call.disableAutoRequestWithInitial(0);
                    }
                }

                @Override
                public void onNext(PagerToKernel m) {
                    in.add(m);
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            });
            out.onNext(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                    .setProtocolVersion(1)).build());
            out.onNext(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                    .setObjectId(1).setName("big").setPageSize(PAGE)).build());
        }

        PagerToKernel next() throws InterruptedException {
            PagerToKernel m = in.poll(30, TimeUnit.SECONDS);
            assertThat(m).as("an answer from the pager").isNotNull();
            return m;
        }

        @Override
        public void close() {
            channel.shutdownNow();
        }
    }

    @Test
    void aKernelThatNeverReadsIsEndedAndAnotherIsServedMeanwhile() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("big", 256L << 20))
                .withLease(Duration.ZERO) // raw kernels send no keepalives
                .withUnreadLimits(SHORT_PATIENCE));

                RawKernel flood = new RawKernel(pager.target(), "flood", false);
                RawKernel good = new RawKernel(pager.target(), "good", true)) {
            assertThat(good.next().hasPagerWelcome()).isTrue();
            assertThat(good.next().hasMemoryObjectReady()).isTrue();
            // The kernel's gRPC buffers up to its flow-control window (64 KiB) unread, and gRPC at
            // the pager its on-ready threshold (32 KiB) more; answers of a page nobody wrote are
            // small (tens of bytes), so it takes thousands before the pager must queue: 16,384 are
            // several times that.
            for (int page = 0; page < 16_384; page++) {
                flood.out.onNext(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest
                        .newBuilder().setObjectId(1).setOffset((long) page * PAGE).setLength(PAGE)
                        .setDesiredAccess(VmProt.VM_PROT_READ)).build());
            }
            good.out.onNext(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                    .setObjectId(1).setOffset(0)).build());
            assertThat(good.next().hasMemoryObjectFutexGranted()).isTrue();

            await().atMost(Duration.ofSeconds(60)).until(() -> !pager.kernels().contains("flood"));
            assertThat(pager.kernels()).containsExactly("good");
        }
    }

    @Test
    void aKernelThatReadsABurstOfAnswersAsTheyComeIsNeverEnded() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("big", 256L << 20)).withLease(Duration.ZERO));
                RawKernel reader = new RawKernel(pager.target(), "reader", true)) {
            int pages = 40_000;
            for (int page = 0; page < pages; page++) {
                reader.out.onNext(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest
                        .newBuilder().setObjectId(1).setOffset((long) page * PAGE).setLength(PAGE)
                        .setDesiredAccess(VmProt.VM_PROT_READ)).build());
            }
            for (int i = 0; i < pages + 2; i++) { // welcome, ready, then an answer per page
                reader.next();
            }
            assertThat(pager.kernels()).containsExactly("reader");
        }
    }
}
