package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
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
import org.junit.jupiter.api.Test;

/**
 * The unit a client's share of the kernel's port names is counted by (review F6): each gRPC
 * connection has one identity, the same for all its calls, and another connection another; both
 * belong to one peer, their host's (review gi F4).
 */
class CallerConnectionTest {
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

    @Test
    void eachConnectionIsOneCallerAndAnotherConnectionAnother() throws Exception {
        List<Object> seen = new ArrayList<>();
        ServerServiceDefinition who = ServerServiceDefinition.builder("test.Who")
                .addMethod(WHO, ServerCalls.asyncUnaryCall((request, out) -> {
                    synchronized (seen) {
                        seen.add(CallerConnection.current());
                    }
                    out.onNext(new byte[0]);
                    out.onCompleted();
                })).build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addTransportFilter(CallerConnection.FILTER)
                .addService(ServerInterceptors.intercept(who, CallerConnection.INTERCEPTOR)).build().start();
        ManagedChannel one = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        ManagedChannel two = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            for (ManagedChannel c : List.of(one, one, two, two)) {
                ClientCalls.blockingUnaryCall(c, WHO, CallOptions.DEFAULT, new byte[0]);
            }
        } finally {
            one.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            two.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(seen).hasSize(4).doesNotContainNull();
        assertThat(seen.get(1)).as("one connection, one caller").isSameAs(seen.get(0));
        assertThat(seen.get(3)).isSameAs(seen.get(2));
        assertThat(seen.get(2)).as("another connection, another caller").isNotSameAs(seen.get(0));
        assertThat(CallerConnection.current()).as("outside a call").isNull();
        // review gi F4: the connections of one host (and certificate: none here) are one peer
        assertThat(((io.machxp.kernel.ipc.NameOwner) seen.get(0)).peer())
                .isEqualTo(((io.machxp.kernel.ipc.NameOwner) seen.get(2)).peer())
                .isEqualTo(new ClientPeer("loopback", ""));
    }
}
