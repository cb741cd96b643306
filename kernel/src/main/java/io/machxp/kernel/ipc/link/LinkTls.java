package io.machxp.kernel.ipc.link;

import io.machxp.proto.transport.PeerCertificates;
import io.machxp.proto.transport.TlsFiles;
import io.machxp.proto.transport.TransportException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutual TLS on IPC links, with the kernel's own TLS files (the ones it uses for XP and its task
 * interface): the accepting kernel requires a client certificate signed by the CA, the dialling
 * kernel checks the other's certificate against the CA and the host it dials, and both ends then
 * require the peer's certificate to be a kernel's (common name {@value PeerCertificates#KERNEL}):
 * a client's certificate of the same CA cannot speak for a kernel. A connection that fails any of
 * these is closed before a frame is read from it.
 *
 * @param server the context of accepted connections
 * @param client the context of dialled ones
 */
public record LinkTls(SslContext server, SslContext client) {
    private static final Logger log = LoggerFactory.getLogger(LinkTls.class);

    /** Contexts from the kernel's TLS files (checked now: a bad file is one sentence naming it). */
    public static LinkTls of(TlsFiles files) {
        var keys = files.keyManagers()[0];
        var trust = files.trustManagers()[0];
        try {
            SslContext server = SslContextBuilder.forServer(keys).trustManager(trust).clientAuth(ClientAuth.REQUIRE)
                    .sslProvider(SslProvider.JDK).build();
            SslContext client = SslContextBuilder.forClient().keyManager(keys).trustManager(trust)
                    .endpointIdentificationAlgorithm("HTTPS").sslProvider(SslProvider.JDK).build();
            return new LinkTls(server, client);
        } catch (SSLException e) {
            throw new TransportException("cannot use the TLS files " + files.cert() + " for IPC links: " + e.getMessage(), e);
        }
    }

    /** TLS first in an accepted connection's pipeline. */
    void accepted(ChannelPipeline p) {
        p.addFirst("kernels-only", new KernelsOnly());
        p.addFirst("tls", server.newHandler(p.channel().alloc()));
    }

    /** TLS first in a dialled connection's pipeline, checking the name {@code host}. */
    void dialled(ChannelPipeline p, String host, int port) {
        p.addFirst("kernels-only", new KernelsOnly());
        p.addFirst("tls", client.newHandler(p.channel().alloc(), host, port));
    }

    /** Closes the connection unless the handshake succeeded with a kernel's certificate; reads wait for it. */
    private static final class KernelsOnly extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SslHandshakeCompletionEvent done) {
                if (!done.isSuccess()) {
                    log.warn("IPC link with {} refused: TLS handshake failed: {}", ctx.channel().remoteAddress(),
                            done.cause().getMessage());
                    ctx.close();
                    return;
                }
                var session = ctx.pipeline().get(SslHandler.class).engine().getSession();
                if (!PeerCertificates.isKernel(session)) {
                    log.warn("IPC link with {} refused: the certificate of '{}' is not a kernel's (common name '{}')",
                            ctx.channel().remoteAddress(), PeerCertificates.commonName(session), PeerCertificates.KERNEL);
                    ctx.close();
                    return;
                }
                ctx.pipeline().remove(this);
                ctx.fireChannelActive(); // the link's handlers start now, after the check
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // held until the handshake says who the peer is
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg); // only before the check passed (then this handler is gone)
        }
    }
}
