package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Attributes;
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
import io.machxp.kernel.ipc.NameOwner;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Review late3 A2, end to end through gRPC: one local process binding the source addresses
 * 127.0.0.2-5 made four peers, so four shares of the kernel's port names. Every loopback
 * address is now one host ({@link ClientPeer}), so they are one peer.
 */
class LoopbackPeersTest {
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
    void loopbackPlaintextClientsOfOneProcessAreOnePeer() throws Exception {
        List<Object> seen = new ArrayList<>();
        ServerServiceDefinition who = ServerServiceDefinition.builder("test.Who")
                .addMethod(WHO, ServerCalls.asyncUnaryCall((request, reply) -> {
                    synchronized (seen) {
                        seen.add(((NameOwner) CallerConnection.current()).peer());
                    }
                    reply.onNext(new byte[0]);
                    reply.onCompleted();
                })).build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addTransportFilter(CallerConnection.FILTER)
                .addService(ServerInterceptors.intercept(who, CallerConnection.INTERCEPTOR)).build().start();
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 2; i < 6; i++) {
            String source = "127.0.0." + i;
            channels.add(NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", server.getPort()))
                    .usePlaintext().localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
                        @Override
                        public SocketAddress createSocketAddress(SocketAddress remote, Attributes attrs) {
                            return new InetSocketAddress(source, 0);
                        }
                    }).build());
        }
        try {
            for (ManagedChannel c : channels) {
                ClientCalls.blockingUnaryCall(c, WHO, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS),
                        new byte[0]);
            }
        } finally {
            for (ManagedChannel c : channels) {
                c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertThat(seen).hasSize(4);
        assertThat(new HashSet<>(seen)).as("four loopback connections of one process: one peer (limits.md)").hasSize(1);
    }
}
