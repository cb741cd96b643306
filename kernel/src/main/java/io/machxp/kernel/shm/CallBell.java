package io.machxp.kernel.shm;

import io.machxp.proto.shm.CallLayout;
import io.netty.channel.IoEvent;
import io.netty.channel.IoHandler;
import io.netty.channel.IoRegistration;
import io.netty.channel.nio.NioIoHandle;
import io.netty.channel.nio.NioIoOps;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bell of a session's call file ({@link CallLayout#bellFile}): a Unix domain socket, owner-only,
 * that the kernel core's event loop selects together with its other sockets ({@link CallLoop}), so
 * that a task process's ring wakes the core thread itself. A process connects once and rings by
 * writing a byte; the bytes mean nothing (the doorbell word in the file says what is new), so the
 * loop reads and drops them.
 *
 * <pre>
 *   bound (constructor) --register, core thread--> accepting (each connection read for rings)
 *   a connection: its bytes dropped on each select; its end (the process exits) -> closed
 *   any --close--> the socket, its connections and its file gone
 * </pre>
 * Thread-safe: registered and read on the core thread, closed from any.
 */
final class CallBell implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CallBell.class);

    private final Path path;
    private final ServerSocketChannel server;
    private final Set<SelectableChannel> open = ConcurrentHashMap.newKeySet();
    /** Where rings are read into and dropped: core thread only. */
    private final ByteBuffer drop = ByteBuffer.allocateDirect(256);
    private volatile boolean closed;

    /**
     * Binds the socket at {@code path} (replacing a stale one), owner-only. The path is in the
     * session's owner-only directory ({@link SharedMemory}), so nobody else can connect in the
     * moment between the bind (made with the umask's mode) and the chmod.
     *
     * @throws IOException if it cannot be bound (e.g. a path longer than a socket address takes)
     */
    CallBell(Path path) throws IOException {
        this.path = path;
        Files.deleteIfExists(path);
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            s.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
            s.close();
            Files.deleteIfExists(path);
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        this.server = s;
        open.add(s);
    }

    Path path() {
        return path;
    }

    /** Core thread: the loop's selector watches the socket for connections, and each for rings. */
    void register(IoHandler nio) throws Exception {
        if (!closed) {
            watch(nio, new Handle(server, h -> accept(nio)), NioIoOps.ACCEPT);
        }
    }

    private static void watch(IoHandler nio, Handle h, NioIoOps ops) throws Exception {
        IoRegistration r = nio.register(h);
        h.registration = r;
        r.submit(ops);
    }

    private void accept(IoHandler nio) {
        try {
            SocketChannel c;
            while (!closed && (c = server.accept()) != null) {
                c.configureBlocking(false);
                open.add(c);
                SocketChannel connection = c;
                watch(nio, new Handle(c, h -> drain(connection, h)), NioIoOps.READ);
            }
        } catch (Exception e) {
            if (!closed) {
                log.warn("call bell {}: cannot accept a task process's connection ({}); its calls wait for the "
                        + "core's next turn", path, e.toString());
            }
        }
    }

    /** Drops what was rung; a connection that ended (its process exited) is closed. */
    private void drain(SocketChannel c, Handle handle) {
        try {
            int n;
            do { // usually one read: a ring is a byte, and a few rings a few bytes
                drop.clear();
                n = c.read(drop);
            } while (n == drop.capacity());
            if (n < 0) {
                end(c, handle);
            }
        } catch (IOException e) {
            end(c, handle);
        }
    }

    private void end(SocketChannel c, Handle handle) {
        IoRegistration r = handle.registration;
        if (r != null) {
            r.cancel();
        }
        open.remove(c);
        try {
            c.close();
        } catch (IOException ignored) {
            // closing a socket whose peer is gone: nothing left to release
        }
    }

    /** The session ended: no ring is taken after this; the socket file is deleted. Any thread. */
    @Override
    public void close() {
        closed = true;
        for (SelectableChannel c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing: the selector drops its key
            }
        }
        open.clear();
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a socket file left in a tmpfs is reclaimed with the stale files of dead kernels
        }
    }

    /** A channel the loop's selector watches, and what to do when it is ready. */
    private static final class Handle implements NioIoHandle {
        private final SelectableChannel channel;
        private final java.util.function.Consumer<Handle> ready;
        IoRegistration registration;

        Handle(SelectableChannel channel, java.util.function.Consumer<Handle> ready) {
            this.channel = channel;
            this.ready = ready;
        }

        @Override
        public SelectableChannel selectableChannel() {
            return channel;
        }

        @Override
        public void handle(IoRegistration r, IoEvent event) {
            ready.accept(this);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
