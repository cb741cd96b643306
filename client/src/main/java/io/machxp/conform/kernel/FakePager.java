package io.machxp.conform.kernel;

import io.grpc.Server;
import io.grpc.ServerCredentials;
import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.machxp.conform.Violation;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReclaimedObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The pager the kernel kit plays: a gRPC {@code MemoryObjectPager} server the kernel under test
 * connects to (its {@code --pager}). It welcomes every kernel_hello (kernel ids from 1, the
 * session's lease and page size, this start's epoch), serves the objects cases register, and
 * hands each stream to the cases as a {@link KernelLink}; the newest welcomed one is the
 * <em>current</em> session.
 *
 * <pre>
 *  start    binds HOST:PORT (0: any free port), epoch 1
 *  restart  as a pager process restart: every stream breaks, then the same port is bound again
 *           with the next epoch (the kernel reconnects and reclaims, spec 9)
 *  refuse   the next hello is ended with a status the case chose (e.g. ESTALE for a reclaim)
 * </pre>
 */
public final class FakePager implements AutoCloseable {
    /** How the pager welcomes: its address, TLS, page size and lease. */
    public record Settings(String bindHost, int port, ServerCredentials credentials, int pageSize, long leaseMillis) {}

    private final Settings settings;
    private final Map<String, ServedObject> served = new ConcurrentHashMap<>();
    private final List<KernelLink> welcomed = new ArrayList<>();
    private Server server;
    private int port;
    private int epoch;
    private int nextKernelId = 1;
    private Function<KernelHello, StatusRuntimeException> refusal;
    private int refused;

    private FakePager(Settings settings) {
        this.settings = settings;
    }

    public static FakePager start(Settings settings) throws IOException {
        FakePager p = new FakePager(settings);
        p.bind(settings.port());
        return p;
    }

    private synchronized void bind(int at) throws IOException {
        epoch++;
        server = NettyServerBuilder.forAddress(new InetSocketAddress(settings.bindHost(), at), settings.credentials())
                .addService(new MemoryObjectPagerGrpc.MemoryObjectPagerImplBase() {
                    @Override
                    public StreamObserver<KernelToPager> connect(StreamObserver<PagerToKernel> out) {
                        KernelLink link = new KernelLink(FakePager.this, out);
                        return new StreamObserver<>() {
                            @Override
                            public void onNext(KernelToPager m) {
                                link.received(m);
                            }

                            @Override
                            public void onError(Throwable t) {
                                link.ended(Status.fromThrowable(t));
                            }

                            @Override
                            public void onCompleted() {
                                // The kernel half-closed (spec 3): the pager completes its side, then
                                // the link is ended. The other order completed nothing (end() does
                                // nothing on an ended link) and left the kernel waiting out its close.
                                link.end(Status.OK);
                                link.ended(Status.OK);
                            }
                        };
                    }
                }).build().start();
        port = server.getPort();
    }

    public synchronized int port() {
        return port;
    }

    public synchronized int epoch() {
        return epoch;
    }

    public int pageSize() {
        return settings.pageSize();
    }

    public long leaseMillis() {
        return settings.leaseMillis();
    }

    /** Serves an object of {@code pages} pages under {@code name} from now on. */
    public ServedObject serve(String name, int pages) {
        ServedObject o = new ServedObject(name, settings.pageSize(), pages);
        served.put(name, o);
        return o;
    }

    ServedObject served(String name) {
        return served.get(name);
    }

    /** The next hello is ended with the error this gives (null: welcomed as usual). */
    public synchronized void refuseNextHello(Function<KernelHello, StatusRuntimeException> why) {
        refusal = why;
    }

    /** How many hellos were refused so far. */
    public synchronized int refused() {
        return refused;
    }

    /** An error as a pager ends a stream with: a code, ErrorInfo (domain machxp, reason errno), a sentence. */
    public static StatusRuntimeException error(Status.Code code, String errno, String sentence) {
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder().setCode(code.value())
                .setMessage(sentence).addDetails(Any.pack(ErrorInfo.newBuilder().setDomain("machxp").setReason(errno)
                        .build())).build());
    }

    /** A kernel_hello arrived on {@code link}: welcome it, or refuse it if a case asked. */
    synchronized void hello(KernelLink link, KernelHello h) {
        if (refusal != null) {
            StatusRuntimeException s = refusal.apply(h);
            refusal = null;
            if (s != null) {
                refused++;
                link.end(s);
                notifyAll();
                return;
            }
        }
        int id = h.hasReclaim() && h.getReclaim().getKernelId() != 0 ? h.getReclaim().getKernelId() : nextKernelId++;
        if (h.hasReclaim()) {
            for (ReclaimedObject o : h.getReclaim().getObjectsList()) {
                ServedObject s = served.get(o.getName());
                if (s != null) {
                    link.adopt(o.getObjectId(), s);
                }
            }
        }
        link.welcomed(id);
        link.send(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(id)
                .setPageSize(settings.pageSize()).setSessionEpoch(epoch).setPagerName("machxp-conform")
                .setLeaseMillis(settings.leaseMillis())).build());
        welcomed.add(link);
        notifyAll();
    }

    /** The newest welcomed session, or null. */
    public synchronized KernelLink current() {
        return welcomed.isEmpty() ? null : welcomed.get(welcomed.size() - 1);
    }

    /**
     * Waits until a session other than {@code after} is welcomed (any, with null), or a hello was
     * refused; the newest session.
     */
    public synchronized KernelLink awaitSession(KernelLink after, long deadlineNanos) {
        while (current() == null || current() == after) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                throw new Violation("no kernel opened a new session with the kit's pager (port " + port + ") in time");
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Violation("interrupted while waiting for a kernel session");
            }
        }
        return current();
    }

    /** A token of this pager start: the epoch in the high half (spec 8.5). */
    public synchronized long token(long grant) {
        return (long) epoch << 32 | grant;
    }

    /** Restarts as a pager process would: every stream breaks, then the same port is bound again. */
    public void restart() throws IOException, InterruptedException {
        Server old;
        int at;
        synchronized (this) {
            old = server;
            at = port;
        }
        old.shutdownNow();
        old.awaitTermination(10, TimeUnit.SECONDS);
        bind(at);
    }

    @Override
    public void close() {
        Server s;
        synchronized (this) {
            s = server;
        }
        s.shutdownNow();
        try {
            s.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
