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
 * mutual TLS with the client's files, or plaintext anywhere when asked for explicitly. Each
 * status and statistics call has a deadline ({@link #DEFAULT_DEADLINE} unless given).
 */
public final class PagerAdminClient implements AutoCloseable {
    private final String target;
    private final ManagedChannel channel;
    private final PagerAdminGrpc.PagerAdminBlockingStub stub;
    /** Each unary call's deadline: a pager that accepts the connection and never answers does not hold the caller. */
    private final java.time.Duration deadline;

    /** The deadline of {@link #status} and {@link #statistics} unless another is given: 10 s. */
    public static final java.time.Duration DEFAULT_DEADLINE = java.time.Duration.ofSeconds(10);

    private PagerAdminClient(String target, Transport transport, java.time.Duration deadline) {
        this.target = target;
        this.channel = NettyChannelBuilder.forTarget(target, transport.channelCredentials(target, "a client")).build();
        this.stub = PagerAdminGrpc.newBlockingStub(channel);
        this.deadline = deadline;
    }

    private PagerAdminClient(String target, Transport transport) {
        this(target, transport, DEFAULT_DEADLINE);
    }

    /** The stub for one unary call: its deadline from now. */
    private PagerAdminGrpc.PagerAdminBlockingStub stub() {
        return stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
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

    /**
     * As {@link #connect(String, Transport)}, with {@code deadline} for each status and statistics
     * call (not the watch, a stream): one not answered within it fails with a {@link MachxpException}
     * whose {@link MachxpException#noAnswer} is true.
     */
    public static PagerAdminClient connect(String target, Transport transport, java.time.Duration deadline) {
        return new PagerAdminClient(target, transport, deadline);
    }

    public PagerStatisticsReply statistics() {
        return KernelClient.call(target, deadline, () -> stub().pagerStatistics(PagerStatisticsRequest.getDefaultInstance()));
    }

    /** What the pager knows now: sessions and leases, futexes with holders and waiters, pages and holders. */
    public io.machxp.proto.admin.PagerStatusReply status() {
        return KernelClient.call(target, deadline, () -> stub().pagerStatus(io.machxp.proto.admin.PagerStatusRequest.getDefaultInstance()));
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
