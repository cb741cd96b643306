package io.machxp.pager.net;

import static io.machxp.pager.net.ProbeKernel.reason;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How a Connect stream ends when a kernel breaks XP itself, as a kernel's gRPC sees it: the
 * statuses xp.proto documents at KernelToPager.
 */
class XpProtocolOverGrpcTest {
    /** Messages as raw bytes, so that a test can send what no KernelToPager encodes to. */
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
    private static final MethodDescriptor<byte[], byte[]> RAW_CONNECT = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(MemoryObjectPagerGrpc.getConnectMethod().getFullMethodName())
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    private Pager pager;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws IOException {
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", 1L << 20)).withLease(Duration.ZERO));
        channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext().build();
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
        pager.close();
    }

    /** Sends {@code messages} on a raw stream; the status it ends with (OK if it completes). */
    private com.google.rpc.Status endOf(byte[]... messages) throws Exception {
        CompletableFuture<Throwable> end = new CompletableFuture<>();
        StreamObserver<byte[]> out = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(RAW_CONNECT, CallOptions.DEFAULT), new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {}

                    @Override
                    public void onError(Throwable t) {
                        end.complete(t);
                    }

                    @Override
                    public void onCompleted() {
                        end.complete(null);
                    }
                });
        for (byte[] m : messages) {
            out.onNext(m);
        }
        Throwable t = end.get(30, TimeUnit.SECONDS);
        return t == null ? com.google.rpc.Status.getDefaultInstance() : StatusProto.fromThrowable(t);
    }

    private static byte[] hello(int version) {
        return KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("k")
                .setProtocolVersion(version)).build().toByteArray();
    }

    @Test
    void aVersionThePagerDoesNotSpeakIsUnimplementedAndNamesTheVersionItSpeaks() throws Exception {
        com.google.rpc.Status status = endOf(hello(3));
        assertThat(status.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED.value());
        assertThat(reason(status)).isEqualTo("EPROTONOSUPPORT");
        assertThat(status.getMessage()).contains("version 3").contains("speaks versions 1 and 2");
    }

    @Test
    void aMessageBeforeHelloIsAFailedPrecondition() throws Exception {
        com.google.rpc.Status status = endOf(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit
                .newBuilder().setObjectId(1).setName("obj").setPageSize(4096)).build().toByteArray());
        assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
        assertThat(reason(status)).isEqualTo("EPROTO");
    }

    @Test
    void aSecondHelloIsAFailedPrecondition() throws Exception {
        com.google.rpc.Status status = endOf(hello(1), hello(1));
        assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION.value());
        assertThat(reason(status)).isEqualTo("EPROTO");
    }

    @Test
    void anEmptyMessageIsAnInvalidArgument() throws Exception {
        com.google.rpc.Status status = endOf(hello(1), new byte[0]);
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
        assertThat(reason(status)).isEqualTo("EBADMSG");
    }

    /**
     * Bytes that are no KernelToPager never reach the pager: grpc-java's server fails to parse
     * them and ends the call itself, with the status checked here and documented in xp.proto.
     */
    @Test
    void undecodableBytesEndTheCallWithGrpcsOwnStatus() throws Exception {
        com.google.rpc.Status status = endOf(hello(1), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
        assertThat(status.getCode()).isEqualTo(Status.Code.UNKNOWN.value());
        assertThat(status.getMessage()).isEqualTo("Application error processing RPC");
        assertThat(reason(status)).as("no machxp errno: the pager never saw it").isNull();
    }
}
