package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * The receiving end of a link (the connection another kernel dialled): the hello names the
 * kernel and its session ({@link IpcLinks#admit}), then frames are taken strictly in sequence. Out of sequence, closed, or silent for a
 * lease: that kernel is dead. One per connection; its event loop only.
 */
final class LinkIn extends SimpleChannelInboundHandler<LinkFrame> {
    private final IpcLinks links;
    private int from = -1;
    private int session;
    private long last;
    /** Frames of the current read, handed to the core together when the read completes. */
    private java.util.List<LinkFrame> batch = new java.util.ArrayList<>();

    LinkIn(IpcLinks links) {
        this.links = links;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, LinkFrame f) {
        if (from < 0) {
            if (!f.hasHello() || !links.admit(f.getHello().getKernel(), f.getHello().getIncarnation(),
                    f.getHello().getSession())) {
                ctx.close(); // not a kernel, or one already declared dead and not back with a later session
                return;
            }
            from = f.getHello().getKernel();
            session = f.getHello().getSession();
            return;
        }
        if (f.getSeq() != last + 1) {
            handOver();
            links.diedIn(from, session, "frame " + f.getSeq() + " after " + last + ": the link lost frames");
            ctx.close();
            return;
        }
        last = f.getSeq();
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
            links.deliver(from, session, batch);
            batch = new java.util.ArrayList<>();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent e && e.state() == IdleState.READER_IDLE) {
            if (from >= 0) {
                links.diedIn(from, session, "silent for a lease");
            }
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        handOver();
        if (from >= 0) {
            links.diedIn(from, session, "its link closed");
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
