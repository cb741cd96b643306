package io.machxp.pager.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The pager's socket transport: Linux's native epoll when Netty's library for it loads (fewer
 * system calls and no selector garbage per event on the core thread), else Java NIO. Both behave
 * the same to gRPC; only the cost per message differs.
 */
public final class NettyTransport {
    private NettyTransport() {}

    /** True when the native epoll transport is used. */
    public static boolean nativeEpoll() {
        return Epoll.isAvailable();
    }

    public static IoHandlerFactory ioHandlerFactory() {
        return nativeEpoll() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /** One event loop on one daemon thread named {@code threadPrefix}-..., on this transport: a server's sockets and its core. */
    public static EventLoopGroup oneLoop(String threadPrefix) {
        return oneLoop(threadPrefix, () -> { });
    }

    /** {@link #oneLoop(String)}, calling {@code onPass} on its thread at every pass of the loop (to count them). */
    public static EventLoopGroup oneLoop(String threadPrefix, Runnable onPass) {
        return new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(threadPrefix, true),
                new PassCounting(ioHandlerFactory(), onPass));
    }

    public static Class<? extends ServerChannel> serverChannel() {
        return nativeEpoll() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }
}
