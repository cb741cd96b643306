package io.machxp.kernel;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.ipc.link.LinkConfig;
import io.machxp.proto.transport.Transport;
import java.time.Duration;
import java.util.Objects;

/**
 * How to start a kernel.
 *
 * @param name unique among the kernels of one pager
 * @param pagerTarget the pager's gRPC address, "host:port"; with several pagers their addresses separated
 *     by commas, the primary first (see docs/multi-pager.md), and {@code core}'s directory says which
 *     serves each object (by the rule unless it names them)
 * @param bindHost where the task interface listens
 * @param port the task interface's port; 0 picks a free one
 * @param connectTimeout how long to wait for the pager's welcome
 * @param core the core's behaviour: futex cache, piggyback, resident pages, CPUs, PI
 * @param transport for both the task interface (server) and the stream to the pager (client): mutual
 *     TLS with one certificate, or plaintext (on loopback only unless allowed explicitly)
 * @param shmDir where the kernel shares memory with task processes on its host (docs/shared-memory.md);
 *     null: it shares none, and every task call is gRPC
 * @param ipc its IPC links to other kernels (docs/mach-ipc.md), with the same transport; null: none,
 *     IPC between its own tasks only
 * @param xpSend how long and how much the kernel lets wait on its XP stream for a pager that does
 *     not read it ({@link XpSendLimits#DEFAULT} but in tests)
 * @param closeWait how long a clean end waits at most, per pager, for a session's resume to be
 *     taken and then for the answer to the keepalive sent after its last return (xp-spec 2.6:
 *     what it gave back is then stored); {@link #DEFAULT_CLOSE_WAIT} unless given
 */
