package io.machxp.pager.net;

import com.google.protobuf.CodedOutputStream;
import io.grpc.BindableService;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.machxp.proto.xp.PagerToKernel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * How the pager writes its XP messages into gRPC's frames: the same bytes as grpc-java's protobuf
 * marshaller, without its scratch buffer per message.
 *
 * <h2>Overview</h2>
 * grpc-java's marshaller has protobuf write each message through a {@code CodedOutputStream} over
 * gRPC's frame, which allocates a buffer of the message's size up to 4 KiB for every message sent:
 * 11% of what the core thread allocated under {@code machxp pager-efficiency} (JFR's allocation
 * samples; a 4 KiB array per page the pager sends). This one serializes each message into one
 * array kept per thread and hands gRPC that array's bytes in one write; messages over
 * {@link #KEPT_BYTES} get an array of their own, as before. The wire format is unchanged: the
 * bytes are protobuf's, and the length gRPC frames them with is the message's serialized size.
 * Parsing (kernels' side, tests) is grpc-java's.
 *
 * <p>{@link #bind} gives the XP service's definition with it as the response marshaller of
 * {@code Connect}; the handlers are the service's own.
 */
public final class PagerToKernelMarshaller implements MethodDescriptor.Marshaller<PagerToKernel> {
    /** The largest array kept per thread between messages (a page of 64 KiB and its header fit). */
    static final int KEPT_BYTES = 80 << 10;

    private static final MethodDescriptor.Marshaller<PagerToKernel> PROTOBUF =
            ProtoUtils.marshaller(PagerToKernel.getDefaultInstance());

    private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[4 << 10]);

    /** The XP service's definition, its responses written by this marshaller. */
    public static ServerServiceDefinition bind(BindableService service) {
        ServerServiceDefinition def = service.bindService();
        PagerToKernelMarshaller out = new PagerToKernelMarshaller();
        java.util.List<ServerMethodDefinition<?, ?>> methods = new java.util.ArrayList<>();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(def.getServiceDescriptor().getName())
                .setSchemaDescriptor(def.getServiceDescriptor().getSchemaDescriptor()); // kept for reflection
        for (ServerMethodDefinition<?, ?> m : def.getMethods()) {
            ServerMethodDefinition<?, ?> mine = withResponses(m, out);
            methods.add(mine);
            descriptor.addMethod(mine.getMethodDescriptor());
        }
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
        for (ServerMethodDefinition<?, ?> m : methods) {
            b.addMethod(m);
        }
        return b.build();
    }

    @SuppressWarnings("unchecked")
    private static <Q, R> ServerMethodDefinition<Q, R> withResponses(ServerMethodDefinition<Q, R> m,
            PagerToKernelMarshaller out) {
        MethodDescriptor<Q, R> d = m.getMethodDescriptor();
        if (!(d.getResponseMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p)
                || !(p.getMessagePrototype() instanceof PagerToKernel)) {
            return m;
        }
        MethodDescriptor<Q, R> mine = d.toBuilder(d.getRequestMarshaller(), (MethodDescriptor.Marshaller<R>) out).build();
        return ServerMethodDefinition.create(mine, m.getServerCallHandler());
    }

    @Override
    public InputStream stream(PagerToKernel value) {
        return new Serialized(value);
    }

    @Override
    public PagerToKernel parse(InputStream stream) {
        return PROTOBUF.parse(stream);
    }

    /** One message to write: its size known, drained into gRPC's frame in one write. */
    private final class Serialized extends InputStream implements Drainable, KnownLength {
        private PagerToKernel message;
        /** What read() reads, made only if gRPC reads instead of draining. */
        private ByteArrayInputStream read;

        Serialized(PagerToKernel message) {
            this.message = message;
        }

        @Override
        public int drainTo(OutputStream target) throws IOException {
            if (message == null) {
                return read == null ? 0 : drainRead(target);
            }
            int size = message.getSerializedSize();
            byte[] buf = size <= KEPT_BYTES ? kept(size) : new byte[size];
            CodedOutputStream coded = CodedOutputStream.newInstance(buf, 0, size);
            message.writeTo(coded);
            coded.checkNoSpaceLeft();
            target.write(buf, 0, size);
            message = null;
            return size;
        }

        private byte[] kept(int size) {
            byte[] buf = scratch.get();
            if (buf.length < size) {
                buf = new byte[Math.min(KEPT_BYTES, Math.max(size, 2 * buf.length))];
                scratch.set(buf);
            }
            return buf;
        }

        private int drainRead(OutputStream target) throws IOException {
            int n = read.available();
            read.transferTo(target);
            return n;
        }

        private ByteArrayInputStream reading() {
            if (read == null) {
                read = new ByteArrayInputStream(message == null ? new byte[0] : message.toByteArray());
                message = null;
            }
            return read;
        }

        @Override
        public int available() {
            return message != null ? message.getSerializedSize() : read == null ? 0 : read.available();
        }

        @Override
        public int read() {
            return reading().read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return reading().read(b, off, len);
        }
    }
}
