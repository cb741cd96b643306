package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.lib.XpPager;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A kernel's clean end is a durability barrier (xp-spec 2.6): nothing the kernel gave back before
 * it ended is lost to a pager crash after it. The pager's store here holds its writes until the
 * test opens it, a disk that has not written yet: a pager that crashed then would lose them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CleanEndDurabilityTest {
    private static final int PAGE = 4096;

    private static PagerConfig config() {
        return PagerConfig.loopback(Map.of("obj", 4L * PAGE)).withLease(Duration.ZERO);
    }

    /**
     * The kernel returns its dirty page, terminates its object and sends a keepalive; it ends its
     * stream only once that keepalive is answered, which the pager does once the page is written.
     * Before, it ended the stream at once and its close returned with the page still unwritten.
     */
    @Test
    void aKernelsCloseReturnsOnlyOnceWhatItGaveBackIsStored() throws Exception {
        GatedStore store = new GatedStore();
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger linksLog = (Logger) LoggerFactory.getLogger("io.machxp.kernel.PagerLinks");
        Level linksLevel = linksLog.getLevel();
        linksLog.setLevel(Level.INFO);
        logged.start();
        linksLog.addAppender(logged);
        try (AutoCloseable unwatched = () -> {
                    linksLog.detachAppender(logged);
                    linksLog.setLevel(linksLevel);
                };
                Pager pager = XpPager.serve(store).config(config()).start();
                AutoCloseable opened = store::open; // a failed check leaves no write waiting at the close
                // a close wait longer than the test's waits: only the answer can end the close in time
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", pager.target())
                        .withCloseWait(Duration.ofSeconds(120)));
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
            TaskClient task = client.taskCreate("writer");
            long base = task.vmMap("obj");
            task.writeLong(base + 24, 0x1234_5678_9abcL);
            long keepalives = pager.stats().keepalives(); // none: no lease
            CompletableFuture<Void> closing = OwnThreads.run("kernel-close", kernel::close);

            // The page's write waits at the store; the kernel has either ended its stream (the
            // pager forgot its session) or sent a keepalive after its return and waits for it.
            await().atMost(Duration.ofSeconds(30)).until(() -> store.held() > 0
                    && (pager.kernels().isEmpty() || pager.stats().keepalives() > keepalives));
            assertThat(pager.kernels()).as("the kernel did not end its stream while its return was not stored")
                    .containsExactly("A");
            assertThat(closing).as("its close waits for the store").isNotDone();

            store.open();
            closing.get(30, TimeUnit.SECONDS);
            assertThat(pager.kernels()).as("the stream ended once the keepalive was answered").isEmpty();
            assertThat(logged.list).as("the answer ended the close's wait, not its bound")
                    .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        }
        byte[] stored = store.stored("obj", 0);
        assertThat(stored).as("the page is in the store").isNotNull();
        assertThat(ByteBuffer.wrap(stored).order(ByteOrder.LITTLE_ENDIAN).getLong(24)).isEqualTo(0x1234_5678_9abcL);
    }

    /**
     * A kernel that ends its stream right after its return (no keepalive before: an older kernel,
     * or another's): the pager ends its side only once the return is written, so a kernel that
     * waits for that end before it drops its copies drops none that the store does not have.
     */
    @Test
    void aPagerEndsACleanlyEndedStreamOnlyOnceItsReturnsAreStored() throws Exception {
        GatedStore store = new GatedStore();
        byte[] data = new byte[PAGE];
        Arrays.fill(data, (byte) 7);
        try (Pager pager = XpPager.serve(store).config(config()).start();
                AutoCloseable opened = store::open) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext().build();
            try {
                CompletableFuture<byte[]> storedAtEnd = returnAndEnd(channel, store, data);
                // The pager has the end (it forgot the session) while the write waits at the store.
                await().atMost(Duration.ofSeconds(30)).until(() -> store.held() > 0 && pager.kernels().isEmpty());
                store.open();
                byte[] atEnd = storedAtEnd.get(30, TimeUnit.SECONDS);
                assertThat(atEnd.length).as("the page was stored when the pager ended its side").isEqualTo(PAGE);
                assertThat(Arrays.equals(atEnd, data)).as("the stored page is the one returned").isTrue();
            } finally {
                channel.shutdownNow();
            }
        }
    }

    /**
     * A store that does not write within the pager's bound: the pager ends the stream anyway, but
     * UNAVAILABLE, saying that not all is stored, so a kernel that relies on the pager's end does
     * not take it for the store's word. Before, it ended OK, as if the write were done.
     */
    @Test
    void aPagerWhoseStoreDoesNotWriteInTimeEndsTheStreamUnavailable() throws Exception {
        GatedStore store = new GatedStore();
        byte[] data = new byte[PAGE];
        Arrays.fill(data, (byte) 9);
        try (Pager pager = XpPager.serve(store).config(config()).start();
                AutoCloseable opened = store::open) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext().build();
            try {
                CompletableFuture<byte[]> storedAtEnd = returnAndEnd(channel, store, data);
                // the store stays shut: the pager's bound ends the stream
                assertThat(storedAtEnd).failsWithin(Duration.ofSeconds(30)).withThrowableThat()
                        .havingRootCause().isInstanceOf(io.grpc.StatusRuntimeException.class)
                        .withMessageContaining("UNAVAILABLE").withMessageContaining("not all of it is stored");
                assertThat(store.stored("obj", 0)).as("the write still waits").isNull();
            } finally {
                channel.shutdownNow();
            }
        }
    }

    /**
     * A kernel of its own on {@code channel}: one page read, returned dirty with {@code data}, its
     * object terminated, the stream ended without a keepalive before. Completes with what the
     * store holds of the page when the pager ends its side (empty: nothing), or with its error.
     */
    private static CompletableFuture<byte[]> returnAndEnd(ManagedChannel channel, GatedStore store, byte[] data)
            throws InterruptedException {
        LinkedBlockingQueue<PagerToKernel> in = new LinkedBlockingQueue<>();
        CompletableFuture<byte[]> storedAtEnd = new CompletableFuture<>();
        StreamObserver<KernelToPager> out = MemoryObjectPagerGrpc.newStub(channel).connect(
                new StreamObserver<>() {
                    @Override
                    public void onNext(PagerToKernel m) {
                        in.add(m);
                    }

                    @Override
                    public void onError(Throwable t) {
                        storedAtEnd.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        byte[] page = store.stored("obj", 0);
                        storedAtEnd.complete(page == null ? new byte[0] : page);
                    }
                });
        out.onNext(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("old")
                .setProtocolVersion(1)).build());
        out.onNext(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                .setObjectId(1).setName("obj").setPageSize(PAGE)).build());
        out.onNext(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(1).setOffset(0).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_READ_WRITE))
                .build());
        for (PagerToKernel m = next(in); !m.hasMemoryObjectDataSupply()
                && !m.hasMemoryObjectDataUnavailable(); m = next(in)) {
            // the welcome and the object's ready come first
        }
        out.onNext(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(1).setOffset(0).setData(ByteString.copyFrom(data)).setDirty(true).setVersion(1))
                .build());
        out.onNext(KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder()
                .setObjectId(1)).build());
        out.onCompleted();
        return storedAtEnd;
    }

    private static PagerToKernel next(LinkedBlockingQueue<PagerToKernel> in) throws InterruptedException {
        PagerToKernel m = in.poll(30, TimeUnit.SECONDS);
        assertThat(m).as("an answer from the pager").isNotNull();
        return m;
    }
}
