package io.machxp.client;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.proto.admin.PagerAdminGrpc;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatisticsRequest;
import io.machxp.proto.transport.TlsFiles;
import io.machxp.proto.transport.Transport;
import io.machxp.proto.transport.TransportException;
import java.util.concurrent.TimeUnit;

/**
 * Reads a pager's counters over gRPC. As {@link KernelClient}: plaintext to loopback only, else
 * mutual TLS with the client's files, or plaintext anywhere when asked for explicitly.
 */
public final class PagerAdminClient implements AutoCloseable {
    private final String target;
    private final ManagedChannel channel;
    private final PagerAdminGrpc.PagerAdminBlockingStub stub;

    private PagerAdminClient(String target, Transport transport) {
        this.target = target;
        this.channel = NettyChannelBuilder.forTarget(target, transport.channelCredentials(target, "a client")).build();
        this.stub = PagerAdminGrpc.newBlockingStub(channel);
    }

    /**
     * Plaintext, for a pager on this machine.
     *
     * @throws TransportException if the target is not a loopback address
     */
    public static PagerAdminClient connect(String target) {
        return new PagerAdminClient(target, Transport.LOOPBACK_PLAINTEXT);
    }

    /**
     * Mutual TLS with the client's certificate, key and CA.
     *
     * @throws TransportException if a file is unusable (one sentence naming it)
     */
    public static PagerAdminClient connect(String target, TlsFiles tls) {
        return new PagerAdminClient(target, Transport.mutualTls(tls));
    }

    /** A connection with the given transport: mutual TLS, plaintext on loopback, or plaintext anywhere. */
    public static PagerAdminClient connect(String target, Transport transport) {
        return new PagerAdminClient(target, transport);
    }

    public PagerStatisticsReply statistics() {
        return KernelClient.call(target, () -> stub.pagerStatistics(PagerStatisticsRequest.getDefaultInstance()));
    }

    /** What the pager knows now: sessions and leases, futexes with holders and waiters, pages and holders. */
    public io.machxp.proto.admin.PagerStatusReply status() {
        return KernelClient.call(target, () -> stub.pagerStatus(io.machxp.proto.admin.PagerStatusRequest.getDefaultInstance()));
    }

    /**
     * Opens a PagerWatch stream: {@code events} gets an event every {@code intervalMs} until the
     * returned handle is closed (or the stream fails: its onError, with the status as sent).
     */
    public AutoCloseable watch(int intervalMs, int maxMessages,
            io.grpc.stub.StreamObserver<io.machxp.proto.admin.PagerWatchEvent> events) {
        io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
        context.run(() -> PagerAdminGrpc.newStub(channel).pagerWatch(io.machxp.proto.admin.PagerWatchRequest
                .newBuilder().setIntervalMs(intervalMs).setMaxMessages(maxMessages).build(), events));
        return () -> context.cancel(null);
    }

    public String target() {
        return target;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
