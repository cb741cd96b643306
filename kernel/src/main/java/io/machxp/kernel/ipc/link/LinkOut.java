package io.machxp.kernel.ipc.link;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;

/**
 * The sending end of a link (the connection this kernel dialled): keepalives when idle; the
 * connection closing means the kernel at the other end is dead (what was on it is lost).
 */
final class LinkOut extends ChannelInboundHandlerAdapter {
    private final IpcLinks links;
    private final LinkPeer to;

    LinkOut(IpcLinks links, LinkPeer to) {
        this.links = links;
        this.to = to;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent e && e.state() == IdleState.WRITER_IDLE) {
            links.dials.keepalive(to);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof io.machxp.proto.link.LinkFrame f && f.hasRefused()) {
            links.probes.refusedThere(to, f.getRefused()); // a probe's hello refused: this kernel is dead there
            return;
        }
        io.netty.util.ReferenceCountUtil.release(msg); // nothing else comes back on a sending link
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (to.probe) {
            links.probes.probeEnded(to);
            return;
        }
        links.deaths.diedOut(to, "its link closed");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
