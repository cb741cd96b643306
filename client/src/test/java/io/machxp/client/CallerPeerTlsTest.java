package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.machxp.cli.Machxp;
import io.machxp.kernel.ipc.NameOwner;
import io.machxp.kernel.net.CallerConnection;
import io.machxp.proto.transport.ClientPeer;
import io.machxp.proto.transport.TlsFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * With mutual TLS, the peer a kernel counts a client connection's port names by names the client's
 * certificate (review gi F4): two connections with one certificate are one peer, a connection
 * with another certificate of the CA another, on the same host.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CallerPeerTlsTest {
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

    @TempDir
    Path tmp;

    @Test
    void eachCertificateIsAPeerOfItsOwn() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(out));
        assertThat(cl.execute("certs", tmp.toString())).as(out.toString()).isZero();

        List<Object> seen = new ArrayList<>();
        ServerServiceDefinition who = ServerServiceDefinition.builder("test.Who")
                .addMethod(WHO, ServerCalls.asyncUnaryCall((request, reply) -> {
                    synchronized (seen) {
                        seen.add(((NameOwner) CallerConnection.current()).peer());
                    }
                    reply.onNext(new byte[0]);
                    reply.onCompleted();
                })).build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
                        TlsFiles.inDirectory(tmp, "kernel").serverCredentials())
                .addTransportFilter(CallerConnection.FILTER)
                .addService(ServerInterceptors.intercept(who, CallerConnection.INTERCEPTOR)).build().start();
        ChannelCredentials client = TlsFiles.inDirectory(tmp, "client").channelCredentials();
        List<ManagedChannel> channels = List.of(
                NettyChannelBuilder.forTarget("127.0.0.1:" + server.getPort(), client).build(),
                NettyChannelBuilder.forTarget("127.0.0.1:" + server.getPort(), client).build(),
                NettyChannelBuilder.forTarget("127.0.0.1:" + server.getPort(),
                        TlsFiles.inDirectory(tmp, "pager").channelCredentials()).build());
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
        assertThat(seen).hasSize(3);
        ClientPeer first = (ClientPeer) seen.get(0);
        assertThat(first.host()).isEqualTo("loopback");
        assertThat(first.certificate()).as("the client's certificate is part of its peer").isNotEmpty();
        assertThat(seen.get(1)).as("another connection, one certificate: one peer").isEqualTo(first);
        assertThat(seen.get(2)).as("another certificate: another peer").isNotEqualTo(first);
    }
}
