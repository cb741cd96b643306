package io.machxp.kernel.net;

import io.grpc.netty.NettyServerBuilder;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 keepalive on the connections between task clients and a kernel (the task interface), so
 * that a connection whose other end is gone without a word - its process frozen or its host
 * unplugged, a NAT or firewall that dropped the connection's state - is noticed and closed. The
 * kernel pings a client connection it has read nothing from for {@link #PROPERTY} milliseconds
 * (default {@value #DEFAULT_MILLIS}) and closes it if the ping is not answered within as long
 * again: every call on it is then cancelled as if its caller had given up - a waiting lock stops
 * waiting, a grant that meets the cancel is undone (futexes.md, "A lock its caller gave up on") -
 * instead of waiting on for good and being granted into a connection nobody reads. The kernel
 * also permits client pings every 5 s, with or without calls. The client library does not ping
 * (yet): a kernel older than this permits a ping only every 5 minutes with a call open, and ends
 * the connection of a client that pings more often (GOAWAY too_many_pings), failing its calls.
 */
public final class TaskKeepalive {
    /** System property: the kernel's ping interval and ack timeout on task connections, in milliseconds. */
    public static final String PROPERTY = "machxp.task.keepaliveMillis";
    public static final long DEFAULT_MILLIS = 20_000;
    private static final long PERMITTED_SECONDS = 5;

    private TaskKeepalive() {}

    private static long millis() {
        return Math.max(1, Long.getLong(PROPERTY, DEFAULT_MILLIS));
    }

    /** The kernel's side: it pings its clients, and lets them ping it. */
    public static NettyServerBuilder server(NettyServerBuilder b) {
        long ms = millis();
        return b.keepAliveTime(ms, TimeUnit.MILLISECONDS).keepAliveTimeout(ms, TimeUnit.MILLISECONDS)
                .permitKeepAliveTime(PERMITTED_SECONDS, TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true);
    }
}
