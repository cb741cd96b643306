package io.machxp.bench.jmh;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * The baseline of the RPC between kernels: a bare Netty echo over loopback, with the same
 * length-field framing as the IPC links and nothing else (no protobuf, no core thread). One call
 * at a time: {@link #call} writes a frame and waits for it to come back.
 */
final class NettyEcho implements AutoCloseable {
    private final Channel server;
    private final Channel client;
    private volatile CompletableFuture<Integer> pending;

    NettyEcho(EventLoopGroup group) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(framed((ctx, msg) -> ctx.writeAndFlush(msg.retain())))
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        client = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(framed((ctx, msg) -> pending.complete(msg.readableBytes())))
                .connect(server.localAddress()).sync().channel();
    }

    /** A channel with the links' length-field framing and {@code read} for each frame. */
    private static ChannelInitializer<SocketChannel> framed(java.util.function.BiConsumer<ChannelHandlerContext, ByteBuf> read) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(1 << 20, 0, 4, 0, 4), new LengthFieldPrepender(4),
                        new SimpleChannelInboundHandler<ByteBuf>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                read.accept(ctx, msg);
                            }
                        });
            }
        };
    }

    /** Sends {@code size} bytes and waits for them to come back. */
    int call(int size) {
        CompletableFuture<Integer> answer = new CompletableFuture<>();
        pending = answer;
        client.writeAndFlush(client.alloc().buffer(size).writeZero(size));
        return answer.join();
    }

    @Override
    public void close() {
        client.close().syncUninterruptibly();
        server.close().syncUninterruptibly();
    }
}
