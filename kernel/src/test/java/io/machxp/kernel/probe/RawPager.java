package io.machxp.kernel.probe;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.PagerKeepalive;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.VmProt;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A pager written from xp.proto and xp-spec alone, for probing a kernel: a gRPC server on loopback
 * that answers only the routine parts a kernel needs to get going (hello with the welcome it is
 * given, init with ready, data_request with zeroed pages, keepalives), records what it reads and
 * sends on each stream, and lets a test send any PagerToKernel it likes, well formed or not.
 */
final class RawPager implements AutoCloseable {
    /** Pages of every object this pager serves. */
    static final int PAGE = 4096;
    static final long OBJECT_SIZE = 4L * PAGE;
    /**
     * What a kernel may send on a stream before the pager reads: a fixed window (gRPC's default
     * grows it with the bandwidth-delay product, to 8 MiB), so that a pager that stops reading
     * fills it soon.
     */
    static final int FLOW_CONTROL_WINDOW = 256 << 10;

    /** One Connect call from the kernel. */
    static final class Stream {
        /** What the pager read of this stream, in order (nothing once it is fenced). */
        final List<KernelToPager> received = new CopyOnWriteArrayList<>();
        volatile StreamObserver<PagerToKernel> toKernel;
        volatile boolean ended;
        /**
         * Messages sent to the kernel on this stream, in the order they went (the welcome
         * included): each is recorded before it goes, so whatever the kernel has had of the stream
         * is here, whichever thread sent it (a test's, or the pager's own answers).
         */
        final List<PagerToKernel> sent = new CopyOnWriteArrayList<>();
        /** Whether the pager reads the stream: it asks gRPC for one message at a time while it does. */
        private volatile boolean reading = true;
        /** Guards {@link #fenced} against the recording of a message read. */
        private final Object reads = new Object();
        private boolean fenced;

        /** Sends a message to the kernel on this stream. */
        synchronized void send(PagerToKernel m) {
            sent.add(m);
            toKernel.onNext(m);
        }

        /**
         * The pager took a resume of this stream's session (xp-spec 4.7): in that one step it
         * fixes what it read here, the number its welcome names, and drops whatever still arrives
         * on this stream (a read asked for before {@link #stopReading} may still deliver one).
         *
         * @return the messages read on this stream, its kernel_hello included
         */
        long fence() {
            synchronized (reads) {
                fenced = true;
                return received.size();
            }
        }

        /** Records a message read; false if the stream is fenced, and the message is dropped. */
        private boolean read(KernelToPager m) {
            synchronized (reads) {
                if (fenced) {
                    return false;
                }
                received.add(m);
                return true;
            }
        }

        /**
         * The pager reads nothing more of this stream (it asks gRPC for no more messages): what the
         * kernel sends fills the stream's flow-control window, then waits in the kernel. It still sends.
         */
        void stopReading() {
            reading = false;
        }

        /** The pager reads this stream again (after {@link #stopReading}). */
        void startReading() {
            reading = true;
            readNext();
        }

        private void readNext() {
            if (reading && toKernel instanceof io.grpc.stub.ServerCallStreamObserver<PagerToKernel> call) {
                call.request(1);
            }
        }

        /** Ends this stream as a broken connection would (no status from the pager). */
        synchronized void breakIt() {
            toKernel.onError(io.grpc.Status.UNAVAILABLE.withDescription("cut by the probe").asRuntimeException());
        }

        /**
         * Ends this stream with the pager's own word (xp-spec 3.1): a status whose details carry
         * {@code errno} as the machxp ErrorInfo reason, as a pager that refuses a hello does.
         */
        synchronized void refuse(String errno, String why) {
            toKernel.onError(io.grpc.protobuf.StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                    .setCode(io.grpc.Status.Code.FAILED_PRECONDITION.value()).setMessage(errno + ": " + why)
                    .addDetails(com.google.protobuf.Any.pack(com.google.rpc.ErrorInfo.newBuilder().setDomain("machxp")
                            .setReason(errno).build()))
                    .build()));
        }

