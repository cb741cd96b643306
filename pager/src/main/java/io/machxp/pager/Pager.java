package io.machxp.pager;

import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import io.machxp.pager.core.PagerCore;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.core.PagerEnv;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.net.PagerAdminService;
import io.machxp.pager.net.KernelsOnly;
import io.machxp.pager.net.RequestReadBudget;
import io.machxp.pager.net.XpService;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.pager.store.FilePageStore;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.task.Errno;
import io.machxp.proto.transport.TransportException;
import io.machxp.proto.xp.PagerToKernel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running pager: its {@link PagerCore} on a Netty I/O event loop of its own, which also drives
 * the gRPC server's sockets and runs its callbacks (direct executor): every XP message is read,
 * handled and answered on the core thread (single writer, no locks, no thread hop).
 *
 * <pre>
 *  kernel A --Connect stream--\
 *  kernel B --Connect stream---+--> core event loop (socket I/O and PagerCore, one thread)
 *  tools ----PagerAdmin--------/                                        |
 *                                                                     PageStore (memory, or files
 *                                                                     in --store DIR)
 * </pre>
 *
 * A pager started on a store an earlier one left ({@code --store} with its epoch file) gives its
 * kernels a grace period to reconnect and reclaim what they hold (see PagerCore); one without a
 * store, unless it was started fresh, grants nothing for as long, since kernels of an earlier
 * pager on its address may still be using what they held (their reclaims are refused: the pages
 * are gone).
 *
 * <p>The server speaks mutual TLS or plaintext as {@link PagerConfig#transport()} says, checked
 * before it binds (plaintext only on loopback unless allowed; see {@code Transport}).
 */
public final class Pager implements AutoCloseable {
    /** Calls one connection may have open at once: a kernel's XP stream and the admin service's calls. */
    public static final int MAX_CALLS_PER_CONNECTION = 16;
    /**
     * The largest message any client may send, on every service (xp-spec 3.2, 9.4): gRPC's default,
     * 4 MiB, set explicitly. grpc-java's limit is server-wide and gRPC collects a message whole, so
     * it bounds what each stream can make the pager buffer (16 calls a connection: 64 MiB). A
     * larger reclaim travels in parts ({@code memory_object_reclaim_continue}, assembled by the
     * core within 64 MiB: ReclaimParts); the kernel keeps each part under 3.5 MiB (its ReclaimBound).
     * (From 2026-12-05 to the reclaim in parts this was 64 MiB, for a reclaim in one kernel_hello.)
     */
    public static final int MAX_KERNEL_MESSAGE_BYTES = 4 << 20;

    private static final Logger log = LoggerFactory.getLogger(Pager.class);

    private final PagerConfig config;
    /** One thread: the core's, which also does the I/O of every kernel's XP stream. */
    private final EventLoopGroup group;
    private final EventLoop loop;
    /** The core thread's CPU time: close tells a busy core from a stuck one by it. */
    private final CoreProgress progress;
    private final PagerStats stats = new PagerStats();
    private final PageStore store;
    private final PagerCore core;
    /** Questions to the core thread from other threads, each waited for a bounded time. */
    private final CoreQueries queries;
    private final RecordGauges recordGauges;
    /** The status snapshot, one query in flight shared by all askers (late6 review A1). */
    private final SharedQuestion<io.machxp.proto.admin.PagerStatusReply> statusQuestion;
    /**
     * With a store whose I/O may block (on disk, or a library backend): the thread that writes it
     * (each write forced to the disk), so that the core's thread never waits for a disk; in
     * submission order, drained on close. Null otherwise.
     */
    private final java.util.concurrent.ExecutorService storeThread;
    /**
     * With a store whose I/O may block: the threads that read pages and ask a library backend to
     * unlock them, one page at a time each, never the core's. Null otherwise.
     */
    private final PageEffects pageEffects;
    /** Store effects not yet taken by the store thread, in submission order. */
    private final java.util.concurrent.ConcurrentLinkedQueue<StoreEffect> storeQueue =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    private record StoreEffect(Runnable io, java.util.function.Consumer<RuntimeException> done) {}
    private Server server;
    /** The pager's meters; empty (no-op) until a registry is added with {@link #publishMetricsTo}. */
    private final io.micrometer.core.instrument.composite.CompositeMeterRegistry meters =
            new io.micrometer.core.instrument.composite.CompositeMeterRegistry();
    /** The standard gRPC health service (grpc.health.v1): SERVING once listening, until closed. */
    private final io.grpc.protobuf.services.HealthStatusManager health = new io.grpc.protobuf.services.HealthStatusManager();

    private Pager(PagerConfig config, PageStore store, ServerCredentials credentials, long epoch, long firstToken, long grace,
            io.machxp.pager.policy.GrantPolicy policy) {
        this.config = config;
        this.store = store;
        this.group = io.machxp.pager.net.NettyTransport.oneLoop("pager-" + config.name(), stats::loopPass);
        this.loop = group.next();
        this.progress = CoreProgress.of(loop);
        this.storeThread = store.blocking() ? java.util.concurrent.Executors.newSingleThreadExecutor(
                new DefaultThreadFactory("pager-store-" + config.name(), true)) : null;
        this.pageEffects = store.blocking() ? new PageEffects(config.name()) : null;
        XpService xp = new XpService(config.unreadLimits());
        this.core = new PagerCore(config.name(), config.pageSize(),
                new ObjectCatalog(config.objects(), config.pageSize(), store), new PagerEnv() {
                    @Override
                    public void send(long sessionId, PagerToKernel message) {
                        xp.send(sessionId, message);
                    }

                    @Override
                    public void endSession(long sessionId, Errno errno, String message) {
                        xp.endSession(sessionId, errno, message);
                    }

                    @Override
                    public void endSessionFinal(long sessionId, Errno errno, String message) {
                        xp.endSessionFinal(sessionId, errno, message);
                    }

                    @Override
                    public void storeEffect(Runnable io, java.util.function.Consumer<RuntimeException> done) {
                        if (storeThread == null) {
                            PagerEnv.super.storeEffect(io, done);
                            return;
                        }
                        StoreEffect effect = new StoreEffect(io, done);
                        storeQueue.add(effect);
                        try {
                            storeThread.execute(Pager.this::drainStore);
                        } catch (java.util.concurrent.RejectedExecutionException closing) {
                            if (storeQueue.remove(effect)) {
                                PagerEnv.super.storeEffect(io, done); // closing: the writes before it are drained
                            }
                        }
                    }

                    @Override
                    public <T> void pageEffect(String page, java.util.function.Supplier<T> io,
                            java.util.function.Consumer<T> done) {
                        if (pageEffects == null) {
                            PagerEnv.super.pageEffect(page, io, done);
                            return;
                        }
                        try {
                            pageEffects.submit(page, () -> {
                                T result = io.get();
                                try {
                                    loop.execute(() -> done.accept(result));
                                } catch (java.util.concurrent.RejectedExecutionException closed) {
                                    // the pager ended: nobody waits for the answer
                                }
                            });
                        } catch (java.util.concurrent.RejectedExecutionException closing) {
                            // the pager is closing: its kernels' streams end without an answer
                        }
                    }

                    @Override
                    public void endSession(long sessionId, io.machxp.pager.core.XpProtocolError error, String message) {
                        xp.endSession(sessionId, error, message);
                    }

                    @Override
                    public void schedule(long delayNanos, Runnable action) {
                        loop.schedule(action, delayNanos, TimeUnit.NANOSECONDS);
                    }

                    @Override
                    public void graceEnded() {
                        try {
                            store.swapLease(config.lease().toNanos()); // the last pager's kernels are gone
                        } catch (java.io.UncheckedIOException e) {
                            log.error("pager {}: {}", config.name(), e.getMessage());
                        }
                    }
                }, stats, new PagerOptions(config.lease().toNanos(), epoch).withFirstToken(firstToken)
                        .withGrace(grace, reclaims(store)).withGrantPolicy(policy)
                        .withAnswerDeadline(config.answerDeadlineNanos()));
        this.queries = new CoreQueries(config.name(), loop);
        this.recordGauges = new RecordGauges(config.name(), queries, core::recordCounts);
        this.statusQuestion = new SharedQuestion<>(queries, core::status);
        xp.attach(core, loop);
        xp.timeHandling(PagerMetrics.bind(meters, config.name(), stats, this, loop, store));
        RequestReadBudget reads = new RequestReadBudget(loop, RequestReadBudget.DEFAULT_MAX_READING,
                RequestReadBudget.DEFAULT_READ_WITHIN_NANOS);
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindHost(), config.port()), credentials)
                .bossEventLoopGroup(group).workerEventLoopGroup(group).channelType(io.machxp.pager.net.NettyTransport.serverChannel())
                .directExecutor()
                // One XP stream per kernel and a few admin calls: a connection with more is not a kernel.
                .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
                .maxInboundMessageSize(MAX_KERNEL_MESSAGE_BYTES)
                // Kernels ping their connection every 10 s (grpc-java's floor), also while it
                // carries no call: permitted, so that the pager does not answer with GOAWAY.
                .permitKeepAliveTime(5, java.util.concurrent.TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true)
                // The pager pings too, so that a connection gone silent (a partition) counts as broken:
                // a kernel that reclaims again is told EAGAIN only while the pager has not seen its
                // earlier reclaim's stream end (xp-spec 9.4, Again). grpc-java pings only after
                // pingIntervalNanos without a frame read (never under its 10 s floor), and closes the
                // connection when the ping is unanswered for pingTimeoutNanos (half the lease or more,
                // so that a stall the lease tolerates does not cut a healthy kernel).
                .keepAliveTime(pingIntervalNanos(config.lease()), java.util.concurrent.TimeUnit.NANOSECONDS)
                .keepAliveTimeout(pingTimeoutNanos(config.lease()), java.util.concurrent.TimeUnit.NANOSECONDS)
                // Its responses written without protobuf's scratch buffer per message (PagerToKernelMarshaller).
                .addService(io.grpc.ServerInterceptors.intercept(io.machxp.pager.net.PagerToKernelMarshaller.bind(xp),
                        new KernelsOnly(), io.machxp.pager.net.CallerPeer.INTERCEPTOR))
                // The limit above is server-wide; the calls of the other services are bounded here too.
                .addService(io.grpc.ServerInterceptors.intercept(new PagerAdminService(stats, () -> status(answerWithin)), reads))
                .addService(io.grpc.ServerInterceptors.intercept(health.getHealthService(), reads))
                .build();
        health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING);
    }

    /**
     * grpc-java's floor for a server's keepalive time: {@code NettyServerBuilder.keepAliveTime}
     * raises anything shorter to 10 s ({@code KeepAliveManager.clampKeepAliveTimeInNanos}).
     */
    static final long GRPC_PING_FLOOR_NANOS = 10_000_000_000L;

    /**
     * After how long without a frame read the pager pings a kernel's connection: a quarter of the
     * lease, raised to grpc-java's 10 s floor, so max(10 s, L/4) (no lease: 10 s). A live machxp
     * kernel sends an XP keepalive every L/8 and its own HTTP/2 ping every 10 s, and every frame read
     * starts this time again, so a live kernel is in practice never pinged.
     */
    static long pingIntervalNanos(java.time.Duration lease) {
        return Math.max(GRPC_PING_FLOOR_NANOS, lease.toNanos() / 4);
    }

    /**
     * How long the pager waits for its ping's answer before it closes the connection: half the
     * lease, never less (no lease: 10 s). A silent connection is so closed at most
     * max(10 s, L/4) + L/2 after its last frame: for machxp's default 5 s lease 12.5 s, later than
     * the lease, so a partitioned kernel's reclaim again is told EAGAIN until its lease runs out;
     * only a lease over 20 s sees the connection closed within the lease.
     */
    static long pingTimeoutNanos(java.time.Duration lease) {
        return lease.isZero() ? GRPC_PING_FLOOR_NANOS : lease.toNanos() / 2;
    }

    /**
     * machxp's own pager: the pager library ({@link io.machxp.pager.lib.XpPager}) with machxp's
     * store, in memory or in files in {@code config.storeDir()}.
     *
     * @throws IOException if the port cannot be bound or the store directory cannot be written
     * @throws TransportException if the TLS files are unusable, or plaintext would listen off loopback
     *     without being allowed; checked before anything else
     */
    public static Pager start(PagerConfig config) throws IOException {
        config.transport().serverCredentials(config.bindHost(), "pager " + config.name()); // before the store
        PageStore store;
        if (config.storeDir() == null) {
            store = new MemoryPageStore();
        } else {
            try {
                store = new FilePageStore(config.storeDir(), config.pageSize());
            } catch (IOException e) {
                throw new IOException("pager " + config.name() + ": " + e.getMessage(), e);
            }
        }
        return io.machxp.pager.lib.XpPager.serve(store).config(config).start();
    }

    /**
     * A pager on {@code store} with the futex decisions of {@code policy}: the pager library's
     * engine; a pager is written with {@link io.machxp.pager.lib.XpPager}, which calls this.
     * The store is closed with the pager, or at once if the pager cannot start.
     *
     * @throws IOException if the port cannot be bound or the store cannot be read
     * @throws TransportException if the TLS files are unusable, or plaintext would listen off loopback
     *     without being allowed
     */
    public static Pager start(PagerConfig config, PageStore store, io.machxp.pager.policy.GrantPolicy policy)
            throws IOException {
        ServerCredentials credentials;
        try {
            credentials = config.transport().serverCredentials(config.bindHost(), "pager " + config.name());
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        long epoch;
        long firstToken;
        long grace;
        try {
            epoch = store.nextEpoch();
            java.time.Instant now = java.time.Instant.now();
            firstToken = PagerOptions.firstTokenAt(epoch, PageStore.epochSecond(now), now);
            grace = grace(config, store);
        } catch (java.io.UncheckedIOException e) {
            store.close();
            throw new IOException("pager " + config.name() + ": " + e.getCause().getMessage(), e.getCause());
        }
        Pager pager;
        try {
            pager = new Pager(config, store, credentials, epoch, firstToken, grace, policy);
        } catch (IllegalArgumentException e) {
            store.close();
            throw e; // an object's size is not whole pages, a bad page size
        }
        try {
            pager.server.start();
        } catch (IOException e) {
            pager.close();
            throw new IOException("pager " + config.name() + ": cannot listen on " + config.bindHost() + ":"
                    + config.port() + ": " + io.machxp.proto.transport.SocketErrors.rootMessage(e)
                    + (config.port() != 0 ? "; is another pager on that port? choose another --port, or 0 for any free one"
                            : ""), e);
        }
        pager.health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        log.info("pager {} serving {} on port {} (page size {}, {}), pages {}", config.name(),
                config.objects().keySet(), pager.port(), config.pageSize(),
                config.transport().isTls() ? "mutual TLS" : "plaintext",
                config.storeDir() != null ? "stored in " + config.storeDir().toAbsolutePath()
                        : store instanceof MemoryPageStore ? "in memory" : "from " + store);
        return pager;
    }

    /**
     * The grace period: none for a pager that knows no earlier one left kernels behind (a fresh
     * store, or a fresh start said so); else as long as the longest of its lease and the one the
     * last pager on the store gave, so that every kernel of the last pager that does not reclaim
     * has stopped before anything is granted. A pager without a store cannot tell its first start
     * from a restart, nor the last lease: it waits its own; so does one on a store whose first
     * start knows nothing of the pagers before it (an empty state directory of the library), unless
     * told it starts fresh.
     */
    static long grace(PagerConfig config, PageStore store) {
        long lease = config.lease().toNanos();
        boolean kernelsMayHold = store.persistent()
                ? store.restarted() || store.pastUnknownAtFirstStart() && !config.freshStart()
                : !config.freshStart();
        // Until the grace period ends, the last pager's kernels may still hold its longer leases: a
        // crash meanwhile must leave the next pager waiting as long, so the longer one stays, in one
        // write (graceEnded writes ours). Writing ours and then the longer one back left, for an
        // instant, the shorter lease alone on the store.
        long lastLease = kernelsMayHold ? store.keepLongerLease(lease) : store.swapLease(lease);
        return kernelsMayHold ? Math.max(lease, lastLease) : 0;
    }

    /**
     * Whether a grace period takes reclaims: only on a store a pager before left (its pages and
     * versions outlived it). A first start waits without them, refusing each (ESTALE), and gives
     * each futex the first time with owner_died, as a pager without a store (xp-spec 9.2).
     */
    static boolean reclaims(PageStore store) {
        return store.persistent() && store.restarted();
    }

    public int port() {
        return server.getPort();
    }

    /** "host:port" for kernels on this machine. */
    public String target() {
        return config.bindHost() + ":" + port();
    }

    public PagerStats stats() {
        return stats;
    }

    /** What machxp status shows (asks the core thread, waits at most {@link #ADMIN_ANSWER}). */
    public io.machxp.proto.admin.PagerStatusReply status() {
        return status(answerWithin);
    }

    /**
     * How long a question to the core from another thread waits for its answer: an admin call
     * (status, a live view's tick, answered UNAVAILABLE after it), {@link #kernels}, {@link #holderOf},
     * {@link #supplyPrecious} and each of {@link #close}'s questions (they throw
     * {@link CoreNotAnswering}; close goes on without the answer).
     */
    public static final java.time.Duration ADMIN_ANSWER = java.time.Duration.ofSeconds(5);

    /**
     * How long {@link #close} waits for the core thread to retry the page store's failed writes, count
     * those still not written and close the store (each, within {@link #CLOSE_BOUND}). Longer than
     * {@link #ADMIN_ANSWER}: a core busy for more than 5 s is not stuck, the retry is the last chance
     * to get the writes that failed (never acknowledged to a kernel) on disk, and the count is the
     * operator's only record of the pages lost (late6 review A7: before, 5 s, after which close
     * skipped the retry and left the store's close queued). With a store thread, the retry shares
     * it with the thread's writes after it: it waits at most 30 s then (late10 review L1).
     */
    public static final java.time.Duration STORE_CLOSE_ANSWER = java.time.Duration.ofSeconds(60);

    /** How long close waits for the gRPC server's calls to end, after its connections closed. */
    private static final java.time.Duration SERVER_TERMINATION = java.time.Duration.ofSeconds(5);

    /**
     * The one deadline of {@link #close()}, shared by its phases ({@link CloseDeadline}): the server's
     * shutdown ({@link #ADMIN_ANSWER} and 5 s for its calls), 5 s for the store's reads, the
     * retry of the failed writes and the store thread's writes after it ({@link #STORE_CLOSE_ANSWER}
     * together: the retry waits at most what leaves the writes 30 s, StoreClose.retryBound) and 5 s
     * kept for the count of pages lost and the store's close: 80 s. Whatever the core does, close ends by it, having logged what
     * it skipped. A process that closes a pager at exit must give it at least this (machxp pager does,
     * and cluster up waits that long for its pager); a supervisor's stop timeout bounds it too
     * (systemd's default is 90 s).
     */
    public static final java.time.Duration CLOSE_BOUND = ADMIN_ANSWER.plus(SERVER_TERMINATION)
            .plus(java.time.Duration.ofSeconds(5)).plus(STORE_CLOSE_ANSWER).plus(StoreClose.KEPT_FOR_COUNT);

    /** {@link #ADMIN_ANSWER} here; shorter in tests ({@link #bounds}). */
    private volatile java.time.Duration answerWithin = ADMIN_ANSWER;
    /** {@link #STORE_CLOSE_ANSWER} here; shorter in tests ({@link #bounds}). */
    private volatile java.time.Duration storeCloseWithin = STORE_CLOSE_ANSWER;

    /**
     * Sets this pager's bounds on waiting for its core thread: {@code answer} for the questions
     * {@link #ADMIN_ANSWER} bounds and for the server's shutdown at close, {@code gauges} for a
     * scrape's record counts ({@link RecordGauges#WAIT}), {@code storeClose} for close's questions
     * about the page store ({@link #STORE_CLOSE_ANSWER}). For tests, which so need not wait out real
     * seconds on a stuck core (late6 review A5).
     */
    Pager bounds(java.time.Duration answer, java.time.Duration gauges, java.time.Duration storeClose) {
        this.answerWithin = answer;
        this.storeCloseWithin = storeClose;
        recordGauges.waitAtMost(gauges);
        return this;
    }

    /**
     * What machxp status shows, asked of the core thread and waited for at most {@code within};
     * throws {@link CoreNotAnswering} after that. The admin service and the live view's ticks use
     * this one: a thread that waits for the core without a bound waits for good when the core is stuck.
     * All callers share the one snapshot still in flight ({@link SharedQuestion}): a stuck core holds
     * at most one, however often it is asked.
     */
    public io.machxp.proto.admin.PagerStatusReply status(java.time.Duration within) {
        return statusQuestion.ask(within);
    }

    /** Kernels connected now (asks the core thread; CoreNotAnswering after {@link #ADMIN_ANSWER}). */
    public List<String> kernels() {
        return queries.ask(() -> core.kernels(), answerWithin);
    }

    /** Publishes this pager's meters (see {@link PagerMetrics}) to {@code registry}, e.g. Prometheus's. */
    public void publishMetricsTo(io.micrometer.core.instrument.MeterRegistry registry) {
        meters.add(registry);
    }

    /**
     * One of the core's record counts (PagerCore.recordCounts), asked of the core thread; NaN once
     * closed, or when the core does not answer within {@link RecordGauges#WAIT} (see RecordGauges).
     */
    double recordCount(String kind) {
        return recordGauges.count(kind);
    }

    /**
     * Supply pages precious, with reply, to kernels whose hello names "precious" (XP spec 6.10;
     * {@link PagerCore#supplyPrecious}); returns once the core thread has it (CoreNotAnswering
     * after {@link #ADMIN_ANSWER}: it is queued and takes effect when the core gets to it).
     */
    public Pager supplyPrecious(boolean on) {
        queries.ask(() -> {
            core.supplyPrecious(on);
            return null;
        }, answerWithin);
        return this;
    }

    /** The kernel holding a futex now, or null (asks the core thread; CoreNotAnswering after {@link #ADMIN_ANSWER}). */
    public String holderOf(String object, long offset) {
        return queries.ask(() -> core.holderOf(object, offset), answerWithin);
    }

    /**
     * Store thread: runs every effect queued so far as one batch (group commit: one force per
     * file for all of them, see {@link PageStore#beginBatch}), then hands their outcomes to the
     * core thread in order; whatever a store call throws is that effect's failure (and every
     * effect's, if the batch's force throws), never a success. A disk slower than the pages coming then makes batches bigger, not
     * the queue longer, so a keepalive's answer (which waits for the writes before it) is never
     * held for more than about two batches.
     */
    private void drainStore() {
        java.util.List<StoreEffect> batch = new java.util.ArrayList<>();
        for (StoreEffect e; (e = storeQueue.poll()) != null; ) {
            batch.add(e);
        }
        if (batch.isEmpty()) {
            return;
        }
        RuntimeException[] outcomes = new RuntimeException[batch.size()];
        RuntimeException begun = storeCall(store::beginBatch);
        for (int i = 0; i < batch.size(); i++) {
            outcomes[i] = begun != null ? begun : storeCall(batch.get(i).io());
        }
        RuntimeException ended = storeCall(store::endBatch);
        if (ended != null) {
            for (int i = 0; i < outcomes.length; i++) {
                outcomes[i] = outcomes[i] != null ? outcomes[i] : ended; // not forced to the disk
            }
        }
        try {
            loop.execute(() -> {
                for (int i = 0; i < batch.size(); i++) {
                    batch.get(i).done().accept(outcomes[i]);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the pager ended: nobody waits for the outcomes
        }
    }

    /**
     * Store thread: runs one store call; returns what it threw, or null. Anything thrown counts as
     * a failed write (a backend's bug as much as a full disk), a VirtualMachineError (out of
     * memory, a stack overflow) too: the effect is never taken as done, and the effects after it
     * still run. Letting a VirtualMachineError go up would lose the batch already taken off the
     * queue: no outcome for any of its effects (a page never written again, a grant waiting in an
     * outbox for good) and a later batch's keepalive answered as if its writes were done; retried
     * with the backoff, it is logged at each failure and visible.
     */
    private static RuntimeException storeCall(Runnable io) {
        try {
            io.run();
            return null;
        } catch (RuntimeException e) {
            return e;
        } catch (Error e) {
            return new IllegalStateException("the page store threw " + e, e);
        }
    }

    /** Closes the pager within {@link #CLOSE_BOUND}. */
    @Override
    public void close() {
        closeWithin(CLOSE_BOUND);
    }

    /**
     * Closes the pager within {@code bound}, one deadline that every phase of the close shares
     * ({@link CloseDeadline}): what it could not do in time is logged (an ERROR) before it returns.
     */
    public void closeWithin(java.time.Duration bound) {
        CloseDeadline deadline = CloseDeadline.in(bound);
        health.enterTerminalState();
        stopServer(deadline);
        closeStore(deadline);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /**
     * Stops the gRPC server, waiting at most {@link #ADMIN_ANSWER} for its shutdown and 5 s for its
     * calls to end, within {@code deadline}. grpc's shutdown waits for the core's event loop to close
     * the connections: on a stuck core it would wait for good, so it runs on a thread of its own,
     * left behind if the core never answers.
     */
    private void stopServer(CloseDeadline deadline) {
        Thread stopping = new Thread(server::shutdownNow, "pager-" + config.name() + "-stop");
        stopping.setDaemon(true);
        stopping.start();
        try {
            long join = deadline.upTo(answerWithin, StoreClose.KEPT_FOR_COUNT).toMillis();
            stopping.join(Math.max(join, 1));
            if (stopping.isAlive()) {
                log.error("pager {}: its server did not close its connections in {} ms (the core thread is "
                        + "overloaded or stuck); closing the rest without them", config.name(), join);
                return;
            }
            server.awaitTermination(deadline.upTo(SERVER_TERMINATION, StoreClose.KEPT_FOR_COUNT).toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Drains the store's writes, retries the failed ones, then closes the store on the core thread ({@link StoreClose}). */
    private void closeStore(CloseDeadline deadline) {
        new StoreClose(config.name(), loop, core, queries, store, storeThread, pageEffects, progress)
                .close(storeCloseWithin, deadline);
    }
}
