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
 *  resume   offered while a case asks (offerResume): a resumable kernel's welcome carries a
 *           session token, both sides' messages are numbered ({@link ResumableSession}), and a
 *           resume with that kernel id and token, an attempt above the last taken and a received
 *           count the pager sent moves the session to the new stream: the old one is ended
 *           (ESTALE) and fenced, the welcome says resumed and what the pager received, and what
 *           the kernel did not receive is sent again, then the answers to the keepalives the
 *           pager left unanswered on the old stream while silenced (a silence stands for a
 *           stalled connection there). Any other resume is refused with ESTALE.
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
    /**
     * What the welcome of a new session lists in dispute (spec 2.8), to a kernel whose hello named
     * directory_disputes only (6.12); never in a resume's or a reclaim's welcome.
     */
    private List<io.machxp.proto.xp.ObjectDispute> disputes = List.of();
    /** Whether a resumable kernel's welcome carries a session token (spec 4.7). */
    private boolean offerResume;
    private final Map<Integer, ResumableSession> sessions = new java.util.HashMap<>();
    /** Every stream that sent a hello, in order. */
    private final List<KernelLink> hellos = new ArrayList<>();
    /** The size of {@link #hellos}, read without the monitor. */
    private volatile int helloCount;
    /** What the next resume taken says the pager received (null: every kernel message it got). */
    private java.util.function.ToLongFunction<ResumableSession> claim;
    private final java.security.SecureRandom tokens = new java.security.SecureRandom();

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

    /**
     * The welcomes of new sessions from now on list these objects in dispute (spec 2.8; empty: none),
     * to a kernel whose hello named directory_disputes.
     */
    public synchronized void listInNewWelcomes(List<io.machxp.proto.xp.ObjectDispute> list) {
        disputes = List.copyOf(list);
    }

    /** Welcomes from now on give a resumable kernel a session token (true), or none (false). */
    public synchronized void offerResume(boolean offer) {
        offerResume = offer;
    }

    /**
     * The next resume taken says the pager received what {@code received} gives (fewer than it
     * did: as if the last messages were lost with the old stream); the pager forgets those.
     */
    public synchronized void claimOnNextResume(java.util.function.ToLongFunction<ResumableSession> received) {
        claim = received;
    }

    /** How many streams sent a hello so far. */
    public synchronized int hellos() {
        return hellos.size();
    }

    /** As {@link #hellos}, without this pager's monitor (a link's waits read it under their own). */
    int hellosNow() {
        return helloCount;
    }

    /** The stream of the hello number {@code index} (from 0), waiting for it until {@code deadlineNanos}. */
    public synchronized KernelLink awaitHello(int index, long deadlineNanos) {
        while (hellos.size() <= index) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                throw new Violation("no kernel_hello came on a new stream to the kit's pager (port " + port
                        + ") in time");
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Violation("interrupted while waiting for a kernel_hello");
            }
        }
        return hellos.get(index);
    }

    /** A kernel_hello arrived on {@code link}: welcome it, or refuse it if a case asked. */
    synchronized void hello(KernelLink link, KernelHello h) {
        hellos.add(link);
        helloCount = hellos.size();
        notifyAll();
        if (refusal != null) {
            StatusRuntimeException s = refusal.apply(h);
            refusal = null;
            if (s != null) {
                refused++;
                ResumableSession named = h.hasResume() ? sessions.get(h.getResume().getKernelId()) : null;
                if (named != null && named.token() == h.getResume().getSessionToken()
                        && s.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                    named.forget(); // refused: as a pager that knows no such session, it takes no resume of it
                }
                link.end(s);
                notifyAll();
                return;
            }
        }
        if (h.hasResume()) {
            resume(link, h);
            return;
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
        long token = 0;
        if (offerResume && h.getResumable() && settings.leaseMillis() > 0) {
            while (token == 0) {
                token = tokens.nextLong();
            }
            ResumableSession s = new ResumableSession(id, token, link);
            sessions.put(id, s);
            link.carry(s);
        }
        PagerWelcome.Builder w = PagerWelcome.newBuilder().setKernelId(id).setPageSize(settings.pageSize())
                .setSessionEpoch(epoch).setPagerName("machxp-conform").setLeaseMillis(settings.leaseMillis())
                .setSessionToken(token);
        if (!h.hasReclaim() && h.getFeaturesList().contains("directory_disputes")) {
            w.addAllDisputes(disputes);
        }
        link.send(PagerToKernel.newBuilder().setPagerWelcome(w).build());
        welcomed.add(link);
        notifyAll();
    }

    /**
     * A hello with resume (spec 4.7): taken if it names a session of this pager by its kernel id
     * and token, with an attempt above the last taken and a received count the pager can replay
     * from; else refused with FAILED_PRECONDITION / ESTALE, changing nothing.
     */
    private void resume(KernelLink link, KernelHello h) {
        io.machxp.proto.xp.Resume r = h.getResume();
        ResumableSession s = sessions.get(r.getKernelId());
        String refusedWhy = s == null || s.forgotten() || s.token() != r.getSessionToken()
                ? "the kit's pager has no session with kernel id " + r.getKernelId() + " and that token"
                : r.getAttempt() <= s.lastAttempt() ? "attempt " + r.getAttempt() + " is not above " + s.lastAttempt()
                : Long.compareUnsigned(r.getReceived(), s.sent()) > 0 ? "received " + r.getReceived()
                        + " is more than the " + s.sent() + " messages the pager sent" : null;
        if (refusedWhy != null) {
            refused++;
            link.end(error(Status.Code.FAILED_PRECONDITION, "ESTALE", refusedWhy));
            notifyAll();
            return;
        }
        long received = claim == null ? s.received() : Math.min(s.received(), claim.applyAsLong(s));
        claim = null;
        s.keepFirst(received);
        KernelLink old = s.link();
        old.fence(error(Status.Code.FAILED_PRECONDITION, "ESTALE", "the session moved to a new stream (a resume)"));
        link.adoptAll(old);
        link.welcomed(s.kernelId());
        link.carry(s);
        s.moveTo(link, r.getAttempt());
        link.send(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(s.kernelId())
                .setPageSize(settings.pageSize()).setSessionEpoch(epoch).setPagerName("machxp-conform")
                .setLeaseMillis(settings.leaseMillis()).setSessionToken(s.token()).setResumed(true)
                .setReceived(received)).build());
        for (PagerToKernel m : s.sentAfter(r.getReceived())) {
            link.replay(m);
        }
        // A silence on the old stream stood for a stalled connection: the pager answers now the
        // keepalives it got meanwhile, as a pager whose answers were lost with that stream would
        // have them replayed (else the kernel counts them unanswered, and stalls again).
        // Those the pager forgot (claimOnNextResume) come again, and are answered then.
        java.util.Set<Long> comingAgain = new java.util.HashSet<>();
        for (KernelToPager m : s.lostOnResume()) {
            if (m.hasKernelKeepalive()) {
                comingAgain.add(m.getKernelKeepalive().getSequence());
            }
        }
        for (long sequence : old.takeUnanswered()) {
            if (!comingAgain.contains(sequence)) {
                link.send(KernelLink.keepaliveAnswer(sequence));
            }
        }
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
