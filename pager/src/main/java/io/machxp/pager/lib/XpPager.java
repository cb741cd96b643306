package io.machxp.pager.lib;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.transport.Transport;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The pager library's entry: an XP pager serving memory objects whose pages come from a
 * {@link PagerBackend}, with the futex decisions of a {@link GrantPolicy}. The library handles
 * sessions, leases, keepalives, page coherence across kernels, futexes with fencing tokens,
 * priority inheritance and owner_died, restart and reclaim, and every answer docs/xp-spec.md
 * requires; the backend provides the data, the policy decides whom to grant, when to ask for a
 * futex back and what a grant carries.
 *
 * <pre>{@code
 * Pager pager = XpPager.serve(myBackend)
 *         .object("shared", 1 << 20)
 *         .port(7079)
 *         .lease(Duration.ofSeconds(5))
 *         .start();                       // listening; close() stops it
 * }</pre>
 *
 * Defaults: name "pager", loopback plaintext on a free port, pages of 4096 bytes, the lease of
 * {@link PagerConfig#DEFAULT_LEASE}, {@link GrantPolicy#IMMEDIATE}, and a fresh start (no earlier
 * pager on this address left kernels behind; say {@code freshStart(false)} when restarting one).
 * machxp's own pager ({@code machxp pager}) is this with machxp's memory or file store.
 */
public final class XpPager {
    private final PagerBackend backend;
    private final Map<String, Long> objects = new LinkedHashMap<>();
    private PagerConfig config = new PagerConfig("pager", "127.0.0.1", 0, PagerConfig.DEFAULT_PAGE_SIZE, Map.of());
    private GrantPolicy policy = GrantPolicy.IMMEDIATE;
    private boolean precious;
    private java.nio.file.Path stateDir;

    private XpPager(PagerBackend backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
    }

    /** A pager whose pages come from {@code backend}; it is closed with the pager. */
    public static XpPager serve(PagerBackend backend) {
        return new XpPager(backend);
    }

    /** Serves a memory object of {@code size} bytes (a positive multiple of the page size). */
    public XpPager object(String name, long size) {
        objects.put(Objects.requireNonNull(name, "name"), size);
        return this;
    }

    /**
     * Takes every setting of {@code c} (name, address, page size, objects, lease, TLS, fresh start,
     * the bounds for a kernel that does not read).
     */
    public XpPager config(PagerConfig c) {
        config = Objects.requireNonNull(c, "config");
        objects.putAll(c.objects());
        return this;
    }

    /** The pager's name, in its welcome and logs. */
    public XpPager name(String name) {
        return with(new PagerConfig(name, config.bindHost(), config.port(), config.pageSize(), Map.of(),
                config.storeDir(), config.transport(), config.lease(), config.freshStart(), config.unreadLimits(),
                config.answerDeadline()));
    }

    /** Where to listen; port 0 picks a free one. */
    public XpPager listen(String bindHost, int port) {
        return with(new PagerConfig(config.name(), bindHost, port, config.pageSize(), Map.of(), config.storeDir(),
                config.transport(), config.lease(), config.freshStart(), config.unreadLimits(),
                config.answerDeadline()));
    }

    /** The port on loopback; 0 picks a free one. */
    public XpPager port(int port) {
        return listen(config.bindHost(), port);
    }

    /** Bytes per page, a power of two of at least 64. */
    public XpPager pageSize(int bytes) {
        return with(new PagerConfig(config.name(), config.bindHost(), config.port(), bytes, Map.of(),
                config.storeDir(), config.transport(), config.lease(), config.freshStart(), config.unreadLimits(),
                config.answerDeadline()));
    }

    /** How long a kernel's session lives without a word from it; zero: as long as its stream. */
    public XpPager lease(Duration lease) {
        return with(config.withLease(lease));
    }

    /** Mutual TLS, or plaintext (on loopback only unless allowed explicitly). */
    public XpPager transport(Transport transport) {
        return with(config.withTransport(transport));
    }

    /** False when an earlier pager on this address may have left kernels holding its futexes. */
    public XpPager freshStart(boolean fresh) {
        return with(config.withFreshStart(fresh));
    }

    /** The futex decisions: whom to grant, when to ask for a futex back, what a grant carries. */
    public XpPager policy(GrantPolicy grantPolicy) {
        policy = Objects.requireNonNull(grantPolicy, "policy");
        return this;
    }

    /**
     * Starts the pager: listening when this returns.
     *
     * @throws IOException if the port cannot be bound
     * @throws IllegalArgumentException if no object is served, or an object's size is not whole pages
     */
    public Pager start() throws IOException {
        if (objects.isEmpty()) {
            throw new IllegalArgumentException("a pager serves at least one memory object: call object(name, size)");
        }
        PagerConfig c = new PagerConfig(config.name(), config.bindHost(), config.port(), config.pageSize(), objects,
                config.storeDir(), config.transport(), config.lease(), config.freshStart(), config.unreadLimits(),
                config.answerDeadline());
        PageStore store = backend instanceof PageStore durable ? durable
                : stateDir != null ? new DurableBackendStore(backend, c.pageSize(), stateDir)
                : new BackendStore(backend, c.pageSize());
        return Pager.start(c, store, policy).supplyPrecious(precious);
    }

    /**
     * Supply pages precious (Mach's precious pages, XP spec 6.10): to a kernel that names it in its
     * hello, each page goes with {@code precious} and {@code reply}, and the kernel gives it back with
     * its data rather than drop it. For a backend that keeps no copy of what it hands out.
     */
    public XpPager precious(boolean on) {
        precious = on;
        return this;
    }

    /**
     * Keeps the pager's state in {@code dir} (created if need be): each page's version, the futex
     * holders' journal, the epoch and the last lease. With a backend whose bytes survive a restart
     * (a file), the pager started again on the directory gives its kernels a grace period to reclaim
     * what they hold (XP spec 9.2, 9.4) instead of refusing every reclaim. Its first start on an
     * empty directory knows nothing of the pagers before it: without {@link #freshStart}(true) it
     * waits a lease and refuses reclaims, as a pager without a store. Without it, the state is kept
     * in memory.
     */
    public XpPager stateDir(java.nio.file.Path dir) {
        stateDir = Objects.requireNonNull(dir, "dir");
        return this;
    }

    private XpPager with(PagerConfig c) {
        config = c;
        return this;
    }
}
