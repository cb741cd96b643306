package io.machxp.kernel.ipc.link;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;

/**
 * The Netty bootstrap of a connection this kernel dials to another kernel, the same for both
 * kinds: a link that carries this kernel's frames ({@link LinkDials#dial}) and a probe of a kernel
 * declared dead here ({@link LinkProbes}). The channel runs on the links' event loops, without
 * Nagle's delay, with the dialled side's pipeline ({@link LinkPipeline#dialled}: the frames of
 * peer {@code p}, its idle keepalives and what comes back through {@link LinkOut}), under TLS to
 * {@code a}'s host when the links have it. The caller adds what differs (a probe's connect
 * timeout) and connects.
 */
final class LinkBootstrap {
    private LinkBootstrap() {}

    static Bootstrap dialling(IpcLinks links, LinkPeer p, InetSocketAddress a) {
        return new Bootstrap().group(links.group).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        LinkPipeline.dialled(ch.pipeline(), links.leaseMillis, new LinkOut(links, p));
                        if (links.tls != null) {
                            links.tls.dialled(ch.pipeline(), a.getHostString(), a.getPort());
                        }
                    }
                });
    }
}
