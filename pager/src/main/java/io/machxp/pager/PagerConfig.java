package io.machxp.pager;

import io.machxp.pager.object.ObjectCatalog;
import io.machxp.proto.transport.Transport;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * How to start a pager.
 *
 * @param name for logs and the welcome
 * @param bindHost where XP and the admin service listen
 * @param port 0 picks a free one
 * @param pageSize bytes, a power of two
 * @param objects the memory objects served: name -> size in bytes
 * @param storeDir where the pages are kept, one file per object, so that they survive a restart;
 *     null keeps them in memory only
 * @param transport mutual TLS, or plaintext (on loopback only unless allowed explicitly)
 */
public record PagerConfig(String name, String bindHost, int port, int pageSize, Map<String, Long> objects,
        Path storeDir, Transport transport) {
    public static final int DEFAULT_PAGE_SIZE = 4096;

    public PagerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(transport, "transport");
        objects = Map.copyOf(objects);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port (0-65535)");
        }
    }

    /** A pager that keeps its pages in memory only, in plaintext on loopback. */
    public PagerConfig(String name, String bindHost, int port, int pageSize, Map<String, Long> objects) {
        this(name, bindHost, port, pageSize, objects, null, Transport.LOOPBACK_PLAINTEXT);
    }

    /** The same pager with its pages in files in {@code dir} (created if missing); null: in memory. */
    public PagerConfig withStoreDir(Path dir) {
        return new PagerConfig(name, bindHost, port, pageSize, objects, dir, transport);
    }

    /** The same pager with another transport (mutual TLS, or plaintext anywhere). */
    public PagerConfig withTransport(Transport t) {
        return new PagerConfig(name, bindHost, port, pageSize, objects, storeDir, t);
    }

    /** A pager on loopback with a free port serving the given objects. */
    public static PagerConfig loopback(Map<String, Long> objects) {
        return new PagerConfig("pager", "127.0.0.1", 0, DEFAULT_PAGE_SIZE, objects);
    }

    /** The default catalog: one object, "shared", of 1 MiB. */
    public static Map<String, Long> defaultObjects() {
        return Map.of(ObjectCatalog.DEFAULT_OBJECT, ObjectCatalog.DEFAULT_OBJECT_SIZE);
    }
}
