package io.machxp.replica;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * Test fixture: a TCP proxy on loopback in front of one address. {@link #freeze} stops what comes
 * back from that address (held in the proxy, unread: an answer on its way), {@link #cut} closes
 * every connection, as a crashed host's connections break.
 */
final class FreezingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final CountDownLatch thawed = new CountDownLatch(1);
    private volatile boolean frozen;

    FreezingProxy(String host, int port) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket in = server.accept();
                    Socket out = new Socket(host, port);
                    sockets.add(in);
                    sockets.add(out);
                    pump(in, out, false);
                    pump(out, in, true);
                } catch (IOException e) {
                    return; // closed
                }
            }
        }, "freezing-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    /** What comes back from the address is held from now on. */
    void freeze() {
        frozen = true;
    }

    /** Every connection through the proxy breaks. */
    void cut() {
        sockets.forEach(FreezingProxy::close);
    }

    private void pump(Socket from, Socket to, boolean back) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    if (back && frozen) {
                        thawed.await(); // held until the proxy closes
                        return; // closed: nothing more goes through (no spinning once thawed)
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the connection broke
            } finally {
                close(from);
                close(to); // this connection only: the kernel's spare one stays
            }
        }, "freezing-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closed already
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        cut();
        thawed.countDown();
    }
}
