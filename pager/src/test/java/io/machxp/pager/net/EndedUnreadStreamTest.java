package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A kernel that asks for pages and never reads is ended (EAGAIN) once it has read nothing for the
 * pager's patience; what the pager had for it is dropped then, not left in gRPC's buffers behind
 * the status. Before, all of it stayed buffered at the pager until the kernel read or its
 * connection closed (here the kernel read 24 MiB after its session had ended), so ending a session
 * for not reading freed nothing, and a kernel could do it again on a new stream, sixteen streams a
 * connection, any number of connections. The pager's patience is 1 s here (10 s by default): what
 * is checked is what the kernel gets once it has been ended, not how long the pager waited.
 */
class EndedUnreadStreamTest {
    private static final int PAGE = 4096;
    private static final long OBJECT = 8L << 20;
    private static final long PART = 1L << 20;
    /** The kernel's HTTP/2 window: what the pager may send before the kernel reads. */
    private static final int WINDOW = 64 << 10;
    /** The pager's bounds for a kernel that does not read: 1 s of patience, the default bytes (24 MiB wait at most). */
    private static final UnreadLimits LIMITS = new UnreadLimits(Duration.ofSeconds(1), UnreadLimits.DEFAULT.maxBytes());

    @Test
    void whatWaitsForAKernelEndedForNotReadingIsDroppedNotBuffered() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("big", OBJECT)).withLease(Duration.ZERO)
                .withUnreadLimits(LIMITS));
                ProbeKernel writer = new ProbeKernel(pager.target())) {
            fill(writer); // every page has data: each answer below carries a page
            ManagedChannel channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext()
                    .flowControlWindow(WINDOW).build();
            try {
                Unreading flood = new Unreading();
                StreamObserver<KernelToPager> out = MemoryObjectPagerGrpc.newStub(channel).connect(flood);
                out.onNext(ProbeKernel.hello("flood").build());
                out.onNext(init());
                // Its session exists before it asks for anything: otherwise, on a starved JVM, the
                // wait below for its absence can hold before its hello is applied; it then reads
                // everything, nothing goes unread, and its stream never ends (a 30 s wait at :68).
                await().atMost(Duration.ofSeconds(60)).until(() -> pager.kernels().contains("flood"));
                for (int round = 0; round < 3; round++) { // 24 MiB of answers, far beyond its window
                    for (long at = 0; at < OBJECT; at += PART) {
                        out.onNext(request(at, VmProt.VM_PROT_READ));
                    }
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> !pager.kernels().contains("flood"));

                flood.call.request(Integer.MAX_VALUE); // it reads at last: what is left for it comes
                Throwable end = flood.end.get(30, TimeUnit.SECONDS);
                assertThat(end).as("the stream ends with the pager's status").isNotNull();
                assertThat(end.getMessage()).contains("RESOURCE_EXHAUSTED", "does not read its stream");
                assertThat(StatusProto.fromThrowable(end).getDetails(0).unpack(com.google.rpc.ErrorInfo.class)
                        .getReason()).isEqualTo("EAGAIN");
                // Its window, what gRPC takes while the call is ready (its on-ready threshold,
                // 32 KiB) and one message more; not the 24 MiB the pager had for it.
                assertThat(flood.bytes.get()).as("bytes the kernel got after its session ended")
                        .isLessThan(WINDOW + (256L << 10));
            } finally {
                channel.shutdownNow();
            }
        }
    }

    /** A kernel that asks gRPC for no message until told to. */
    private static final class Unreading implements ClientResponseObserver<KernelToPager, PagerToKernel> {
        volatile ClientCallStreamObserver<KernelToPager> call;
        final AtomicLong bytes = new AtomicLong();
        final CompletableFuture<Throwable> end = new CompletableFuture<>();

        @Override
        public void beforeStart(ClientCallStreamObserver<KernelToPager> c) {
            call = c;
            c.disableAutoRequestWithInitial(0);
        }

        @Override
        public void onNext(PagerToKernel m) {
            bytes.addAndGet(m.getSerializedSize());
        }

        @Override
        public void onError(Throwable t) {
            end.complete(t);
        }

        @Override
        public void onCompleted() {
            end.complete(null);
        }
    }

    /** A data_request of the 1 MiB at {@code at}, the most the pager answers in one. */
    private static KernelToPager request(long at, VmProt access) {
        return KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(1).setOffset(at).setLength(PART).setDesiredAccess(access)).build();
    }

    private static KernelToPager init() {
        return KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                .setName("big").setPageSize(PAGE)).build();
    }

    /** The writer takes every page writable and returns it dirty, so that the pager supplies data. */
    private static void fill(ProbeKernel writer) throws InterruptedException {
        writer.send(ProbeKernel.hello("writer").build());
        writer.await(PagerToKernel::hasPagerWelcome);
        writer.send(init());
        writer.await(PagerToKernel::hasMemoryObjectReady);
        for (long at = 0; at < OBJECT; at += PART) {
            writer.send(request(at, VmProt.VM_PROT_WRITE));
        }
        writer.barrier();
        byte[] data = new byte[PAGE];
        java.util.Arrays.fill(data, (byte) 0x5a);
        for (long at = 0; at < OBJECT; at += PAGE) {
            writer.send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                    .setObjectId(1).setOffset(at).setData(ByteString.copyFrom(data)).setDirty(true)
                    .setKernelCopy(false)).build());
        }
        writer.barrier();
    }
}
