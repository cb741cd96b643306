package io.machxp.view;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The view's HTTP endpoint (Netty): the page and its script and style from the classpath
 * ({@link ViewHandler}), and a Server-Sent Events stream at /events to which {@link #publish}
 * sends each new state as one {@code data:} line. A page that connects gets the latest state at
 * once. Listens on loopback only: the view shows a cluster's inner state and has no login.
 */
public final class ViewServer implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup streams = new DefaultChannelGroup("view-events", GlobalEventExecutor.INSTANCE);
    private final AtomicReference<String> latest = new AtomicReference<>("{}");
    private final Channel server;

    private ViewServer(String host, int port) throws IOException {
        try {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                    new ViewHandler(ViewServer.this));
                        }
                    }).bind(new InetSocketAddress(host, port)).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("interrupted while binding the view to " + host + ":" + port, e);
        } catch (Exception e) { // Netty throws the bind's java.net.BindException without declaring it
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("the view cannot listen on " + host + ":" + port + ": "
                    + io.machxp.proto.transport.SocketErrors.rootMessage(e)
                    + "; choose another port for it, or 0 for any free one", e);
        }
    }

    /** Serves on 127.0.0.1:{@code port} (0: any free port). */
    public static ViewServer start(int port) throws IOException {
        return new ViewServer("127.0.0.1", port);
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    public String url() {
        return "http://127.0.0.1:" + port() + "/";
    }

    /** Sends {@code json} (one line) to every open event stream, and keeps it for pages that connect later. */
    public void publish(String json) {
        latest.set(json);
        streams.writeAndFlush(event(json));
    }

    /** Open /events streams now. */
    public int watchers() {
        return streams.size();
    }

    String latest() {
        return latest.get();
    }

    /** A new /events stream: it gets the latest state now, then every publish. */
    void subscribe(Channel channel) {
        streams.add(channel);
        channel.writeAndFlush(event(latest.get()));
    }

    private static DefaultHttpContent event(String json) {
        return new DefaultHttpContent(Unpooled.copiedBuffer("data: " + json + "\n\n", StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        streams.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
