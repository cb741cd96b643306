package io.machxp.kernel.net;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A loopback gRPC server behind the kernel's {@link CallerConnection} filter and interceptor, with
 * one empty unary call that records, for each call, what {@code probe} says about its caller (the
 * connection's identity, its peer): the tests of how the kernel tells clients apart.
 */
final class WhoServer implements AutoCloseable {
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<byte[], byte[]> WHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Who/Who")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    private final List<Object> seen = new ArrayList<>();
    private final Server server;

    WhoServer(Supplier<Object> probe) throws IOException {
        ServerServiceDefinition who = ServerServiceDefinition.builder("test.Who")
                .addMethod(WHO, ServerCalls.asyncUnaryCall((request, out) -> {
                    synchronized (seen) {
                        seen.add(probe.get());
                    }
                    out.onNext(new byte[0]);
                    out.onCompleted();
                })).build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addTransportFilter(CallerConnection.FILTER)
                .addService(ServerInterceptors.intercept(who, CallerConnection.INTERCEPTOR)).build().start();
    }

    int port() {
        return server.getPort();
    }

    /**
     * How long one call may take: a hang's bound only. A call that is a channel's first also
     * connects (and, in a JVM's first, loads gRPC's client classes): on a starved JVM (load 50 on
     * 2 cores) that took longer than the 20 s this was, and the call failed DEADLINE_EXCEEDED.
     */
    private static final long CALL_BOUND_SECONDS = 120;

    /** One call on {@code channel}; what the probe said is added to {@link #seen}. */
    static void call(ManagedChannel channel) {
        ClientCalls.blockingUnaryCall(channel, WHO,
                CallOptions.DEFAULT.withDeadlineAfter(CALL_BOUND_SECONDS, TimeUnit.SECONDS), new byte[0]);
    }

    /** What the probe said, one entry per call, in the order the calls ran. */
    List<Object> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
