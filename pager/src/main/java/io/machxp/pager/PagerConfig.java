package io.machxp.pager;

import io.machxp.pager.net.UnreadLimits;
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
 * @param pageSize bytes, a power of two of at least 64
 * @param objects the memory objects served: name -> size in bytes, each a positive multiple of the page size
 * @param storeDir where the pages are kept, one file per object, so that they survive a restart;
 *     null keeps them in memory only
 * @param transport mutual TLS, or plaintext (on loopback only unless allowed explicitly)
 * @param lease how long a kernel's session lives without a word from it (the kernel sends a
 *     keepalive every quarter of it); zero: no lease, a session lives as long as its stream
 * @param freshStart no earlier pager on this address has kernels that may still hold its futexes
 *     (an embedded cluster, a test): no grace period. Otherwise a pager whose store an earlier one
 *     left, or that keeps no store and so cannot tell a first start from a restart, grants nothing
 *     for a grace period (see {@link Pager})
 * @param unreadLimits how long, and for how many bytes, the pager waits for a kernel that does not
 *     read its stream before it ends that kernel's session ({@link UnreadLimits#DEFAULT}: 10 s, 256 MiB)
 * @param answerDeadline how long the pager waits for a kernel to answer a lock_request (or a
 *     trylock's relinquish_futex) while it answers nothing else it was asked, before it ends that
 *     kernel's session (its lease then decides, as for any ended session); null: derived from the
 *     lease ({@link #answerDeadlineNanos}); zero: no deadline; else at least two leases (a
 *     replicated pager's failover and the kernel's resume may take 1.8). Off without a lease
 */
public record PagerConfig(String name, String bindHost, int port, int pageSize, Map<String, Long> objects,
        Path storeDir, Transport transport, java.time.Duration lease, boolean freshStart, UnreadLimits unreadLimits,
        java.time.Duration answerDeadline) {
    public static final int DEFAULT_PAGE_SIZE = 4096;
    /** A few seconds: a dead kernel's futexes wait at most this long for their next owner. */
    public static final java.time.Duration DEFAULT_LEASE = java.time.Duration.ofSeconds(5);

    public PagerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(transport, "transport");
        objects = Map.copyOf(objects);
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(unreadLimits, "unreadLimits");
        if (lease.isNegative()) {
            throw new IllegalArgumentException("the lease " + lease + " must not be negative");
        }
        if (answerDeadline != null && answerDeadline.isNegative()) {
            throw new IllegalArgumentException("the answer deadline " + answerDeadline + " must not be negative");
        }
        String refused = answerDeadline == null ? null : io.machxp.pager.core.PagerOptions
                .answerDeadlineRefusal(answerDeadline.toNanos(), lease.toNanos());
        if (refused != null) {
            throw new IllegalArgumentException(refused);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port (0-65535)");
        }
        // Checked here, before anything starts: a replicated pager builds its core only when it
        // applies its group's genesis, on Ratis's applying thread, where an exception closes that
        // replica's Raft server - and then the next leader's, one replica after the other.
        io.machxp.pager.core.PagerCore.checkPageSize(pageSize);
        ObjectCatalog.checkSizes(objects, pageSize);
    }

    /**
     * A pager that keeps its pages in memory only, in plaintext on loopback, started fresh (an
     * embedded cluster's or a test's: no earlier pager had its kernels).
     */
    public PagerConfig(String name, String bindHost, int port, int pageSize, Map<String, Long> objects) {
        this(name, bindHost, port, pageSize, objects, null, Transport.LOOPBACK_PLAINTEXT, DEFAULT_LEASE, true);
    }

    /**
     * A pager with the default bounds for a kernel that does not read ({@link UnreadLimits#DEFAULT})
     * and the answer deadline derived from the lease.
     */
    public PagerConfig(String name, String bindHost, int port, int pageSize, Map<String, Long> objects,
            Path storeDir, Transport transport, java.time.Duration lease, boolean freshStart) {
        this(name, bindHost, port, pageSize, objects, storeDir, transport, lease, freshStart, UnreadLimits.DEFAULT,
                null);
    }

    /**
     * The answer deadline in effect: the one given, else what a healthy kernel may need with this
     * lease ({@link io.machxp.pager.core.PagerOptions#defaultAnswerDeadlineNanos}: 22 s plus two
     * leases, 32 s with the default lease); 0 without a lease or with a deadline of zero.
     */
    public long answerDeadlineNanos() {
        if (lease.isZero()) {
            return 0;
        }
        return answerDeadline == null
                ? io.machxp.pager.core.PagerOptions.defaultAnswerDeadlineNanos(lease.toNanos())
                : answerDeadline.toNanos();
    }

    /** The same pager with another answer deadline (null: derived from the lease; zero: none). */
    public PagerConfig withAnswerDeadline(java.time.Duration deadline) {
        return new PagerConfig(name, bindHost, port, pageSize, objects, storeDir, transport, lease, freshStart,
                unreadLimits, deadline);
    }

    /** The same pager, started fresh or not (see freshStart). */
    public PagerConfig withFreshStart(boolean fresh) {
        return new PagerConfig(name, bindHost, port, pageSize, objects, storeDir, transport, lease, fresh, unreadLimits,
                answerDeadline);
    }

    /** The same pager with its pages in files in {@code dir} (created if missing); null: in memory. */
    public PagerConfig withStoreDir(Path dir) {
        return new PagerConfig(name, bindHost, port, pageSize, objects, dir, transport, lease, freshStart, unreadLimits,
                answerDeadline);
    }

    /** The same pager with another session lease (zero: none). */
    public PagerConfig withLease(java.time.Duration lease) {
        return new PagerConfig(name, bindHost, port, pageSize, objects, storeDir, transport, lease, freshStart,
                unreadLimits, answerDeadline);
    }

    /** The same pager with another transport (mutual TLS, or plaintext anywhere). */
    public PagerConfig withTransport(Transport t) {
        return new PagerConfig(name, bindHost, port, pageSize, objects, storeDir, t, lease, freshStart, unreadLimits,
                answerDeadline);
    }

    /**
     * The same pager with other bounds for a kernel that does not read its stream (tests: a short
     * patience, rather than waiting out the default 10 s).
     */
    public PagerConfig withUnreadLimits(UnreadLimits limits) {
        return new PagerConfig(name, bindHost, port, pageSize, objects, storeDir, transport, lease, freshStart, limits,
                answerDeadline);
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
