package io.machxp.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP proxy in front of a kernel's task interface that can hold what the kernel sends back: a
 * slow link, where the kernel has answered (and closed its call OK) but the client has not heard
 * it yet. The client's bytes always pass. While {@link #hold held}, the kernel's bytes wait in the
 * proxy, and the proxy counts the HTTP/2 frames that end a stream (END_STREAM: a call's trailers)
 * among them, so a test knows when the kernel has closed a call. One connection at a time suffices.
 */
final class HeldRepliesProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress kernel;
    private final List<Socket> sockets = new ArrayList<>();
    private boolean held;
    private int endsHeld;
    private final java.io.ByteArrayOutputStream waiting = new java.io.ByteArrayOutputStream();
    private OutputStream toClient;

    HeldRepliesProxy(String kernelTarget) throws IOException {
        int colon = kernelTarget.lastIndexOf(':');
        kernel = new InetSocketAddress(kernelTarget.substring(0, colon), Integer.parseInt(kernelTarget.substring(colon + 1)));
        listener = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "held-replies-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    String target() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    /** From now on the kernel's bytes wait here. */
    synchronized void hold() {
        held = true;
    }

    /** The kernel's bytes held so far go on to the client, and from now on pass at once. */
    synchronized void release() throws IOException {
        held = false;
        if (toClient != null && waiting.size() > 0) {
            waiting.writeTo(toClient);
            toClient.flush();
        }
        waiting.reset();
    }

    /** Calls the kernel closed (END_STREAM frames) while held. */
    synchronized int endsHeld() {
        return endsHeld;
    }

    private void accept() {
        try {
            while (true) {
                Socket client = listener.accept();
                Socket server = new Socket(kernel.getAddress(), kernel.getPort());
                synchronized (this) {
                    sockets.add(client);
                    sockets.add(server);
                    toClient = client.getOutputStream();
                }
                pump(client.getInputStream(), server.getOutputStream());
                Thread down = new Thread(() -> down(server), "held-replies-down");
                down.setDaemon(true);
                down.start();
            }
        } catch (IOException closed) {
            // the proxy is closed
        }
    }

    private static void pump(InputStream in, OutputStream out) {
        Thread t = new Thread(() -> {
            byte[] b = new byte[8192];
            try {
                for (int n; (n = in.read(b)) > 0; ) {
                    out.write(b, 0, n);
                    out.flush();
                }
            } catch (IOException closed) {
                // either side closed
            }
        }, "held-replies-up");
        t.setDaemon(true);
        t.start();
    }

    /** The kernel's side: whole HTTP/2 frames (9-byte header, then the payload), the server sends no preface. */
    private void down(Socket server) {
        try {
            InputStream in = server.getInputStream();
            byte[] header = new byte[9];
            while (true) {
                if (in.readNBytes(header, 0, 9) < 9) {
                    return;
                }
                int length = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
                byte[] payload = in.readNBytes(length);
                if (payload.length < length) {
                    return;
                }
                boolean endsStream = (header[3] == 0x0 || header[3] == 0x1) && (header[4] & 0x1) != 0; // DATA/HEADERS
                synchronized (this) {
                    if (held) {
                        waiting.write(header);
                        waiting.write(payload);
                        if (endsStream) {
                            endsHeld++;
                        }
                    } else {
                        toClient.write(header);
                        toClient.write(payload);
                        toClient.flush();
                    }
                }
            }
        } catch (IOException closed) {
            // either side closed
        }
    }

    @Override
    public synchronized void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
