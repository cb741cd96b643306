package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The receiving end of a link (the connection another kernel dialled): the hello names the
 * kernel and its session ({@link LinkAdmissions#admit}), then frames are taken strictly in sequence.
 * Out of sequence, closed, silent for a lease (the one its hello names, {@link LinkAdmissions#silenceMillis}), a second hello, bytes that are not a frame, or a
 * frame that breaks the rules of ipc_link.proto ({@link LinkFrameCheck}):
 * that kernel is dead. One per connection; its event loop only.
 * <pre>
 *  connected --hello admitted--> open --closed / out of sequence / silent / bad bytes--> closed (kernel dead)
 *  connected --no hello within a lease, a first frame not a hello, bad bytes, refused--> closed (logged)
 * </pre>
 * The hello deadline (a lease; with TLS at least 10 s) counts from the connection, not from the last byte: a connection dripping
 * bytes cannot hold its slot, and until its hello it may send at most {@link LinkFrames#MAX_HELLO}
 * bytes in a frame.
 */
final class LinkIn extends SimpleChannelInboundHandler<LinkFrame> {
    private final IpcLinks links;
    private int from = -1;
    private int session;
    /** This kernel's IPC session when the hello was admitted: the connection's deaths count only in it. */
    private int ownSession;
    /** This connection, once admitted: only the admitted connection's frames reach the core. */
    private io.netty.channel.Channel admitted;
    private long last;
    private ScheduledFuture<?> helloDeadline;
    private boolean failed;
    /** Frames of the current read, handed to the core together when the read completes. */
    private java.util.List<LinkFrame> batch = new java.util.ArrayList<>();

    LinkIn(IpcLinks links) {
        this.links = links;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        helloDeadline = ctx.executor().schedule(() -> {
            if (from < 0 && ctx.channel().isOpen()) {
                links.admissions.refused(ctx.channel(), "no hello within " + links.admissions.helloDeadlineMillis() + " ms of connecting");
                ctx.close();
            }
        }, links.admissions.helloDeadlineMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, LinkFrame f) {
        if (from < 0) {
            if (!f.hasHello()) {
                links.admissions.refused(ctx.channel(), "its first frame is not a LinkHello (" + f.getBodyCase() + ")");
                ctx.close();
                return;
            }
            if (f.getHello().getProbe()) {
                links.probes.probed(f.getHello().getKernel(), f.getHello().getIncarnation(), f.getHello().getSession(), ctx.channel());
                ctx.close(); // a probe is never a link
                return;
            }
            int at = links.admissions.admit(f.getHello().getKernel(), f.getHello().getIncarnation(), f.getHello().getSession(),
                    ctx.channel());
            if (at == LinkAdmissions.REFUSED) {
                ctx.close(); // refused, and logged, by admit
                return;
            }
            from = f.getHello().getKernel();
            admitted = ctx.channel();
            session = f.getHello().getSession();
            ownSession = at; // read inside admit: a leave/rejoin or renewal right after it cannot move it
            helloDeadline.cancel(false);
            ctx.pipeline().get(LinkFrames.class).helloTaken();
            // silent for the lease the sender said (LinkHello.lease_millis), not this kernel's own:
            // a peer with a longer lease sends its keepalives further apart
            ctx.pipeline().replace(IdleStateHandler.class, LinkPipeline.IDLE, new IdleStateHandler(
                    links.admissions.silenceMillis(f.getHello().getLeaseMillis()), 0, 0, TimeUnit.MILLISECONDS));
            return;
        }
        if (f.getSeq() != last + 1) {
            handOver();
            links.deaths.diedIn(from, session, ownSession, "frame " + f.getSeq() + " after " + last + ": the link lost frames");
            ctx.close();
            return;
        }
        last = f.getSeq();
        if (f.hasHello()) {
            handOver();
            links.deaths.diedIn(from, session, ownSession, "a second LinkHello on its link (frame " + f.getSeq()
                    + "): a kernel says hello once per connection");
            ctx.close();
            return;
        }
        String bad = LinkFrameCheck.problem(f);
        if (bad != null) {
            handOver();
            links.deaths.diedIn(from, session, ownSession, "frame " + f.getSeq() + " breaks ipc_link.proto: " + bad);
            ctx.close();
            return;
        }
        if (!f.hasKeepalive()) {
            batch.add(f);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        handOver();
        ctx.fireChannelReadComplete();
    }

    /** The frames taken so far go to the core (before any news of the sender's death). */
    private void handOver() {
        if (!batch.isEmpty() && from >= 0) {
            links.admissions.deliver(from, session, admitted, batch);
            batch = new java.util.ArrayList<>();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent e && e.state() == IdleState.READER_IDLE) {
            if (from >= 0) {
                links.deaths.diedIn(from, session, ownSession, "silent for a lease", true);
            } else {
                links.admissions.refused(ctx.channel(), "silent for a lease before its hello");
            }
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        handOver();
        if (helloDeadline != null) {
            helloDeadline.cancel(false);
        }
        if (from >= 0) {
            links.admissions.closedIn(from, ctx.channel());
            links.deaths.diedIn(from, session, ownSession, "its link closed");
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failed) {
            return; // the rest of the same bad bytes, until the close
        }
        failed = true;
        boolean tls = io.machxp.proto.transport.SocketErrors.innermost(cause) instanceof javax.net.ssl.SSLException;
        String why = (tls ? "its TLS failed: " : cause instanceof DecoderException
                ? "it sent bytes that are not a length-prefixed LinkFrame: " : "its link failed: ") + rootMessage(cause);
        handOver();
        if (from >= 0) {
            links.deaths.diedIn(from, session, ownSession, why);
        } else if (!tls) { // a failed handshake is LinkTls's to log
            links.admissions.refused(ctx.channel(), why);
        }
        ctx.close();
    }

    private static String rootMessage(Throwable t) {
        Throwable root = io.machxp.proto.transport.SocketErrors.innermost(t);
        return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
    }
}
