package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkHello;
import io.machxp.proto.link.LinkKeepalive;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dialled side of {@link IpcLinks}: this kernel's connection to each other kernel, which
 * carries its frames to that kernel ({@link LinkPeer}, one per kernel in {@code peers}).
 *
 * <h2>Overview</h2>
 * <pre>
 *  connecting  a frame sent: numbered (seq from 1) and kept in order in {@code waiting}
 *              --connected--> open: the hello (kernel, incarnation, lease, session), then the
 *                             waiting frames, one flush
 *              --refused--> dialled again a tenth of a lease later
 *              --no connection within the first contact (at least a lease)--> dead ({@link LinkDeaths})
 *  open        a frame sent: numbered, put in the outbox; one task on the channel's loop writes
 *              the whole outbox and flushes once ({@code drain}), so frames leave in seq order
 *              whichever thread numbered them; a sender on the channel's own loop (the core
 *              thread) that finds {@link #MAX_UNFLUSHED_FRAMES} in the outbox writes and flushes
 *              them itself (the drain waits behind the loop's queued tasks: a busy core's link
 *              was silent for as long)
 *              idle for a sixth of a lease: a LinkKeepalive ({@link LinkOut} asks)
 *              more than {@link IpcLinks#DEFAULT_MAX_UNREAD_BYTES} (or the limit set) written and
 *              not yet read there --> dead, as the quiet one (it is the one to renew)
 *  a second connect with a larger directory dials only the kernels not dialled yet; a peer
 *  replaced at a rejoin or a leave (not the one in {@code peers}) opens nothing and says nothing
 * </pre>
 * Its state is that of its {@link IpcLinks}, under the same locks (each peer's own, the links').
 */
final class LinkDials {
    private static final Logger log = LoggerFactory.getLogger(IpcLinks.class);

    private final IpcLinks links;

    LinkDials(IpcLinks links) {
        this.links = links;
    }

    final java.util.concurrent.atomic.LongAdder keepalives = new java.util.concurrent.atomic.LongAdder();

    /**
     * Frames a link holds unflushed while the thread sending them is its own event loop: at this
     * many, the send writes and flushes them itself instead of leaving them to the drain queued
     * behind the loop's other tasks. A flush per 64 frames costs little; what it bounds is how long
     * a busy core keeps its link silent (the other kernel's lease counts from its last frame).
     */
    static final int MAX_UNFLUSHED_FRAMES = 64;

    /**
     * Starts dialling every other kernel of {@code directory}; one not reached within
     * {@code firstContactMillis} (at least a lease: kernels of a cluster start one after another)
     * is dead.
     */
    public void connect(KernelDirectory directory, long firstContactMillis) {
        links.firstContactMillis = Math.max(links.leaseMillis, firstContactMillis);
        links.directory = directory;
        for (int k : directory.kernels().keySet()) {
            LinkPeer p = peer(k);
            boolean dialled;
            synchronized (p) {
                dialled = p.firstAttempt != 0;
            }
            if (k != links.self && !dialled) {
                dial(p); // a second connect with a larger directory dials only the new kernels
            }
        }
    }

    LinkPeer peer(int k) {
        return links.peers.computeIfAbsent(k, LinkPeer::new);
    }

    void dial(LinkPeer p) {
        if (links.closing || links.left || links.dead.contains(p.id) || links.peers.get(p.id) != p) {
            return;
        }
        synchronized (p) {
            if (p.firstAttempt == 0) {
                p.firstAttempt = System.nanoTime();
            }
        }
        InetSocketAddress a = links.directory.address(p.id);
        LinkBootstrap.dialling(links, p, a).connect(a.getHostString(), a.getPort()).addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        opened(p, f.channel());
                    } else if (System.nanoTime() - p.firstAttempt > TimeUnit.MILLISECONDS.toNanos(links.firstContactMillis)) {
                        links.deaths.diedOut(p, "no connection to " + a + " within " + links.firstContactMillis + " ms");
                    } else {
                        links.group.schedule(() -> dial(p), Math.max(1, links.leaseMillis / 10), TimeUnit.MILLISECONDS);
                    }
                });
    }

    void opened(LinkPeer p, Channel ch) {
        synchronized (p) {
            if (links.peers.get(p.id) != p || p.ended || links.left || links.closing) {
                ch.close(); // dialled for a session that is over, or its kernel died meanwhile
                return;
            }
            ch.write(LinkFrame.newBuilder().setHello(LinkHello.newBuilder().setKernel(links.self)
                    .setIncarnation(links.incarnation).setLeaseMillis(links.leaseMillis).setSession(links.session)).build());
            for (SeqFrame f = p.waiting.poll(); f != null; f = p.waiting.poll()) {
                ch.write(f);
            }
            ch.flush();
            p.channel = ch;
        }
        log.debug("kernel {}: IPC link to kernel {} open", links.self, p.id);
    }

    public void send(int kernel, LinkFrame frame) {
        if (links.dead.contains(kernel) || links.left) {
            return; // lost with the kernel, as everything on its links
        }
        LinkPeer p = peer(kernel);
        java.util.ArrayList<SeqFrame> now = null;
        Channel ch;
        synchronized (p) {
            SeqFrame f = new SeqFrame(frame, ++p.seq);
            ch = p.channel;
            if (ch == null) {
                p.waiting.add(f);
                return;
            }
            // through the loop's task queue even from the loop itself (a keepalive): frames
            // leave in seq order whichever thread numbered them; what queues up meanwhile
            // goes in the same task, with one flush (the link batches what is queued)
            p.outbox.add(f);
            if (!p.drainScheduled) {
                p.drainScheduled = true;
                ch.eventLoop().execute(() -> drain(p, ch));
            } else if (p.outbox.size() >= MAX_UNFLUSHED_FRAMES && ch.eventLoop().inEventLoop()) {
                // the sender is the channel's own loop (the core thread), busy: the drain queued
                // runs after every task queued before it (a burst of sends; the keepalive's tick
                // too), and the link says nothing for that long - a lease of it is death (review
                // ipclinks: IpcLinksTest's burst at load 40). Written now instead; the drain
                // queued writes what follows, after these (only this loop writes)
                now = takeOutbox(p);
            }
        }
        if (now != null) {
            write(p, ch, now); // not under the peer's lock: a death takes the links' lock, then the peer's
        }
    }

    /**
     * On the channel's event loop: writes every frame in the outbox, then flushes once. A kernel
     * that leaves more than {@link IpcLinks#maxUnreadBytes} unread is dead (fail-stop, as a broken link).
     */
    void drain(LinkPeer p, Channel ch) {
        java.util.ArrayList<SeqFrame> frames;
        synchronized (p) {
            frames = takeOutbox(p);
            p.drainScheduled = false;
        }
        write(p, ch, frames);
    }

    /** The frames numbered and not yet written; under the peer's lock. */
    private static java.util.ArrayList<SeqFrame> takeOutbox(LinkPeer p) {
        java.util.ArrayList<SeqFrame> frames = p.outbox;
        p.outbox = new java.util.ArrayList<>();
        return frames;
    }

    /** On the channel's event loop: {@code frames} written in order, one flush, the unread bound checked. */
    private void write(LinkPeer p, Channel ch, java.util.List<SeqFrame> frames) {
        for (SeqFrame f : frames) {
            ch.write(f, ch.voidPromise());
        }
        ch.flush();
        var out = ch.unsafe().outboundBuffer();
        long unread = out == null ? 0 : out.totalPendingWriteBytes();
        if (unread > links.maxUnreadBytes) {
            // it stopped reading: the quiet one, as a kernel heard from for a lease is, so it is
            // the one to renew if it is alive (review F4: not the healthy side by a higher id)
            links.deaths.diedOut(p, "it left " + unread + " bytes unread on its link, over the limit of " + links.maxUnreadBytes
                    + " (a kernel that stops reading is dead)", true);
        }
    }

    /** Keepalive on an idle outgoing link (of the current peer; one replaced at a rejoin says nothing). */
    void keepalive(LinkPeer p) {
        if (links.peers.get(p.id) == p) {
            keepalives.increment();
            send(p.id, LinkFrame.newBuilder().setKeepalive(LinkKeepalive.getDefaultInstance()).build());
        }
    }
}
