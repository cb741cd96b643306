package io.machxp.kernel;

import io.grpc.ChannelCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelStats;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.net.CallerConnection;
import io.machxp.kernel.net.MachIpcService;
import io.machxp.kernel.net.MachTaskService;
import io.machxp.kernel.net.ServedKernel;
import io.machxp.kernel.net.TaskHandles;
import io.machxp.kernel.task.MachTask;
import io.machxp.proto.transport.ServerUnreachable;
import io.machxp.proto.transport.TransportException;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running kernel: its {@link KernelCore} on a Netty I/O event loop of its own (the single
 * writer), an XP stream to the pager (or one to each of its pagers: {@link PagerLinks}) whose socket that same loop drives, and
 * the task interface served over gRPC ({@link MachTaskService}) and, for task processes on this
 * host, through the call file in shared memory, whose bell the same loop selects
 * ({@link io.machxp.kernel.shm.CallLoop}). An XP message from the pager is
 * read and handled on the core thread, and one to the pager is written from it: no thread hop on
 * the XP path, which is what a futex handoff between kernels costs. In-process callers use
 * {@link #taskCreate} for a {@link LocalTask}.
 *
 * <pre>
 *  clients --gRPC MachTask--> [fast path on the calling thread] --else--> core event loop
 *                                                                            |  KernelCore
 *  pager  <--gRPC Connect stream (XP: its socket and callbacks on the core loop)--+
 * </pre>
 *
 * Both connections use {@link KernelConfig#transport()}: mutual TLS with one certificate (the
 * kernel is the server of its clients and a client of its pager), or plaintext, which is allowed
 * only on loopback unless asked for; it is checked before anything connects or binds.
 */
public final class Kernel implements AutoCloseable, ServedKernel {
    /** Calls one client connection may have open at once; each thread makes one call at a time. */
    static final int MAX_CALLS_PER_CONNECTION = 1024;

    private static final Logger log = LoggerFactory.getLogger(Kernel.class);

    private final KernelConfig config;
    /** Per pager, which of its replicas the next connection goes to (kept across sessions). */
    private final java.util.List<ReplicaChoice> replicaChoices;
    /** Each session's memory shared with task processes on this host (docs/shared-memory.md). */
    private final io.machxp.kernel.shm.SharedSessions shared;
    /** One thread: the core's, which also does the I/O of the XP stream to the pager. */
    private final EventLoopGroup group;
    private final EventLoop loop;
    /** Blocking calls of in-process callers into the core. */
    private final CoreCalls calls;
    private final KernelStats stats = new KernelStats();
    private final ChannelCredentials toPager;
    /** The handles of the tasks gRPC clients created: capabilities (see {@link TaskHandles}). */
    private final TaskHandles taskHandles = new TaskHandles();
    /** The session in service: its core and its stream to the pager. */
    private volatile Session current;
    /** A next session being opened after the current one was lost, or null. Core thread. */
    private Session opening;
    /** Sessions this kernel has opened, the first included. */
    private final java.util.concurrent.atomic.AtomicInteger sessionsOpened = new java.util.concurrent.atomic.AtomicInteger();
    private Server server;
    /** IPC links to the other kernels ({@link KernelConfig#ipc()}), or null. */
    private KernelLinks links;
    /** Refuses task and IPC calls until the pager's welcome (the port is bound before the session opens). */
    private final Opening gate = new Opening();
    /** The standard gRPC health service: NOT_SERVING until the pager welcomed the kernel, and after close. */
    private final io.grpc.protobuf.services.HealthStatusManager health = new io.grpc.protobuf.services.HealthStatusManager();
    /** The kernel's meters; empty (no-op) until a registry is added with {@link #publishMetricsTo}. */
    private final io.micrometer.core.instrument.composite.CompositeMeterRegistry meters =
            new io.micrometer.core.instrument.composite.CompositeMeterRegistry();
    private final io.micrometer.core.instrument.Timer lockLatency;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /** Counted down when the first close (or crash) has finished: a second one waits for it. */
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);

    /** A session with the pager: a core and its stream, and whether it is over. */
    private static final class Session {
        KernelCore core;
        PagerLinks link;
        /** The session was lost (its lease ran out, or the pager ended it): core thread. */
        boolean lost;
    }

    private Kernel(KernelConfig config, ChannelCredentials toPager) {
        this.config = config;
        this.replicaChoices = config.pagerTargets().stream().map(ReplicaChoice::new).toList();
        io.machxp.kernel.shm.CallLoop callLoop = new io.machxp.kernel.shm.CallLoop();
        this.shared = new io.machxp.kernel.shm.SharedSessions(config.shmDir(), config.name(), callLoop);
        this.toPager = toPager;
        // The core's loop selects the pagers' sockets and the call files' bells (CallLoop): a call
        // from a task process wakes the core thread itself.
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("kernel-" + config.name(), true),
                callLoop.ioHandlerFactory(NioIoHandler.newFactory()));
        this.loop = group.next();
        this.calls = new CoreCalls(loop, config.name());
        this.current = newSession(shared.create()); // not yet running: the files are made on this thread
        health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING);
        this.lockLatency = KernelMetrics.bind(meters, config.name(), stats, this, loop);
    }

    /** Publishes this kernel's meters (see {@link KernelMetrics}) to {@code registry}, e.g. Prometheus's. */
    public void publishMetricsTo(io.micrometer.core.instrument.MeterRegistry registry) {
        meters.add(registry);
    }

    /** The latency of vm_lock_futex over gRPC, recorded by the task service. */
    @Override
    public io.micrometer.core.instrument.Timer lockLatency() {
        return lockLatency;
    }

    /** A new core and its stream (not opened yet), sharing {@code memory} (null: nothing) with task processes. */
    private Session newSession(io.machxp.kernel.shm.SharedMemory memory) {
        Session session = new Session();
        session.core = new KernelCore(config.name(), new KernelRuntimeEnv(() -> session.link, loop, shared,
                (event, tid, detail) -> onCoreTrace(session, event, tid, detail)), stats, config.core());
        shared.share(session.core, memory);
        session.link = new PagerLinks(replicaChoices, toPager, group, session.core, xpTap, config.xpSend(),
                config.closeWait());
        return session;
    }

    /**
     * Core thread: a trace event of a session's core. A lost lease or pager ends the session when
     * it was the primary's (with one pager, the pager's): the core then serves nothing. A secondary
     * pager's loss fails only that pager's objects, and the session goes on with the others
     * (docs/multi-pager.md). The core marks which it lost just after the event, so the kernel looks
     * once the core has handled it.
     */
    private void onCoreTrace(Session session, String event, int tid, String detail) {
        log.debug("kernel {}: {} thread {} {}", config.name(), event, tid, detail);
        TraceListener l = traceListener;
        if (l != null) {
            l.trace(event, tid, detail);
        }
        if (event.equals("lease-lost") || event.equals("pager-lost")) {
            try {
                loop.execute(() -> {
                    if (session.core.xp().primaryLost()) {
                        sessionLost(session, event + ": " + detail);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the kernel is closing: no next session
            }
        }
    }

    /**
     * Core thread: the session in service is over (its lease ran out, or the pager ended it).
     * What it held went on with OWNER_DIED at the pager; the kernel opens a new session as soon
     * as the pager takes it, and the tasks of the old one are retired (a client calling with one
     * learns why: see {@link TaskHandles#notFound}).
     */
    private void sessionLost(Session session, String why) {
        if (session.lost || closed.get() || current != session || session.core.kernelId() == 0) {
            return;
        }
        session.lost = true;
        // health: not serving until the new session is open (a retired task's calls fail meanwhile)
        health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.NOT_SERVING);
        log.warn("kernel {}: its session with the pager is over ({}); it opens a new one", config.name(), why);
        loop.execute(() -> {
            if (links != null) {
                links.leave(); // the session's ports are gone: other kernels see this IPC id die
            }
            session.link.dispose(); // the pager sees the old stream end at once
            renew(session, why, 1);
        });
    }

    /** How long the kernel waits between attempts to open a new session. */
    private static final long RENEW_RETRY_MILLIS = 200;

    /**
     * Core thread: asks the file thread for the next session's shared memory (files on /dev/shm:
     * I/O, never on this thread), then opens the session with it ({@link #open}).
     */
    private void renew(Session lost, String why, int attempt) {
        if (closed.get() || current != lost) {
            return;
        }
        shared.fileEffect(() -> {
            try {
                return shared.create();
            } catch (java.io.UncheckedIOException e) {
                log.warn("kernel {}: {}; its next session shares no memory (its tasks use gRPC)", config.name(),
                        e.getMessage());
                return null;
            }
        }, memory -> { // null also when making the files failed otherwise (fileEffect warned): no shared memory
            try {
                loop.execute(() -> open(lost, why, attempt, memory));
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                shared.retire(memory);
            }
        });
    }

    /** Core thread: opens a next session with {@code memory}; a refused one is tried again later. */
    private void open(Session lost, String why, int attempt, io.machxp.kernel.shm.SharedMemory memory) {
        if (closed.get() || current != lost) {
            shared.retire(memory);
            return;
        }
        Session next = newSession(memory);
        opening = next;
        next.link.open().whenComplete((id, error) -> loop.execute(() -> {
            if (opening == next) {
                opening = null;
            }
            if (closed.get() || current != lost) {
                next.link.dispose();
                shared.retire(next.core);
                return;
            }
            if (error != null) {
                next.link.dispose();
                shared.retire(next.core);
                if (attempt == 1 || attempt % 50 == 0) {
                    log.info("kernel {}: the pager did not take a new session yet (attempt {}: {}); trying again "
                            + "every {} ms", config.name(), attempt, error.getMessage(), RENEW_RETRY_MILLIS);
                }
                loop.schedule(() -> renew(lost, why, attempt + 1), RENEW_RETRY_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
            int retired = taskHandles.retire(lost.core, "it ended when the kernel's session with its pager was over ("
                    + why + "); the futexes its threads held went on to their next owners with OWNER_DIED and "
                    + "the writes the kernel had not returned are lost; create a new task");
            current = next;
            if (links != null) {
                links.rejoin(next.core); // before any task of the new session can make a port
            }
            shared.retire(lost.core);
            sessionsOpened.incrementAndGet();
            health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
            log.info("kernel {}: new session with the pager (kernel id {}) after {} attempts; {} tasks of the old "
                    + "one were retired", config.name(), next.core.kernelId(), attempt, retired);
        }));
    }

    private volatile TraceListener traceListener;
    private final XpTap xpTap = new XpTap();

    /** This kernel's XP messages, for a listener (see {@link XpTap}). */
    public XpTap xpTap() {
        return xpTap;
    }

    /** Sets the one listener of this kernel's trace events (null: none). */
    public void onTrace(TraceListener listener) {
        this.traceListener = listener;
    }

    /**
     * Binds the task interface's port (its calls answered UNAVAILABLE until the session is open),
     * connects to the pager, waits for its welcome, then serves the task and IPC interfaces. The
     * transport is checked first, for both sides, before anything connects or binds.
     *
     * @throws IOException if the pager does not answer or the port cannot be bound
     * @throws TransportException if the TLS files are unusable, or plaintext would be used off
     *     loopback (to the pager or for clients) without being allowed
     */
    public static Kernel start(KernelConfig config) throws IOException {
        String who = "kernel " + config.name();
        ChannelCredentials toPager = config.transport().channelCredentials(
                config.pagerTargets().get(0).split("\\+")[0], who);
        for (String pager : config.pagerTargets()) {
            for (String replica : pager.split("\\+")) { // a replicated pager's replicas (xp-spec 13)
                config.transport().channelCredentials(replica, who); // each address against the policy
            }
        }
        ServerCredentials forClients = config.transport().serverCredentials(config.bindHost(), who);
        Kernel kernel = new Kernel(config, toPager);
        // The port first: a kernel that cannot listen must not open (and then drop) a pager session.
        try {
            kernel.server = io.machxp.kernel.net.TaskKeepalive.server(NettyServerBuilder.forAddress(
                            new InetSocketAddress(config.bindHost(), config.port()), forClients))
                    .directExecutor()
                    // Flow control: a client's calls beyond this wait on its side of the connection
                    // (HTTP/2 MAX_CONCURRENT_STREAMS) instead of piling up in the kernel.
                    .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
                    .addTransportFilter(CallerConnection.FILTER) // each connection a client of its own
                    // What a client's channel takes too (KernelClient): a reply above it is MACH_RCV_TOO_LARGE.
                    .maxInboundMessageSize(io.machxp.kernel.net.CallGate.MAX_GRPC_MESSAGE_BYTES)
                    .addService(io.grpc.ServerInterceptors.intercept(new MachTaskService(kernel), kernel.gate,
                            CallerConnection.INTERCEPTOR))
                    .addService(io.grpc.ServerInterceptors.intercept(new MachIpcService(kernel), kernel.gate))
                    .addService(kernel.health.getHealthService())
                    .build()
                    .start();
        } catch (IOException e) {
            kernel.close();
            throw new IOException(who + ": cannot listen on " + config.bindHost() + ":" + config.port() + ": "
                    + io.machxp.proto.transport.SocketErrors.rootMessage(e) + (config.port() != 0 ? "; is another kernel on that port? choose another "
                    + "--port, or 0 for any free one" : ""), e);
        }
        try {
            kernel.links = config.ipc() == null ? null
                    : KernelLinks.start(config.ipc(), config.transport(), kernel.taskHandles, kernel.loop, who);
        } catch (IOException | RuntimeException e) {
            kernel.close();
            throw e;
        }
        try {
            kernel.openFirstSession(System.nanoTime() + config.connectTimeout().toNanos());
        } catch (TimeoutException e) {
            String at = kernel.pagerNotWelcoming();
            kernel.close();
            throw new ServerUnreachable(who + ": " + at + " did not answer within "
                    + config.connectTimeout().toSeconds() + " s; is it running, and is the address right?", e);
        } catch (ExecutionException e) {
            String at = kernel.pagerNotWelcoming();
            kernel.close();
            if (StartErrors.unreachable(e.getCause())) {
                String cause = io.machxp.proto.transport.SocketErrors.rootMessage(e.getCause());
                throw new ServerUnreachable(who + ": cannot reach " + at + ": " + cause
                        + "; " + io.machxp.proto.transport.SocketErrors.whatToCheck(cause,
                                "is it running, and is the address right?"), e.getCause());
            }
            throw new IOException(who + ": cannot open a session with " + at + ": "
                    + e.getCause().getMessage(), e);
        } catch (InterruptedException e) {
            // the interrupt first: the close then gives up its waits for a pager that never answers
            Thread.currentThread().interrupt();
            kernel.close();
            throw new IOException("interrupted while starting kernel " + config.name(), e);
        }
        if (kernel.links != null) {
            KernelCore first = kernel.core();
            CompletableFuture.runAsync(() -> kernel.links.join(first, config.connectTimeout().toMillis()), kernel.loop).join();
        }
        kernel.gate.open();
        kernel.health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        log.info("kernel {} (id {}) serving tasks on port {}, pager {} ({}){}", config.name(), kernel.kernelId(),
                kernel.port(), config.pagerTarget(), config.transport().isTls() ? "mutual TLS" : "plaintext",
                kernel.links == null ? "" : ", IPC id " + kernel.links.id() + " at " + kernel.links.address());
        return kernel;
    }

    /**
     * The pager a failed start is about, for its message: "the pager at HOST:PORT", or with several
     * pagers "pager N at HOST:PORT" (the first that refused, else the first that did not answer).
     */
    private String pagerNotWelcoming() {
        java.util.List<String> targets = config.pagerTargets();
        if (targets.size() == 1) {
            return "the pager at " + targets.get(0);
        }
        int p = current.link.pagerNotWelcoming();
        return p < 0 ? "the pagers at " + config.pagerTarget() : "pager " + p + (p == 0 ? " (the primary)" : "")
                + " at " + targets.get(p);
    }

    /**
     * Opens the first session. A pager that refuses it with EAGAIN (an earlier session of this
     * name waits for its lease, as after a restart of a killed kernel), or a replica of a
     * replicated pager that cannot be reached, is asked again until the deadline; any other
     * failure ends the start.
     */
    private void openFirstSession(long deadline) throws InterruptedException, ExecutionException, TimeoutException {
        while (true) {
            Session s = current;
            try {
                s.link.open().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                sessionsOpened.incrementAndGet();
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof PagerWord.NotWelcomed nw) || !ReplicaChoice.askAgain(replicaChoices, nw.errno)
                        || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RENEW_RETRY_MILLIS) > deadline) {
                    throw e;
                }
                log.info("kernel {}: {}; asking again", config.name(), nw.getMessage());
                loop.execute(s.link::dispose);
                Thread.sleep(RENEW_RETRY_MILLIS); // a retry's backoff, not a synchronisation
                shared.retire(s.core);
                current = newSession(shared.create());
            }
        }
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public int kernelId() {
        return current.core.kernelId();
    }

    /** How many sessions with the pager this kernel has opened: more than one after it lost one. */
    public int sessionsOpened() {
        return sessionsOpened.get();
    }

    /**
     * Frames this kernel's IPC links dropped rather than pass on past the hop bound (a loop of
     * proxies; docs/mach-ipc.md, "Trust between kernels"); 0 without links.
     */
    public long ipcHopBoundDrops() {
        KernelLinks l = links;
        return l == null ? 0 : l.hopBoundDrops();
    }

    /**
     * The lease of this kernel's IPC links (ms; 0 without links): the configured one, or its pager's
     * lease plus a margin if that is longer ({@code LinkConfig.leaseOver}).
     */
    public long ipcLeaseMillis() {
        KernelLinks l = links;
        return l == null ? 0 : l.leaseMillis();
    }

    /** The port of the task interface. */
    public int port() {
        return server.getPort();
    }

    /** Links this kernel's IPC to more kernels by IPC id (an embedded cluster listening on any free ports). */
    public void ipcConnect(java.util.Map<Integer, InetSocketAddress> peers) {
        CompletableFuture.runAsync(() -> links.connect(peers, config.connectTimeout().toMillis()), loop).join();
    }

    @Override
    public int ipcKernel() {
        return links == null ? 0 : links.id();
    }

    @Override
    public String ipcAddress() {
        return links == null ? "" : links.address();
    }

    @Override
    public KernelStats stats() {
        return stats;
    }

    /** The core of the session in service; call it only through {@link #execute} or {@link #call}. */
    @Override
    public KernelCore core() {
        return current.core;
    }

    /**
     * The task handles given to gRPC clients, each mapped to the core's task id. In-process users
     * ({@link LocalTask}) do not need them; a test that reaches into the core does.
     */
    @Override
    public TaskHandles taskHandles() {
        return taskHandles;
    }

    /** Runs an action on the core thread. */
    @Override
    public void execute(Runnable action) {
        loop.execute(action);
    }

    /**
     * Runs {@code action} on the thread that makes and deletes the shared-memory files, after what
     * it was given before (inline if the kernel shares nothing); for tools and tests that must
     * know the core never waits for that thread.
     */
    public void executeOnFileThread(Runnable action) {
        shared.fileEffect(() -> null, ignored -> action.run());
    }

    /** Sends a request to the core and waits for its answer; never call from the core thread. */
    public <T> T call(Consumer<Reply<T>> request) {
        return calls.call(request);
    }

    /**
     * As {@link #call}, for a call that may wait long (a lock): interrupted, the caller gives it up
     * on the core thread ({@code abort}, which answers it if it still waits) and then takes
     * whatever answer came first - the value if the core answered before the abort (returned with
     * the interrupt status set), else the abort's error. So a request never outlives its caller in
     * the core, and a caller never misses what it was given.
     */
    public <T> T callAbortable(Consumer<Reply<T>> request, Consumer<Reply<T>> abort) {
        return calls.callAbortable(request, abort);
    }

    /** A new task on this kernel, used in-process. */
    public LocalTask taskCreate(String name) {
        KernelCore core = core();
        MachTask task = call(r -> core.taskCreate(name, r));
        return new LocalTask(this, core, task);
    }

    private void disposeOpening() {
        if (opening != null) {
            opening.link.dispose();
            opening = null;
        }
    }

    /**
     * Stops at once, as a killed process would: nothing goes back; the pager sees the stream break
     * (tests, faults). After a close or crash begun elsewhere, waits for it as {@link #close} does.
     */
    public void crash() {
        if (closed.compareAndSet(false, true)) {
            stop(() -> { }, () -> current.link.abort(), () -> { });
        } else {
            awaitStopped();
        }
    }

    /** {@code first}, then stops serving, the pager's stream ({@code abort} before the session being opened goes, {@code close} after), the threads. */
    private void stop(Runnable first, Runnable abort, Runnable close) {
        try {
            first.run();
            if (server != null) {
                server.shutdownNow();
            }
            abort.run();
            if (links != null) {
                links.close();
            }
            loop.execute(this::disposeOpening);
            close.run();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            shared.closeAll();
        } finally {
            stopped.countDown();
        }
    }

    /**
     * Stops serving, returns dirty pages, terminates every object, ends the XP session. Idempotent:
     * a second call (a command's own close and its close at exit, at once) returns only once the
     * first has finished, so neither returns while the session's directory is still being removed.
     * The first is bounded: its pagers are waited for in parallel, about twice the close wait plus
     * 11 s at worst (the core's steps, the threads' end, the file thread's 5 s); so is the wait.
     * A second call on a Netty event-loop thread (this kernel's core thread, which the first close
     * may wait for, or another loop, which must not stall), or interrupted, returns without waiting.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            // inside stop's try: whatever throws, the latch a second close waits for counts down
            stop(health::enterTerminalState, () -> { }, () -> current.link.close());
        } else {
            awaitStopped();
        }
    }

    /** Whether this thread runs a Netty event loop (Netty records the executor of each loop thread it starts). */
    private static boolean onAnEventLoop() {
        return io.netty.util.internal.ThreadExecutorMap.currentExecutor() != null;
    }

    /**
     * Waits for the close (or crash) begun by another call; not on an event loop: this kernel's core
     * thread, which that close may wait for, nor any other (another kernel's core, a pager's loop).
     */
    private void awaitStopped() {
        if (loop.inEventLoop() || onAnEventLoop()) {
            return;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
