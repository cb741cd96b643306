package io.machxp.conform;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * An XP stream interceptor: a gRPC server that kernels connect to, forwarding each kernel's
 * stream to a real pager and back, through a {@link Plant} that may change, drop or add messages.
 * With a plant that changes nothing it is transparent (statuses and their ErrorInfo pass through),
 * so a planted bug is exactly the plant's deviation from machxp's own pager. {@link #retarget} sends
 * the streams opened after it to another pager (a restarted one on a new port), so that a restart
 * need not take its old port again while other tests bind ports beside it.
 */
final class XpProxy implements AutoCloseable {
    /** A deliberate deviation, per message; the default passes everything on unchanged. */
    interface Plant {
        /** A kernel's message on its way to the pager; null drops it. */
        default KernelToPager up(Link link, KernelToPager m) {
            return m;
        }

        /** A pager's message on its way to the kernel; null drops it. */
        default PagerToKernel down(Link link, PagerToKernel m) {
            return m;
        }

        /** The pager ended the kernel's stream with an error; what the kernel gets instead (by default the same). */
        default Throwable ended(Link link, Throwable t) {
            return t;
        }

        /** The kernel's stream broke; by default the pager's breaks too. */
        default void broken(Link link, Throwable t) {
            link.pager.onError(t);
        }
    }

    /** One kernel's stream through the proxy. */
    static final class Link {
        private final StreamObserver<PagerToKernel> kernel;
        StreamObserver<KernelToPager> pager;
        /** Whether the kernel's hello has gone by. */
        boolean helloSeen;
        /** The kernel name of the hello, once it has gone by. */
        volatile String name;
        /** Cut by {@link #cut}: nothing more goes either way. */
        private boolean cut;

        Link(StreamObserver<PagerToKernel> kernel) {
            this.kernel = kernel;
        }

        synchronized void toKernel(PagerToKernel m) {
            if (cut) {
                return;
            }
            kernel.onNext(m);
        }

        synchronized void toPager(KernelToPager m) {
            if (cut) {
                return;
            }
            pager.onNext(m);
        }

        /** Breaks the stream on both sides without a word (a connection lost): the pager's is cancelled. */
        synchronized void cut() {
            cut(Status.UNAVAILABLE.withDescription("the proxy cut this stream").asRuntimeException());
        }

        /** Breaks the stream on both sides: the pager's is cancelled, the kernel's ends with {@code toKernel}. */
        synchronized void cut(Throwable toKernel) {
            cut = true;
            pager.onError(Status.CANCELLED.withDescription("the proxy cuts this stream").asRuntimeException());
            kernel.onError(toKernel);
        }
    }

    /** The channel to the pager the streams opened now go to ({@link #retarget}). */
    private volatile ManagedChannel toPager;
    /** The channels to pagers retargeted away from, shut down at {@link #close}. */
    private final java.util.List<ManagedChannel> earlier = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Server server;

    XpProxy(String pagerTarget, Plant plant) throws IOException {
        toPager = NettyChannelBuilder.forTarget(pagerTarget).usePlaintext().build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new MemoryObjectPagerGrpc.MemoryObjectPagerImplBase() {
                    @Override
                    public StreamObserver<KernelToPager> connect(StreamObserver<PagerToKernel> kernel) {
                        Link link = new Link(kernel);
                        // outside the kernel's call's context: its cancellation is the plant's to pass on
                        io.grpc.Context outer = io.grpc.Context.ROOT.attach();
                        link.pager = MemoryObjectPagerGrpc.newStub(toPager).connect(new StreamObserver<PagerToKernel>() {
                            @Override
                            public void onNext(PagerToKernel m) {
                                PagerToKernel changed = plant.down(link, m);
                                if (changed != null) {
                                    link.toKernel(changed);
                                }
                            }

                            @Override
                            public void onError(Throwable error) {
                                Throwable t = plant.ended(link, error);
                                Metadata trailers = Status.trailersFromThrowable(t);
                                synchronized (link) {
                                    if (!link.cut) {
                                        kernel.onError(Status.fromThrowable(t).asRuntimeException(trailers));
                                    }
                                }
                            }

                            @Override
                            public void onCompleted() {
                                synchronized (link) {
                                    if (!link.cut) {
                                        kernel.onCompleted();
                                    }
                                }
                            }
                        });
                        io.grpc.Context.ROOT.detach(outer);
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(KernelToPager m) {
                                KernelToPager changed = plant.up(link, m);
                                if (m.hasKernelHello()) {
                                    link.helloSeen = true;
                                    link.name = m.getKernelHello().getKernelName();
                                }
                                if (changed != null) {
                                    link.toPager(changed);
                                }
                            }

                            @Override
                            public void onError(Throwable t) {
                                synchronized (link) {
                                    if (!link.cut) {
                                        plant.broken(link, t);
                                    }
                                }
                            }

                            @Override
                            public void onCompleted() {
                                synchronized (link) {
                                    link.pager.onCompleted();
                                }
                            }
                        };
                    }
                }).build().start();
    }

    String target() {
        return "127.0.0.1:" + server.getPort();
    }

    /** Streams opened from now on go to the pager at {@code pagerTarget} (one restarted elsewhere); open ones stay. */
    void retarget(String pagerTarget) {
        ManagedChannel old = toPager;
        toPager = NettyChannelBuilder.forTarget(pagerTarget).usePlaintext().build();
        earlier.add(old);
        old.shutdown();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        toPager.shutdownNow();
        earlier.forEach(ManagedChannel::shutdownNow);
        server.awaitTermination(5, TimeUnit.SECONDS);
        toPager.awaitTermination(5, TimeUnit.SECONDS);
        for (ManagedChannel c : earlier) {
            c.awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
