package io.machxp.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback to one server, whose client-to-server direction a test can hold: what
 * clients send meanwhile (a cancel, their next calls) is kept, and reaches the server, in order,
 * only at {@link #release}. The server's answers flow all along. So a test can let a server answer
 * a call that its client has already given up on, without the server seeing the cancel first.
 */
final class HoldingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final String host;
    private final int port;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Upstream> upstreams = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private boolean holding;

    HoldingProxy(String target) throws IOException {
        this.host = target.substring(0, target.lastIndexOf(':'));
        this.port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon(this::accept);
    }

    /** Where clients connect: "127.0.0.1:port". */
    String target() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    /** From now on, bytes from clients are kept. */
    void hold() {
        synchronized (lock) {
            holding = true;
        }
    }

    /** How many bytes are kept so far. */
    int heldBytes() {
        synchronized (lock) {
            return upstreams.stream().mapToInt(u -> u.held.size()).sum();
        }
    }

    /** Sends what was kept, in order, and passes bytes on again. */
    void release() throws IOException {
        synchronized (lock) {
            for (Upstream u : upstreams) {
                u.out.write(u.held.toByteArray());
                u.out.flush();
                u.held.reset();
            }
            holding = false;
        }
    }

    private void accept() {
        try {
            while (true) {
                Socket client = listener.accept();
                Socket server = new Socket(host, port);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                Upstream up = new Upstream(server.getOutputStream());
                upstreams.add(up);
                InputStream fromClient = client.getInputStream();
                InputStream fromServer = server.getInputStream();
                OutputStream toClient = client.getOutputStream();
                daemon(() -> pump(fromClient, up));
                daemon(() -> {
                    byte[] buf = new byte[16384];
                    try {
                        for (int n; (n = fromServer.read(buf)) >= 0; ) {
                            toClient.write(buf, 0, n);
                            toClient.flush();
                        }
                    } catch (IOException closed) {
                        // the test ends
                    }
                });
            }
        } catch (IOException closed) {
            // the proxy is closed
        }
    }

    private void pump(InputStream in, Upstream up) {
        byte[] buf = new byte[16384];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                synchronized (lock) {
                    if (holding) {
                        up.held.write(buf, 0, n);
                    } else {
                        up.out.write(buf, 0, n);
                        up.out.flush();
                    }
                }
            }
        } catch (IOException closed) {
            // the test ends
        }
    }

    private static void daemon(Runnable body) {
        Thread t = new Thread(body, "holding-proxy");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
    }

    private static final class Upstream {
        final OutputStream out;
        final ByteArrayOutputStream held = new ByteArrayOutputStream();

        Upstream(OutputStream out) {
            this.out = out;
        }
    }
}
