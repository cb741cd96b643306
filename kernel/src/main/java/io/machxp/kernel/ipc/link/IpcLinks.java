package io.machxp.kernel.ipc.link;

import io.machxp.kernel.ipc.IpcNet;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkHello;
import io.machxp.proto.link.LinkKeepalive;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A kernel's IPC links to the other kernels of its {@link KernelDirectory}, as Netty channels
 * ({@link LinkPipeline}): the {@link IpcNet} of its IPC core.
 *
 * <h2>Overview</h2>
 * One TCP connection per ordered pair: kernel A dials B to send to B, and B's frames to A come on
 * the connection B dialled. A connection starts with LinkHello; every frame after it carries the
 * next seq (from 1), and the receiving side takes only seq = last + 1.
 * <pre>
 *  peer state:  connecting (frames wait in order) --connected--> open (hello, the waiting frames)
 *               connecting --no connection for one lease--> dead
 *               open --the connection closes, a frame out of sequence, or nothing heard for a
 *                      lease on the incoming connection (a keepalive when nothing went out for a sixth of one)--> dead
 * </pre>
 * Fail-stop: frames are never retransmitted, so a link that breaks has lost what was on it, and
 * the kernel at its other end is declared dead (at most once, in order, or dead). A dead kernel id
 * stays dead: its later connections are closed at their hello - unless it comes back with a
 * later IPC session ({@link Hellos}).
 *
 * <p>The parts, each with its overview, under this object's lock:
 * <ul>
 * <li>{@link LinkDials}: the connection this kernel dials to each other kernel, its hello, its
 *     frames in seq order, keepalives, and the bound on what the other leaves unread
 *     ({@link #DEFAULT_MAX_UNREAD_BYTES}: beyond it that kernel is dead);
 * <li>{@link LinkAdmissions}: the connections the others dial, which hello is admitted as a
 *     kernel's link and which refused, and the frames that reach the core;
 * <li>{@link LinkDeaths}: kernels declared dead here, once per session, and revived when they
 *     come back with a later session;
 * <li>{@link LinkSessions}: this kernel's own sessions: leave (it lost its pager session: every
 *     link closes, frames are dropped), rejoin (its next session: the session number goes up, in
 *     every hello and in the uids of the ports it exports from now on, and it dials the others
 *     again), and renew (below);
 * <li>{@link LinkProbes}: the probes of kernels dead here and the answers to others' probes.
 * </ul>
 * Rejoining while alive (a kernel cut off from IPC by its links, its pager session kept; the
 * probes and their answers are {@link LinkProbes}):
 * <pre>
 *  probe:   a kernel declared dead here is dialled again every lease with a hello of this
 *           session (never in {@code peers}); a dead process does not answer, a live one that
 *           declared this kernel dead refuses it with LinkRefused (dead_here, and whether it heard
 *           nothing from this kernel for a lease: silent) and closes
 *  refused: this kernel renews if the refuser says silent (this kernel was the quiet one: nothing
 *           heard from it for a lease, or it left the refuser's link to it unread past the limit), or if
 *           neither side saw silence and this kernel's id is the higher (a broken connection:
 *           one of the two renews); otherwise it waits for the other to renew (it probes too)
 *  renew:   every kernel not dead here yet is declared dead to the core, then (on the core's
 *           executor, after those deaths) every link closes, the session goes up by one, no
 *           kernel is dead here any more, the core forgets its old remote state
 *           ({@link LinkListener#renewed}) and the links dial every kernel again; the others
 *           take it as a rejoin (their earlier view of it is dead)
 * </pre>
 * The core learns of deaths and frames through the {@link LinkListener}, always on its own
 * executor, in the order decided here (under this object's lock): a rejoined peer's frames come
 * after the death of its earlier session. {@link #send} is called on the core thread.
 *
 * <p>Threads: a kernel gives the links its core's own event loop as {@code group} and as
 * {@code core} ({@code KernelLinks}, {@link LinkedCore}), so a frame the core sends is written by
 * the next task of the same thread, and the frames of one read reach the core as one more task of
 * that thread: no hand-off between threads on the way in or out (an RPC between two kernels costs
 * the two socket crossings, as a bare echo does). Links on a group of their own work the same way,
 * with a hand-off each way. That next task waits for every task queued before it, so a core busy
 * with a burst of sends writes a link's frames itself once 64 wait ({@link LinkDials}): its link
 * is not silent for the whole burst.
 */
public final class IpcLinks implements IpcNet, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IpcLinks.class);

    final int self;
    /** This kernel's lease: the configured one, raised over its pager's ({@link #matchPagerLease}). */
    volatile long leaseMillis;
    /** The lease it was configured with ({@code LinkConfig.leaseMillis}). */
    private final long configuredLeaseMillis;
    final EventLoopGroup group;
    final Executor core;
    final LinkListener listener;
    final long incarnation = new SecureRandom().nextLong();
    final Map<Integer, LinkPeer> peers = new ConcurrentHashMap<>();
    final Set<Integer> dead = ConcurrentHashMap.newKeySet();
    /** Kernels declared dead because nothing was heard from them for a lease (see "probe"). */
    final Set<Integer> silentDeaths = ConcurrentHashMap.newKeySet();
    /** The probes of the kernels dead here, and the answers to others' ({@link LinkProbes}). */
    final LinkProbes probes = new LinkProbes(this);
    /** The dialled side: connections to the others, frames numbered and written ({@link LinkDials}). */
    final LinkDials dials = new LinkDials(this);
    /** The accepted side: hellos admitted or refused, frames to the core ({@link LinkAdmissions}). */
    final LinkAdmissions admissions = new LinkAdmissions(this);
    /** Deaths declared here and revivals at a rejoin ({@link LinkDeaths}). */
    final LinkDeaths deaths = new LinkDeaths(this);
    /** Leave, rejoin and renew ({@link LinkSessions}). */
    final LinkSessions sessions = new LinkSessions(this);
    /** Between the decision to renew and the next session's start. Guarded by this. */
    boolean renewing;
    /** Guarded by this. */
    final Hellos hellos = new Hellos();
    /** The connections the other kernels dialled, closed when this kernel leaves. */
    final io.netty.channel.group.ChannelGroup accepted =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    /** This kernel's IPC session (see {@link IpcNet#session}). */
    volatile int session;
    /** Between leave and rejoin: no core to feed. */
    volatile boolean left;
    volatile KernelDirectory directory;
    /** Mutual TLS on every connection, or null for plaintext. */
    final LinkTls tls;
    /** How long a kernel may take to answer the first dial before it is dead (at least a lease). */
    volatile long firstContactMillis;
    volatile boolean closing;
    private Channel server;
    /** Four of the largest frames: as the pager allows a kernel that does not read (docs/limits.md). */
    static final long DEFAULT_MAX_UNREAD_BYTES = 4L * LinkPipeline.MAX_FRAME;
    volatile long maxUnreadBytes = DEFAULT_MAX_UNREAD_BYTES;
    /** Frames the core dropped at the hop bound: counted, logged rate-limited. */
    private final HopBoundDrops hopBoundDrops;

    public IpcLinks(int self, long leaseMillis, EventLoopGroup group, Executor core, LinkListener listener) {
        this(self, leaseMillis, group, core, listener, null);
    }

    /** Links with mutual TLS ({@code tls}), or plaintext (null). */
    public IpcLinks(int self, long leaseMillis, EventLoopGroup group, Executor core, LinkListener listener, LinkTls tls) {
        this.self = self;
        this.leaseMillis = leaseMillis;
        this.configuredLeaseMillis = leaseMillis;
        this.group = group;
        this.core = core;
        this.listener = listener;
        this.tls = tls;
        this.firstContactMillis = leaseMillis;
        this.hopBoundDrops = new HopBoundDrops(self, log);
    }

    /**
     * The pager welcomed this kernel with a lease of {@code pagerLeaseMillis} (0: none): from now on
     * the links' lease is {@link LinkConfig#leaseOver} it, so that a pause the pager forgives does not
     * end this kernel's IPC. Called before the links dial (each session, before its hellos): the
     * lease is named in every hello this kernel says, which is how long the others wait for a
     * frame from it, and its keepalives go out at a sixth of it.
     */
    public void matchPagerLease(long pagerLeaseMillis) {
        long lease = LinkConfig.leaseOver(configuredLeaseMillis, pagerLeaseMillis);
        if (lease != leaseMillis) {
            log.info("kernel {}: IPC links' lease {} ms ({} ms configured, the pager's lease {} ms + {} ms)", self,
                    lease, configuredLeaseMillis, pagerLeaseMillis, LinkConfig.PAGER_LEASE_MARGIN_MILLIS);
        }
        leaseMillis = lease;
    }

    /** The links' lease now (see {@link #matchPagerLease}). */
    public long leaseMillis() {
        return leaseMillis;
    }

    /** Listens for the other kernels' connections; the address bound (port 0 picks one). */
    public InetSocketAddress listen(InetSocketAddress at) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.add(ch);
                        LinkPipeline.accepted(ch.pipeline(), leaseMillis, new LinkIn(IpcLinks.this));
                        if (tls != null) {
                            tls.accepted(ch.pipeline());
                        }
                    }
                }).bind(at).sync().channel();
        return (InetSocketAddress) server.localAddress();
    }

    /** Starts dialling every other kernel of {@code directory}; one not reached within a lease is dead. */
    public void connect(KernelDirectory directory) {
        connect(directory, leaseMillis);
    }

    /**
     * Starts dialling every other kernel of {@code directory}; one not reached within
     * {@code firstContactMillis} (at least a lease: kernels of a cluster start one after another)
     * is dead ({@link LinkDials}).
     */
    public void connect(KernelDirectory directory, long firstContactMillis) {
        dials.connect(directory, firstContactMillis);
    }

    @Override
    public int self() {
        return self;
    }

    @Override
    public int session() {
        return session;
    }

    /** These links as the core of the current session sees them: see {@link SessionNet}. */
    public IpcNet forSession() {
        return new SessionNet(this, session);
    }

    /** Whether this kernel's session {@code session} is over (left, or rejoined as a later one). */
    boolean over(int session) {
        return left || this.session != session;
    }

    @Override
    public void send(int kernel, LinkFrame frame) {
        dials.send(kernel, frame);
    }

    @Override
    public void broadcast(LinkFrame frame) {
        KernelDirectory d = directory;
        if (d != null) {
            for (int k : d.kernels().keySet()) {
                if (k != self) {
                    send(k, frame);
                }
            }
        }
    }

    /** Dead, or not in the directory (no link can reach it). */
    @Override
    public boolean dead(int kernel) {
        KernelDirectory d = directory;
        return dead.contains(kernel) || d != null && !d.kernels().containsKey(kernel);
    }

    /** The kernels of the directory, this one included (1 before {@link #connect}). */
    @Override
    public int kernels() {
        KernelDirectory d = directory;
        return d == null ? 1 : d.kernels().size() + (d.kernels().containsKey(self) ? 0 : 1);
    }

    @Override
    public void hopBoundReached(String kind, String port, int from, int next, int bound) {
        hopBoundDrops.dropped(kind, port, from, next, bound, System.nanoTime());
    }

    /**
     * Frames (messages, RefTransfer, RefRelease, PortFlush) the core dropped rather than pass on
     * past the hop bound since these links started: above 0 only if proxies point round in a loop.
     */
    public long hopBoundDrops() {
        return hopBoundDrops.count();
    }

    /** Keepalives sent since these links started (on idle links only). */
    public long keepalivesSent() {
        return dials.keepalives.sum();
    }

    /**
     * The bytes this kernel may have written to a link and not yet seen read: beyond them the
     * kernel at the other end is dead (it stopped reading; what is queued for it would otherwise
     * grow without bound). {@link #DEFAULT_MAX_UNREAD_BYTES}; tests set less.
     */
    void maxUnreadBytes(long bytes) {
        this.maxUnreadBytes = bytes;
    }

    /**
     * This kernel is alive but cut off from IPC: it comes back as its next IPC session, keeping its
     * tasks and its pager session. See "renew" above ({@link LinkSessions}); its old rights across
     * kernels are dead on both sides (docs/mach-ipc.md, "Rejoining while alive").
     */
    public void renew(String why) {
        sessions.renew(why);
    }

    /** Times these links renewed their IPC session while alive. */
    public int renewals() {
        return sessions.renewals();
    }

    /**
     * This kernel's session is over: every link closes, so the other kernels declare it dead, and
     * nothing reaches the core until {@link #rejoin}. Keeps listening.
     */
    public void leave() {
        sessions.leave();
    }

    /** The next session after {@link #leave}: a session number one higher, and the other kernels dialled again. */
    public void rejoin() {
        sessions.rejoin();
    }

    /** Closes every link and stops listening; waits for the channels to close unless called on their own loop. */
    @Override
    public void close() {
        closing = true;
        probes.endAll();
        accepted.close();
        if (server != null) {
            closeAndWait(server);
        }
        for (LinkPeer p : peers.values()) {
            Channel ch;
            synchronized (p) {
                ch = p.channel;
            }
            if (ch != null) {
                // not under the peer's lock: the channel's loop may be waiting for it (a drain of
                // frames queued just before), and the close needs that loop
                closeAndWait(ch);
            }
        }
    }

    /** On the channel's own loop (the core thread when the links share it) waiting would deadlock: close only. */
    private static void closeAndWait(Channel ch) {
        ChannelFuture closed = ch.close();
        if (!ch.eventLoop().inEventLoop()) {
            closed.syncUninterruptibly();
        }
    }

    boolean closing() {
        return closing;
    }
}
