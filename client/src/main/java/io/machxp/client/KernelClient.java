package io.machxp.client;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.proto.task.KernelStatisticsReply;
import io.machxp.proto.task.KernelStatisticsRequest;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskCreateRequest;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A connection to one kernel's task interface. Thread-safe; all calls share one HTTP/2
 * connection. Every failure is a {@link MachxpException}.
 *
 * <pre>{@code
 * try (KernelClient kernel = KernelClient.connect("127.0.0.1:7071")) {
 *     TaskClient task = kernel.taskCreate("worker");
 *     long base = task.vmMap("shared");
 *     ThreadClient thread = task.threadCreate();
 *     thread.lockFutex(base);
 *     try { ... } finally { thread.unlockFutex(base); }
 * }
 * }</pre>
 */
public final class KernelClient implements AutoCloseable {
    private final String target;
    private final ManagedChannel channel;
    final MachTaskGrpc.MachTaskBlockingStub stub;
    final MachTaskGrpc.MachTaskStub async;

    private KernelClient(String target) {
        this.target = target;
        this.channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        this.stub = MachTaskGrpc.newBlockingStub(channel);
        this.async = MachTaskGrpc.newStub(channel);
    }

    /** @param target the kernel's task interface, "host:port" */
    public static KernelClient connect(String target) {
        return new KernelClient(target);
    }

    public String target() {
        return target;
    }

    public TaskClient taskCreate(String name) {
        long id = call(() -> stub.taskCreate(TaskCreateRequest.newBuilder().setName(name).build())).getTask();
        return new TaskClient(this, id);
    }

    /** The kernel's counters: XP messages it sent and received, acquisitions by path. */
    public KernelStatisticsReply statistics() {
        return call(() -> stub.kernelStatistics(KernelStatisticsRequest.getDefaultInstance()));
    }

    static <T> T call(Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw MachxpException.from(e);
        }
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