        long count(KernelToPager.RoutineCase routine) {
            return received.stream().filter(m -> m.getRoutineCase() == routine).count();
        }
    }

    final List<Stream> streams = new CopyOnWriteArrayList<>();
    /** The welcome each hello gets. */
    volatile PagerWelcome welcome = PagerWelcome.newBuilder().setKernelId(7).setPageSize(PAGE)
            .setPagerName("raw").build();
    /** Whether keepalives are answered. */
    volatile boolean answerKeepalives = true;
    /** Whether supplies are precious (the kernel returns a precious page's data even when clean, xp-spec 6.10). */
    volatile boolean supplyPrecious;
    /** Whether data_requests are answered. */
    volatile boolean answerData = true;
    /**
     * Whether memory_object_init is answered at once (false: it is held, and the vm_maps waiting
     * for the object stay in flight, until {@link #readyHeld}).
     */
    volatile boolean answerInits = true;
    private final List<Stream> heldInitStreams = new CopyOnWriteArrayList<>();
    private final List<KernelToPager> heldInits = new CopyOnWriteArrayList<>();

    /** Answers the inits held meanwhile with memory_object_ready, and those to come at once. */
    synchronized void readyHeld() {
        answerInits = true;
        for (int i = 0; i < heldInits.size(); i++) {
            answer(heldInitStreams.get(i), heldInits.get(i));
        }
        heldInits.clear();
        heldInitStreams.clear();
    }

    /** How many memory_object_init the pager holds unanswered now. */
    int heldInits() {
        return heldInits.size();
    }

    /** Whether a hello is answered with {@link #welcome} (false: the test answers it itself). */
    volatile boolean answerHello = true;
    private final Server server;

    RawPager() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .flowControlWindow(FLOW_CONTROL_WINDOW)
                // as the real pager: the kernel's HTTP/2 pings (every 10 s) are no abuse, and no
                // GOAWAY (too_many_pings) breaks a test's streams after half a minute
                .permitKeepAliveTime(5, java.util.concurrent.TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true)
                .addService(new MemoryObjectPagerGrpc.MemoryObjectPagerImplBase() {
                    @Override
                    public StreamObserver<KernelToPager> connect(StreamObserver<PagerToKernel> toKernel) {
                        Stream s = new Stream();
                        s.toKernel = toKernel;
                        streams.add(s);
                        // reads one message at a time, and none once the test stops it (Stream.stopReading)
                        ((io.grpc.stub.ServerCallStreamObserver<PagerToKernel>) toKernel).disableAutoRequest();
                        s.readNext();
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(KernelToPager m) {
                                if (!s.read(m)) {
                                    return; // fenced: the session moved to another stream
                                }
                                answer(s, m);
                                s.readNext();
                            }

                            @Override
                            public void onError(Throwable t) {
                                s.ended = true;
                            }

                            @Override
                            public void onCompleted() {
                                s.ended = true;
                                synchronized (s) {
                                    s.toKernel.onCompleted(); // the kernel half-closed: the pager completes its side (xp-spec 2.6)
                                }
                            }
                        };
                    }
                }).build().start();
    }

    String address() {
        return "127.0.0.1:" + server.getPort();
    }

    Stream stream(int i) {
        return streams.get(i);
    }

    private synchronized boolean holdInit(Stream s, KernelToPager init) {
        if (answerInits) {
            return false;
        }
        heldInitStreams.add(s);
        heldInits.add(init);
        return true;
    }

    private void answer(Stream s, KernelToPager m) {
        switch (m.getRoutineCase()) {
            case KERNEL_HELLO -> {
                if (answerHello) {
                    s.send(PagerToKernel.newBuilder().setPagerWelcome(welcome).build());
                }
            }
            case MEMORY_OBJECT_INIT -> {
                if (!holdInit(s, m)) {
                    s.send(PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady
                            .newBuilder().setObjectId(m.getMemoryObjectInit().getObjectId()).setSize(OBJECT_SIZE)
                            .setMayCache(true)).build());
                }
            }
            case MEMORY_OBJECT_DATA_REQUEST -> {
                if (!answerData) {
                    return;
                }
                var r = m.getMemoryObjectDataRequest();
                s.send(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                        .setObjectId(r.getObjectId()).setOffset(r.getOffset())
                        .setData(ByteString.copyFrom(new byte[(int) r.getLength()]))
                        .setLockValue(VmProt.VM_PROT_NONE).setVersion(1).setPrecious(supplyPrecious)).build());
            }
            case KERNEL_KEEPALIVE -> {
                if (answerKeepalives) {
                    s.send(PagerToKernel.newBuilder().setPagerKeepalive(PagerKeepalive.newBuilder()
                            .setSequence(m.getKernelKeepalive().getSequence())).build());
                }
            }
            default -> { }
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
