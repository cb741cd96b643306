package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pager's own response marshaller writes exactly protobuf's bytes, with the length gRPC frames
 * them by, for small messages, pages and messages larger than the array it keeps, one after the
 * other on one thread (the kept array reused), and when gRPC reads the stream instead of draining
 * it; and the XP service bound with it has it as {@code Connect}'s response marshaller, the
 * handler the service's.
 */
class PagerToKernelMarshallerTest {
    private static PagerToKernel supply(int bytes, long seed) {
        byte[] data = new byte[bytes];
        new Random(seed).nextBytes(data);
        return PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(3).setOffset(8192).setData(ByteString.copyFrom(data)).setVersion(seed)).build();
    }

    private static final List<PagerToKernel> MESSAGES = List.of(
            PagerToKernel.getDefaultInstance(),
            PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                    .setObjectId(1).setOffset(64).setFencingToken(1L << 40).setOwnerDied(true)).build(),
            supply(4096, 1),
            supply(100, 2), // shorter than the page before it, in the same kept array
            supply(PagerToKernelMarshaller.KEPT_BYTES + 1, 3),
            supply(64 << 10, 4),
            supply(10, 5));

    @Test
    void drainsProtobufsBytesWithTheirLength() throws Exception {
        PagerToKernelMarshaller marshaller = new PagerToKernelMarshaller();
        for (PagerToKernel m : MESSAGES) {
            InputStream in = marshaller.stream(m);
            assertThat(in).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
            assertThat(in.available()).isEqualTo(m.getSerializedSize());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(((Drainable) in).drainTo(out)).isEqualTo(m.getSerializedSize());
            assertThat(out.toByteArray()).isEqualTo(m.toByteArray());
            assertThat(marshaller.parse(new java.io.ByteArrayInputStream(out.toByteArray()))).isEqualTo(m);
            assertThat(in.available()).isZero();
        }
    }

    @Test
    void readsProtobufsBytesWhenNotDrained() throws Exception {
        PagerToKernelMarshaller marshaller = new PagerToKernelMarshaller();
        for (PagerToKernel m : MESSAGES) {
            InputStream in = marshaller.stream(m);
            assertThat(in.readAllBytes()).isEqualTo(m.toByteArray());
        }
        InputStream partly = marshaller.stream(MESSAGES.get(2));
        byte[] first = new byte[10];
        assertThat(partly.read(first, 0, 10)).isEqualTo(10);
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        int drained = ((Drainable) partly).drainTo(rest);
        assertThat(drained).isEqualTo(MESSAGES.get(2).getSerializedSize() - 10);
        assertThat(rest.toByteArray()).isEqualTo(java.util.Arrays.copyOfRange(MESSAGES.get(2).toByteArray(), 10,
                MESSAGES.get(2).getSerializedSize()));
    }

    @Test
    void theXpServiceIsBoundWithIt() {
        MemoryObjectPagerGrpc.MemoryObjectPagerImplBase service = new MemoryObjectPagerGrpc.MemoryObjectPagerImplBase() {
            @Override
            public StreamObserver<KernelToPager> connect(StreamObserver<PagerToKernel> toKernel) {
                return null;
            }
        };
        ServerServiceDefinition plain = service.bindService();
        ServerServiceDefinition bound = PagerToKernelMarshaller.bind(service);
        assertThat(bound.getServiceDescriptor().getName()).isEqualTo(plain.getServiceDescriptor().getName());
        assertThat(bound.getMethods()).hasSameSizeAs(plain.getMethods());
        assertThat(bound.getServiceDescriptor().getSchemaDescriptor())
                .isSameAs(plain.getServiceDescriptor().getSchemaDescriptor());
        String connect = MemoryObjectPagerGrpc.getConnectMethod().getFullMethodName();
        MethodDescriptor<?, ?> d = bound.getMethod(connect).getMethodDescriptor();
        assertThat(d.getResponseMarshaller()).isInstanceOf(PagerToKernelMarshaller.class);
        assertThat(d.getRequestMarshaller()).isSameAs(MemoryObjectPagerGrpc.getConnectMethod().getRequestMarshaller());
        assertThat(d.getType()).isEqualTo(MethodDescriptor.MethodType.BIDI_STREAMING);
        assertThat(bound.getMethod(connect).getServerCallHandler().getClass())
                .isSameAs(plain.getMethod(connect).getServerCallHandler().getClass());
    }
}
