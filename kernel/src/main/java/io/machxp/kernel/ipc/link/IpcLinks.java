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
 * <pre>
 *  an accepted connection: hello within a lease of connecting (with TLS at least 10 s), frames of
 *        at most 1 KiB until then ({@link LinkFrames}); refused, with the reason logged, if it is
 *        not a hello, claims id 0 or this kernel's, is of a kernel dead here, or claims the id of
 *        a kernel whose link here is open and alive (one connection per kernel: another process
 *        cannot end a live kernel by claiming its id; a restarted kernel's old process, if its
 *        link lingers, is dead within a lease anyway)
 *  a dialled connection: a kernel that leaves more than {@link #DEFAULT_MAX_UNREAD_BYTES} unread
 *        (written here, not yet read there) is dead, so what waits for it cannot grow without bound
 * </pre>
 * <pre>
 *  leave:   this kernel lost its pager session: every link closes (the others declare it dead)
 *           and frames are dropped until it rejoins
 *  rejoin:  its next session: the session number goes up (in every hello, and in the uids of the
 *           ports it exports from now on) and it dials the others again
 *  a peer's hello with a later session: the peer's earlier session is dead (the core hears it,
 *           if it had not yet), then the peer is alive again and dialled anew
 * </pre>
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
 * with a hand-off each way.
 */
public final class IpcLinks implements IpcNet, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IpcLinks.class);

    final int self;
    /** This kernel's lease: the configured one, raised over its pager's ({@link #matchPagerLease}). */
    volatile long leaseMillis;
    /** The lease it was configured with ({@code LinkConfig.leaseMillis}). */
    private final long configuredLeaseMillis;
    final EventLoopGroup group;
    private final Executor core;
    private final LinkListener listener;
    final long incarnation = new SecureRandom().nextLong();
    private final Map<Integer, LinkPeer> peers = new ConcurrentHashMap<>();
    final Set<Integer> dead = ConcurrentHashMap.newKeySet();
    /** Kernels declared dead because nothing was heard from them for a lease (see "probe"). */
    final Set<Integer> silentDeaths = ConcurrentHashMap.newKeySet();
    /** The probes of the kernels dead here, and the answers to others' ({@link LinkProbes}). */
    final LinkProbes probes = new LinkProbes(this);
    /** Between the decision to renew and the next session's start. Guarded by this. */
    boolean renewing;
    /** Renewals of the IPC session while alive since these links started. */
    private final java.util.concurrent.atomic.AtomicInteger renewals = new java.util.concurrent.atomic.AtomicInteger();
    /** Kernels that said hello with a later session, waiting to be alive again (after the core heard of the death). */
    private final Set<Integer> reviving = ConcurrentHashMap.newKeySet();
    /** Guarded by this. */
    final Hellos hellos = new Hellos();
    /** The connections the other kernels dialled, closed when this kernel leaves. */
    private final io.netty.channel.group.ChannelGroup accepted =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    /** This kernel's IPC session (see {@link IpcNet#session}). */
    volatile int session;
    /** Between leave and rejoin: no core to feed. */
    volatile boolean left;
    volatile KernelDirectory directory;
    /** Mutual TLS on every connection, or null for plaintext. */
    final LinkTls tls;
    /** How long a kernel may take to answer the first dial before it is dead (at least a lease). */
    private volatile long firstContactMillis;
    volatile boolean closing;
    private Channel server;
    /** The admitted connection of each kernel that dialled this one (the latest). Guarded by this. */
    private final Map<Integer, Channel> inbound = new java.util.HashMap<>();
    /** Four of the largest frames: as the pager allows a kernel that does not read (docs/limits.md). */
    static final long DEFAULT_MAX_UNREAD_BYTES = 4L * LinkPipeline.MAX_FRAME;
    private volatile long maxUnreadBytes = DEFAULT_MAX_UNREAD_BYTES;
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
     * is dead.
     */
    public void connect(KernelDirectory directory, long firstContactMillis) {
        this.firstContactMillis = Math.max(leaseMillis, firstContactMillis);
        this.directory = directory;
        for (int k : directory.kernels().keySet()) {
            LinkPeer p = peer(k);
            boolean dialled;
            synchronized (p) {
                dialled = p.firstAttempt != 0;
            }
            if (k != self && !dialled) {
                dial(p); // a second connect with a larger directory dials only the new kernels
            }
        }
    }

    private LinkPeer peer(int k) {
        return peers.computeIfAbsent(k, LinkPeer::new);
    }

    private void dial(LinkPeer p) {
        if (closing || left || dead.contains(p.id) || peers.get(p.id) != p) {
            return;
        }
        synchronized (p) {
            if (p.firstAttempt == 0) {
                p.firstAttempt = System.nanoTime();
            }
        }
        InetSocketAddress a = directory.address(p.id);
        new Bootstrap().group(group).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        LinkPipeline.dialled(ch.pipeline(), leaseMillis, new LinkOut(IpcLinks.this, p));
                        if (tls != null) {
                            tls.dialled(ch.pipeline(), a.getHostString(), a.getPort());
                        }
                    }
                }).connect(a.getHostString(), a.getPort()).addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        opened(p, f.channel());
                    } else if (System.nanoTime() - p.firstAttempt > TimeUnit.MILLISECONDS.toNanos(firstContactMillis)) {
                        diedOut(p, "no connection to " + a + " within " + firstContactMillis + " ms");
                    } else {
                        group.schedule(() -> dial(p), Math.max(1, leaseMillis / 10), TimeUnit.MILLISECONDS);
                    }
                });
    }

    private void opened(LinkPeer p, Channel ch) {
        synchronized (p) {
            if (peers.get(p.id) != p || left || closing) {
                ch.close(); // dialled for a session that is over
                return;
            }
            ch.write(LinkFrame.newBuilder().setHello(LinkHello.newBuilder().setKernel(self)
                    .setIncarnation(incarnation).setLeaseMillis(leaseMillis).setSession(session)).build());
            for (SeqFrame f = p.waiting.poll(); f != null; f = p.waiting.poll()) {
                ch.write(f);
            }
            ch.flush();
            p.channel = ch;
        }
        log.debug("kernel {}: IPC link to kernel {} open", self, p.id);
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
        if (dead.contains(kernel) || left) {
            return; // lost with the kernel, as everything on its links
        }
        LinkPeer p = peer(kernel);
        synchronized (p) {
            SeqFrame f = new SeqFrame(frame, ++p.seq);
            if (p.channel != null) {
                // through the loop's task queue even from the loop itself (a keepalive): frames
                // leave in seq order whichever thread numbered them; what queues up meanwhile
                // goes in the same task, with one flush (the link batches what is queued)
                p.outbox.add(f);
                if (!p.drainScheduled) {
                    p.drainScheduled = true;
                    Channel ch = p.channel;
                    ch.eventLoop().execute(() -> drain(p, ch));
                }
            } else {
                p.waiting.add(f);
            }
        }
    }

    /**
     * On the channel's event loop: writes every frame in the outbox, then flushes once. A kernel
     * that leaves more than {@link #maxUnreadBytes} unread is dead (fail-stop, as a broken link).
     */
    private void drain(LinkPeer p, Channel ch) {
        java.util.ArrayList<SeqFrame> frames;
        synchronized (p) {
            frames = p.outbox;
            p.outbox = new java.util.ArrayList<>();
            p.drainScheduled = false;
        }
        for (SeqFrame f : frames) {
            ch.write(f, ch.voidPromise());
        }
        ch.flush();
        var out = ch.unsafe().outboundBuffer();
        long unread = out == null ? 0 : out.totalPendingWriteBytes();
        if (unread > maxUnreadBytes) {
            // it stopped reading: the quiet one, as a kernel heard from for a lease is, so it is
            // the one to renew if it is alive (review F4: not the healthy side by a higher id)
            diedOut(p, "it left " + unread + " bytes unread on its link, over the limit of " + maxUnreadBytes
                    + " (a kernel that stops reading is dead)", true);
        }
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

    /** Keepalive on an idle outgoing link (of the current peer; one replaced at a rejoin says nothing). */
    void keepalive(LinkPeer p) {
        if (peers.get(p.id) == p) {
            keepalives.increment();
            send(p.id, LinkFrame.newBuilder().setKeepalive(LinkKeepalive.getDefaultInstance()).build());
        }
    }

    /** Keepalives sent since these links started (on idle links only). */
    public long keepalivesSent() {
        return keepalives.sum();
    }

    private final java.util.concurrent.atomic.LongAdder keepalives = new java.util.concurrent.atomic.LongAdder();

    /**
     * Frames taken in order from session {@code session} of kernel {@code from} in one read: to
     * the core, in one task. An earlier session's late frames are dropped: it is dead.
     */
    synchronized void deliver(int from, int session, Channel ch, java.util.List<LinkFrame> frames) {
        // only from the connection admitted for that kernel now: not one of a kernel declared dead
        // since (its death closed it) nor of the session this kernel renewed away from
        if (hellos.current(from, session) && !left && inbound.get(from) == ch) {
            core.execute(() -> frames.forEach(f -> listener.frame(from, f)));
        }
    }

    /**
     * A connection's hello: whether to take its frames. A peer back with a later session is
     * declared dead first (if it was not yet), then alive again once the core has heard of it.
     * A refusal is logged with its reason; the caller closes the connection.
     *
     * @return this kernel's IPC session at the admission, read under the same lock (the
     *     connection's close or silence counts only in that session, {@link #diedIn(int, int, int,
     *     String)}), or {@link #REFUSED}
     */
    synchronized int admit(int kernel, long incarnation, int session, Channel ch) {
        return take(kernel, incarnation, session, ch) ? this.session : REFUSED;
    }

    /** {@link #admit}'s answer for a refused hello (IPC sessions are 0 or more). */
    static final int REFUSED = -1;

    private boolean take(int kernel, long incarnation, int session, Channel ch) {
        if (closing || left) {
            return false;
        }
        if (kernel < 1 || kernel == self) {
            refused(ch, "its hello claims IPC id " + kernel + (kernel == self ? ", this kernel's own"
                    : "; IPC ids are 1 or more"));
            return false;
        }
        Channel open = inbound.get(kernel);
        if (open != null && open != ch && open.isActive() && !hellos.rejoins(kernel, incarnation, session)) {
            // a live kernel's id: a second connection of it, or another process (a restarted kernel
            // whose old process still holds its link is dead within a lease anyway)
            refused(ch, "its hello claims IPC id " + kernel + ", whose link from " + open.remoteAddress()
                    + " is open and alive: one connection per kernel; is another process using that --ipc-id?");
            return false;
        }
        switch (hellos.hello(kernel, incarnation, session, dead.contains(kernel))) {
            case ADMIT:
                inbound.put(kernel, ch);
                return true;
            case RESTARTED:
                died(kernel, "a new process took its IPC id; a restarted kernel takes a new id");
                refused(ch, "a new process claims IPC id " + kernel + "; a restarted kernel takes a new --ipc-id");
                return false;
            case REJOIN:
                died(kernel, "it lost its session and rejoins as IPC session " + session);
                reviving.add(kernel);
                inbound.put(kernel, ch);
                core.execute(() -> revive(kernel));
                return true;
            default:
                refused(ch, "kernel " + kernel + " (session " + session + ") is dead here: a dead kernel stays dead"
                        + " unless it rejoins with a later IPC session");
                return false;
        }
    }

    /** A connection from {@code ch}'s address was refused before it was a kernel's link, for {@code why}. */
    void refused(Channel ch, String why) {
        log.warn("kernel {}: IPC link from {} refused: {}", self, ch.remoteAddress(), why);
    }

    /** How long a connection may take to say hello: a lease, and with TLS at least 10 s (its handshake comes first). */
    /**
     * How long kernel's link may be silent before the kernel is dead, given the {@code lease_millis}
     * of its hello: that (ipc_link.proto: the sender says how long the receiver may hear nothing),
     * 0 meaning this kernel's own lease, and at most {@link #MAX_PEER_LEASE_FACTOR} times this
     * kernel's own, so that a peer cannot keep its ports alive for ever by claiming a huge lease and
     * then falling silent. (Each side sends keepalives every third of its own lease at most.)
     */
    long silenceMillis(long helloLeaseMillis) {
        if (helloLeaseMillis <= 0) {
            return leaseMillis;
        }
        return Math.min(helloLeaseMillis, MAX_PEER_LEASE_FACTOR * leaseMillis);
    }

    /** A peer's lease may be at most this many times this kernel's ({@link #silenceMillis}). */
    static final long MAX_PEER_LEASE_FACTOR = 10;

    /** The admitted connection of {@code kernel} (tests). */
    synchronized Channel inbound(int kernel) {
        return inbound.get(kernel);
    }

    long helloDeadlineMillis() {
        return tls == null ? leaseMillis : Math.max(leaseMillis, 10_000);
    }

    /** The connection {@code ch} of {@code kernel} closed: it no longer holds that kernel's place. */
    synchronized void closedIn(int kernel, Channel ch) {
        inbound.remove(kernel, ch);
    }

    /**
     * The bytes this kernel may have written to a link and not yet seen read: beyond them the
     * kernel at the other end is dead (it stopped reading; what is queued for it would otherwise
     * grow without bound). {@link #DEFAULT_MAX_UNREAD_BYTES}; tests set less.
     */
    void maxUnreadBytes(long bytes) {
        this.maxUnreadBytes = bytes;
    }

    /** Core thread, after the core heard of the death of its earlier session: the peer is alive and dialled anew. */
    private void revive(int kernel) {
        LinkPeer fresh;
        synchronized (this) {
            if (!reviving.remove(kernel) || closing || left) {
                return; // its new session died first, or this kernel left meanwhile
            }
            dead.remove(kernel);
            LinkPeer old = peers.remove(kernel);
            if (old != null) {
                synchronized (old) {
                    if (old.channel != null) {
                        old.channel.close();
                    }
                }
            }
            fresh = peer(kernel);
        }
        log.info("kernel {}: kernel {} rejoined IPC", self, kernel);
        if (directory != null && directory.kernels().containsKey(kernel)) {
            dial(fresh);
        }
    }

    /** The connection of session {@code session} of {@code kernel} broke or went silent: dead, if that is its current session. */
    synchronized void diedIn(int kernel, int session, String why) {
        diedIn(kernel, session, why, false);
    }

    /** As {@link #diedIn(int, int, String)}; {@code silent}: nothing heard from it for a lease. */
    synchronized void diedIn(int kernel, int session, String why, boolean silent) {
        diedIn(kernel, session, this.session, why, silent);
    }

    /**
     * As {@link #diedIn(int, int, String, boolean)}, for a connection admitted in this kernel's
     * session {@code ownSession}: one of an earlier session (left or renewed since) whose close
     * is seen only after the rejoin declares nobody dead in the new session.
     */
    synchronized void diedIn(int kernel, int session, int ownSession, String why) {
        diedIn(kernel, session, ownSession, why, false);
    }

    synchronized void diedIn(int kernel, int session, int ownSession, String why, boolean silent) {
        if (ownSession == this.session && hellos.current(kernel, session)) {
            died(kernel, why, silent);
        }
    }

    /** The link dialled to {@code p} broke: dead, unless a rejoin replaced that peer meanwhile. */
    synchronized void diedOut(LinkPeer p, String why) {
        diedOut(p, why, false);
    }

    /** As {@link #diedOut(LinkPeer, String)}; {@code silent}: it was the quiet one (see "refused"). */
    private synchronized void diedOut(LinkPeer p, String why, boolean silent) {
        if (peers.get(p.id) == p) {
            died(p.id, why, silent);
        }
    }

    /** Kernel {@code kernel} is dead: its links close and the core hears of it, once per session. */
    synchronized void died(int kernel, String why) {
        died(kernel, why, false);
    }

    private synchronized void died(int kernel, String why, boolean silent) {
        boolean wasReviving = reviving.remove(kernel); // its new session died before it was alive here
        if (closing || left || !dead.add(kernel) && !wasReviving) {
            return;
        }
        if (silent) {
            silentDeaths.add(kernel);
        } else {
            silentDeaths.remove(kernel);
        }
        Channel in = inbound.remove(kernel);
        if (in != null) {
            in.close(); // nothing more of it reaches the core (deliver)
        }
        if (!renewing) {
            probes.start(kernel);
        }
        log.info("kernel {}: kernel {} is dead for IPC: {}", self, kernel, why);
        LinkPeer p = peers.get(kernel);
        if (p != null) {
            synchronized (p) {
                p.waiting.clear();
                if (p.channel != null) {
                    p.channel.close();
                }
            }
        }
        core.execute(() -> listener.kernelDied(kernel));
    }

    /**
     * This kernel is alive but cut off from IPC: it comes back as its next IPC session, keeping its
     * tasks and its pager session. See "renew" above; its old rights across kernels are dead on
     * both sides (docs/mach-ipc.md, "Rejoining while alive").
     */
    public void renew(String why) {
        int at;
        synchronized (this) {
            if (closing || left || renewing) {
                return;
            }
            renewing = true;
            at = session;
            probes.endAll();
            log.warn("kernel {}: renews its IPC session ({} -> {}) while alive: {}", self, session, session + 1, why);
            KernelDirectory d = directory;
            if (d != null) {
                for (int k : d.kernels().keySet()) {
                    if (k != self) {
                        died(k, "this kernel renews its IPC session");
                    }
                }
            }
        }
        core.execute(() -> { // after the core heard of every death above
            synchronized (this) {
                // the pager session ended meanwhile (its rejoin starts the next session), or ended
                // and rejoined already (a task queued before this one): that session is the fresh one
                if (left || closing || session != at) {
                    renewing = false;
                    return;
                }
            }
            leave();
            synchronized (this) {
                session++;
                dead.clear();
                silentDeaths.clear();
                left = false;
                renewing = false;
            }
            renewals.incrementAndGet();
            listener.renewed();
            KernelDirectory d = directory;
            if (d != null) {
                connect(d, firstContactMillis);
            }
        });
    }

    /** Times these links renewed their IPC session while alive. */
    public int renewals() {
        return renewals.get();
    }

    /**
     * This kernel's session is over: every link closes, so the other kernels declare it dead, and
     * nothing reaches the core until {@link #rejoin}. Keeps listening.
     */
    public void leave() {
        java.util.List<LinkPeer> all;
        synchronized (this) {
            left = true;
            reviving.clear();
            probes.endAll();
            inbound.clear();
            all = java.util.List.copyOf(peers.values());
            peers.clear();
        }
        for (LinkPeer p : all) {
            synchronized (p) {
                p.waiting.clear();
                if (p.channel != null) {
                    p.channel.close();
                }
            }
        }
        accepted.close();
    }

    /** The next session after {@link #leave}: a session number one higher, and the other kernels dialled again. */
    public void rejoin() {
        synchronized (this) {
            session++;
            left = false;
            // the new session owes nothing to the earlier one's view: every kernel is dialled again
            // (one gone for good is declared dead again by its dial), none is left unprobed
            dead.clear();
            silentDeaths.clear();
        }
        KernelDirectory d = directory;
        if (d != null) {
            connect(d, firstContactMillis);
        }
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
