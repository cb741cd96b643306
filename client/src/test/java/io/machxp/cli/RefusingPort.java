package io.machxp.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback address where nothing listens, and where nothing can listen while this is open: the
 * address of a pager (or kernel) that is down, for tests that expect "Connection refused".
 *
 * <p>A socket bound to a port but never listening holds that port: a connection to it is refused
 * (nothing accepts it), and no other socket can bind it, neither a server asking for any free port
 * (port 0: another test's pager, in this JVM or in another surefire fork, or the demo run beside
 * the build) nor one asking for this port (the held socket has no SO_REUSEADDR, so Linux refuses
 * even a server that has it). A port found by opening a server on port 0 and closing it again is
 * free at once: a server started meanwhile may get it, and the connection then reaches that
 * server. If it is a pager, it welcomes the kernel, whose command runs until it is stopped: that is
 * how ManyPagersCliTest ran for its whole 60 s timeout in CI.
 */
public final class RefusingPort implements AutoCloseable {
    private final Socket held;

    private RefusingPort(Socket held) {
        this.held = held;
    }

    /** Holds a free loopback port, bound and not listening, until {@link #close}. */
    public static RefusingPort open() throws IOException {
        Socket socket = new Socket();
        try {
            socket.setReuseAddress(false); // the default; with it on, a server with SO_REUSEADDR could bind the port too
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0));
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        return new RefusingPort(socket);
    }

    public int port() {
        return held.getLocalPort();
    }

    /** "127.0.0.1:PORT", as a --pager, --target or --connect option takes it. */
    public String target() {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close() throws IOException {
        held.close();
    }
}
