package io.machxp.client;

import io.machxp.proto.shm.CallLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bell of a kernel session's call file ({@link CallLayout#bellFile}): a Unix domain socket
 * the kernel's core thread selects with its other sockets. This process connects once per
 * session (its tasks' channels share the connection) and rings by writing one byte, which wakes
 * the core if it sleeps in its select; a ring while bytes are still unread is not needed and is
 * dropped (the socket does not block). The connection's end tells this process that the kernel
 * is gone ({@link #gone}). Thread-safe.
 */
final class CallBell {
    private static final ConcurrentHashMap<String, CallBell> OPEN = new ConcurrentHashMap<>();

    /** A ring's byte, per thread, in native memory: written without a copy. */
    private static final ThreadLocal<ByteBuffer> RING = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(1));

    private final String path;
    private final SocketChannel socket;

    private CallBell(String path, SocketChannel socket) {
        this.path = path;
        this.socket = socket;
    }

    /**
     * This process's connection to the bell at {@code path}, made on first use.
     *
     * @throws IOException if nothing listens there (then the caller uses gRPC)
     */
    static CallBell of(String path) throws IOException {
        try {
            return OPEN.computeIfAbsent(path, p -> {
                try {
                    SocketChannel s = SocketChannel.open(StandardProtocolFamily.UNIX);
                    try {
                        s.connect(UnixDomainSocketAddress.of(Path.of(p)));
                        s.configureBlocking(false);
                    } catch (IOException | RuntimeException e) {
                        s.close();
                        throw e;
                    }
                    return new CallBell(p, s);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Wakes the kernel's core; a kernel that is gone is found out by the call's own wait. */
    void ring() {
        try {
            socket.write(RING.get().clear());
        } catch (IOException gone) {
            // The kernel closed the session or exited: the waiting call sees CLOSED or the process
            // gone. The connection is dropped, so that nothing in this process rings it again.
            if (OPEN.remove(path, this)) {
                close(socket);
            }
        }
    }

    /**
     * Whether the kernel's end of the connection is gone: its process exited (the system closes
     * its sockets, whatever killed it) or its session closed the bell. The kernel never writes to
     * the connection, so a read that does not block finds nothing while the kernel runs, and the
     * end of the stream (or a reset) once it is gone. No process id: it works across PID
     * namespaces, where the kernel's pid names another process or none (review M3).
     */
    boolean gone() {
        try {
            return socket.read(PROBE.get().clear()) < 0;
        } catch (IOException ended) {
            return true; // reset by the kernel's exit, or closed here after a failed ring
        }
    }

    /** Where a probe of the connection reads (nothing, while the kernel runs). */
    private static final ThreadLocal<ByteBuffer> PROBE = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(1));

    /** The session at {@code path} is over: its connection is closed. */
    static void closed(String path) {
        CallBell bell = OPEN.remove(path);
        if (bell != null) {
            close(bell.socket);
        }
    }

    private static void close(SocketChannel socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a connection to a kernel that is gone: nothing left to release
        }
    }
}
