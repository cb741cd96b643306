package io.machxp.kernel;

import java.time.Duration;
import java.util.Objects;

/**
 * How to start a kernel.
 *
 * @param name unique among the kernels of one pager
 * @param pagerTarget the pager's gRPC address, "host:port"
 * @param bindHost where the task interface listens
 * @param port the task interface's port; 0 picks a free one
 * @param cacheFutexes false for Part II only: every lock and unlock goes to the pager
 * @param connectTimeout how long to wait for the pager's welcome
 */
public record KernelConfig(String name, String pagerTarget, String bindHost, int port, boolean cacheFutexes,
        Duration connectTimeout) {
    public KernelConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pagerTarget, "pagerTarget");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port (0-65535)");
        }
    }

    /** A kernel on loopback with a free port, caching futexes. */
    public static KernelConfig loopback(String name, String pagerTarget) {
        return new KernelConfig(name, pagerTarget, "127.0.0.1", 0, true, Duration.ofSeconds(10));
    }

    public KernelConfig withCacheFutexes(boolean cache) {
        return new KernelConfig(name, pagerTarget, bindHost, port, cache, connectTimeout);
    }
}