public record KernelConfig(String name, String pagerTarget, String bindHost, int port, Duration connectTimeout,
        CoreOptions core, Transport transport, java.nio.file.Path shmDir, LinkConfig ipc, XpSendLimits xpSend,
        Duration closeWait) {
    /** A clean end's wait for each pager's answer unless the configuration gives another. */
    public static final Duration DEFAULT_CLOSE_WAIT = Duration.ofSeconds(5);

    public KernelConfig {
        Objects.requireNonNull(xpSend, "xpSend");
        Objects.requireNonNull(closeWait, "closeWait");
        if (closeWait.isNegative()) {
            throw new IllegalArgumentException("the close wait " + closeWait + " is negative: give 0 (do not wait "
                    + "for the pagers' answers) or more");
        }
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pagerTarget, "pagerTarget");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(core, "core");
        Objects.requireNonNull(transport, "transport");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port (0-65535)");
        }
        String[] targets = pagerTarget.split(",", -1);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int p = 0; p < targets.length; p++) {
            String t = targets[p].trim();
            if (t.isEmpty()) {
                throw new IllegalArgumentException("pager " + p + " of '" + pagerTarget + "' has no address: give HOST:PORT"
                        + " for each pager, separated by commas (or one --pager each), the primary first");
            }
            if (!seen.add(t)) {
                throw new IllegalArgumentException("pager " + t + " is listed twice in '" + pagerTarget + "': list each "
                        + "pager once (a kernel keeps one session with each, and a pager takes one per kernel name)");
            }
        }
        int pagers = targets.length;
        if (core.pagers().count() != pagers) {
            if (core.pagers() != io.machxp.kernel.core.PagerDirectory.SINGLE) {
                throw new IllegalArgumentException("the kernel has " + pagers + " pager address(es) but a directory of "
                        + core.pagers().count() + " pagers; give one address per pager, the primary first");
            }
            core = core.withPagers(io.machxp.kernel.core.PagerDirectory.of(pagers, java.util.Map.of()));
        }
    }

    /** The pagers' addresses, the primary first. */
    public java.util.List<String> pagerTargets() {
        return java.util.Arrays.stream(pagerTarget.split(",", -1)).map(String::trim).toList();
    }

    /** With the default close wait ({@link #DEFAULT_CLOSE_WAIT}). */
    public KernelConfig(String name, String pagerTarget, String bindHost, int port, Duration connectTimeout,
            CoreOptions core, Transport transport, java.nio.file.Path shmDir, LinkConfig ipc, XpSendLimits xpSend) {
        this(name, pagerTarget, bindHost, port, connectTimeout, core, transport, shmDir, ipc, xpSend, DEFAULT_CLOSE_WAIT);
    }

    /** With the default bounds for a pager that does not read ({@link XpSendLimits#DEFAULT}). */
    public KernelConfig(String name, String pagerTarget, String bindHost, int port, Duration connectTimeout,
            CoreOptions core, Transport transport, java.nio.file.Path shmDir, LinkConfig ipc) {
        this(name, pagerTarget, bindHost, port, connectTimeout, core, transport, shmDir, ipc, XpSendLimits.DEFAULT);
    }

    /** Without IPC links. */
    public KernelConfig(String name, String pagerTarget, String bindHost, int port, Duration connectTimeout,
            CoreOptions core, Transport transport, java.nio.file.Path shmDir) {
        this(name, pagerTarget, bindHost, port, connectTimeout, core, transport, shmDir, null);
    }

    /** As the full form, sharing memory in {@link io.machxp.kernel.shm.SharedMemory#defaultDir()} ({@code /dev/shm}). */
    public KernelConfig(String name, String pagerTarget, String bindHost, int port, Duration connectTimeout,
            CoreOptions core, Transport transport) {
        this(name, pagerTarget, bindHost, port, connectTimeout, core, transport,
                io.machxp.kernel.shm.SharedMemory.defaultDir());
    }

    /** A kernel in plaintext, which is allowed on loopback only. */
    public KernelConfig(String name, String pagerTarget, String bindHost, int port, Duration connectTimeout,
            CoreOptions core) {
        this(name, pagerTarget, bindHost, port, connectTimeout, core, Transport.LOOPBACK_PLAINTEXT);
    }

    /**
     * How long a kernel on loopback waits for its pager's welcome: the pager is on this machine, so
     * it answers at once unless the machine is loaded (a load of 20 on 2 cores has held a start up
     * for over 10 s); a start happens once, so the bound is generous. Waiting ends at the welcome.
     */
    public static final Duration LOOPBACK_CONNECT_TIMEOUT = Duration.ofSeconds(60);

    /** A kernel on loopback with a free port, caching futexes, one CPU, PI on, plaintext. */
    public static KernelConfig loopback(String name, String pagerTarget) {
        return new KernelConfig(name, pagerTarget, "127.0.0.1", 0, LOOPBACK_CONNECT_TIMEOUT, CoreOptions.DEFAULT);
    }

    public KernelConfig withCore(CoreOptions options) {
        return new KernelConfig(name, pagerTarget, bindHost, port, connectTimeout, options, transport, shmDir, ipc, xpSend, closeWait);
    }

    /** The same kernel with another transport (mutual TLS, or plaintext anywhere). */
    public KernelConfig withTransport(Transport t) {
        return new KernelConfig(name, pagerTarget, bindHost, port, connectTimeout, core, t, shmDir, ipc, xpSend, closeWait);
    }

    /** The same kernel sharing memory in {@code dir}, or none (null). */
    public KernelConfig withShmDir(java.nio.file.Path dir) {
        return new KernelConfig(name, pagerTarget, bindHost, port, connectTimeout, core, transport, dir, ipc, xpSend, closeWait);
    }

    /** The same kernel with IPC links to other kernels ({@code ipc}), or none (null). */
    public KernelConfig withIpc(LinkConfig links) {
        return new KernelConfig(name, pagerTarget, bindHost, port, connectTimeout, core, transport, shmDir, links, xpSend, closeWait);
    }

    /** The same kernel with other bounds for a pager that does not read its stream. */
    public KernelConfig withXpSend(XpSendLimits limits) {
        return new KernelConfig(name, pagerTarget, bindHost, port, connectTimeout, core, transport, shmDir, ipc, limits, closeWait);
    }

    /** The same kernel with another close wait ({@link #closeWait}). */
    public KernelConfig withCloseWait(Duration wait) {
        return new KernelConfig(name, pagerTarget, bindHost, port, connectTimeout, core, transport, shmDir, ipc, xpSend, wait);
    }

    public KernelConfig withCacheFutexes(boolean cache) {
        return withCore(core.withCacheFutexes(cache));
    }

    public KernelConfig withPiggyback(boolean on) {
        return withCore(core.withPiggyback(on));
    }

    public KernelConfig withMaxResidentPages(int pages) {
        return withCore(core.withMaxResidentPages(pages));
    }
}
