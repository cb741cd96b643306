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
 *                      lease on the incoming connection (keepalives every third of one)--> dead
 * </pre>
 * Fail-stop: frames are never retransmitted, so a link that breaks has lost what was on it, and
 * the kernel at its other end is declared dead (at most once, in order, or dead). A dead kernel id
 * stays dead: its later connections are closed at their hello. The core learns of deaths and
 * frames through the {@link LinkListener}, always on its own executor; {@link #send} is called on
 * the core thread.
 */
public final class IpcLinks implements IpcNet, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(IpcLinks.class);

    private final int self;
    private final long leaseMillis;
    private final EventLoopGroup group;
    private final Executor core;
    private final LinkListener listener;
    private final long incarnation = new SecureRandom().nextLong();
    private final Map<Integer, Peer> peers = new ConcurrentHashMap<>();
    private final Set<Integer> dead = ConcurrentHashMap.newKeySet();
    private volatile KernelDirectory directory;
    /** Mutual TLS on every connection, or null for plaintext. */
    private final LinkTls tls;
    /** How long a kernel may take to answer the first dial before it is dead (at least a lease). */
    private volatile long firstContactMillis;
    private volatile boolean closing;
    private Channel server;

    /** The sending side of one link. Guarded by itself. */
    private static final class Peer {
        final int id;
        Channel channel;
        final java.util.ArrayDeque<LinkFrame> waiting = new java.util.ArrayDeque<>();
        /** Frames numbered for the open channel, not yet written: one event-loop task writes them all, one flush. */
        java.util.ArrayList<LinkFrame> outbox = new java.util.ArrayList<>();
        boolean drainScheduled;
        long seq;
        long firstAttempt;

        Peer(int id) {
            this.id = id;
        }
    }

    public IpcLinks(int self, long leaseMillis, EventLoopGroup group, Executor core, LinkListener listener) {
        this(self, leaseMillis, group, core, listener, null);
    }

    /** Links with mutual TLS ({@code tls}), or plaintext (null). */
    public IpcLinks(int self, long leaseMillis, EventLoopGroup group, Executor core, LinkListener listener, LinkTls tls) {
        this.self = self;
        this.leaseMillis = leaseMillis;
        this.group = group;
        this.core = core;
        this.listener = listener;
        this.tls = tls;
        this.firstContactMillis = leaseMillis;
    }

    /** Listens for the other kernels' connections; the address bound (port 0 picks one). */
    public InetSocketAddress listen(InetSocketAddress at) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        LinkPipeline.init(ch.pipeline(), leaseMillis, new LinkIn(IpcLinks.this));
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
            Peer p = peer(k);
            boolean dialled;
            synchronized (p) {
                dialled = p.firstAttempt != 0;
            }
            if (k != self && !dialled) {
                dial(p); // a second connect with a larger directory dials only the new kernels
            }
        }
    }

    private Peer peer(int k) {
        return peers.computeIfAbsent(k, Peer::new);
    }

    private void dial(Peer p) {
        if (closing || dead.contains(p.id)) {
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
                        LinkPipeline.init(ch.pipeline(), leaseMillis, new LinkOut(IpcLinks.this, p.id));
                        if (tls != null) {
                            tls.dialled(ch.pipeline(), a.getHostString(), a.getPort());
                        }
                    }
                }).connect(a.getHostString(), a.getPort()).addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        opened(p, f.channel());
                    } else if (System.nanoTime() - p.firstAttempt > TimeUnit.MILLISECONDS.toNanos(firstContactMillis)) {
                        died(p.id, "no connection to " + a + " within " + firstContactMillis + " ms");
                    } else {
                        group.schedule(() -> dial(p), Math.max(1, leaseMillis / 10), TimeUnit.MILLISECONDS);
                    }
                });
    }

    private void opened(Peer p, Channel ch) {
        synchronized (p) {
            ch.write(LinkFrame.newBuilder().setHello(LinkHello.newBuilder().setKernel(self)
                    .setIncarnation(incarnation).setLeaseMillis(leaseMillis)).build());
            for (LinkFrame f = p.waiting.poll(); f != null; f = p.waiting.poll()) {
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
    public void send(int kernel, LinkFrame frame) {
        if (dead.contains(kernel)) {
            return; // lost with the kernel, as everything on its links
        }
        Peer p = peer(kernel);
        synchronized (p) {
            LinkFrame f = frame.toBuilder().setSeq(++p.seq).build();
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

    /** On the channel's event loop: writes every frame in the outbox, then flushes once. */
    private static void drain(Peer p, Channel ch) {
        java.util.ArrayList<LinkFrame> frames;
        synchronized (p) {
            frames = p.outbox;
            p.outbox = new java.util.ArrayList<>();
            p.drainScheduled = false;
        }
        for (LinkFrame f : frames) {
            ch.write(f, ch.voidPromise());
        }
        ch.flush();
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

    /** Keepalive on an idle outgoing link. */
    void keepalive(int kernel) {
        send(kernel, LinkFrame.newBuilder().setKeepalive(LinkKeepalive.getDefaultInstance()).build());
    }

    /** Frames taken in order from kernel {@code from} in one read: to the core, in one task. */
    void deliver(int from, java.util.List<LinkFrame> frames) {
        core.execute(() -> frames.forEach(f -> listener.frame(from, f)));
    }

    boolean isDead(int kernel) {
        return dead.contains(kernel);
    }

    /** Kernel {@code kernel} is dead: its links close and the core hears of it, once. */
    void died(int kernel, String why) {
        if (closing || !dead.add(kernel)) {
            return;
        }
        log.info("kernel {}: kernel {} is dead for IPC: {}", self, kernel, why);
        Peer p = peers.get(kernel);
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

    @Override
    public void close() {
        closing = true;
        if (server != null) {
            server.close().syncUninterruptibly();
        }
        for (Peer p : peers.values()) {
            synchronized (p) {
                if (p.channel != null) {
                    p.channel.close().syncUninterruptibly();
                }
            }
        }
    }

    boolean closing() {
        return closing;
    }
}
