package io.machxp.bench.jmh;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

/**
 * What the benchmarks measure machxp against: bare gRPC on loopback, set up as the kernels and
 * the pager are (Netty, direct executor, plaintext), with raw bytes instead of protobuf. An empty
 * unary call, and an echo on a bidirectional stream.
 */
public final class Baseline implements AutoCloseable {
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
    private static final MethodDescriptor<byte[], byte[]> EMPTY = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("machxp.bench.Baseline/Empty")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    private static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING).setFullMethodName("machxp.bench.Baseline/Echo")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    private static final byte[] NOTHING = new byte[0];

    private final Server server;
    private final ManagedChannel channel;
    private final StreamObserver<byte[]> echoOut;
    private final SynchronousQueue<byte[]> echoIn = new SynchronousQueue<>();

    public Baseline() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor()
                .addService(ServerServiceDefinition.builder("machxp.bench.Baseline")
                        .addMethod(EMPTY, ServerCalls.asyncUnaryCall((request, out) -> {
                            out.onNext(NOTHING);
                            out.onCompleted();
                        }))
                        .addMethod(ECHO, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<byte[]>() {
                            @Override
                            public void onNext(byte[] value) {
                                out.onNext(value);
                            }

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted() {
                                out.onCompleted();
                            }
                        }))
                        .build())
                .build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        echoOut = ClientCalls.asyncBidiStreamingCall(channel.newCall(ECHO, CallOptions.DEFAULT), new StreamObserver<>() {
            @Override
            public void onNext(byte[] value) {
                try {
                    echoIn.put(value);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
    }

    /** One empty unary call. */
    public void emptyCall() {
        ClientCalls.blockingUnaryCall(channel, EMPTY, CallOptions.DEFAULT, NOTHING);
    }

    /** One round trip of {@code message} on the open bidirectional stream. */
    public byte[] echo(byte[] message) throws InterruptedException {
        echoOut.onNext(message);
        return echoIn.take();
    }

    @Override
    public void close() throws InterruptedException {
        echoOut.onCompleted();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
