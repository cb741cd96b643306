package io.machxp.view;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One HTTP connection of the view: GET / (the page), /view.js, /view.css, /state.json (the latest
 * state, for scripts and curl) and /events (Server-Sent Events, kept open). Anything else is 404,
 * any method but GET 405.
 */
final class ViewHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    /** The static files, from the classpath next to this class: path -> (resource, content type). */
    private static final Map<String, String[]> FILES = Map.of(
            "/", new String[] {"index.html", "text/html; charset=utf-8"},
            "/index.html", new String[] {"index.html", "text/html; charset=utf-8"},
            "/view.js", new String[] {"view.js", "text/javascript; charset=utf-8"},
            "/view.css", new String[] {"view.css", "text/css; charset=utf-8"});

    private final ViewServer server;

    ViewHandler(ViewServer server) {
        this.server = server;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        String path = request.uri().replaceFirst("[?#].*", "");
        if (!HttpMethod.GET.equals(request.method())) {
            send(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "only GET\n".getBytes(StandardCharsets.UTF_8));
        } else if (path.equals("/events")) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(head);
            server.subscribe(ctx.channel());
        } else if (path.equals("/state.json")) {
            send(ctx, request, HttpResponseStatus.OK, "application/json", server.latest().getBytes(StandardCharsets.UTF_8));
        } else if (FILES.containsKey(path)) {
            String[] file = FILES.get(path);
            send(ctx, request, HttpResponseStatus.OK, file[1], resource(file[0]));
        } else {
            send(ctx, request, HttpResponseStatus.NOT_FOUND, "text/plain",
                    ("no " + path + " here: the view is at /\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = ViewHandler.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the view's " + name + " is missing from the jar; rebuild machxp");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
            String type, byte[] body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // a page closed mid-stream, or a broken request: that connection only
    }
}
