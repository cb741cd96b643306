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
 * @param piggyback entry consistency: a futex release carries the pages dirtied under the futex
 * @param maxResidentPages pages beyond this many are evicted (returned to the pager); 0 = no limit
 */
public record KernelConfig(String name, String pagerTarget, String bindHost, int port, boolean cacheFutexes,
        Duration connectTimeout, boolean piggyback, int maxResidentPages) {
    public KernelConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pagerTarget, "pagerTarget");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port (0-65535)");
        }
        if (maxResidentPages < 0) {
            throw new IllegalArgumentException("max resident pages " + maxResidentPages + " must be 0 (no limit) or more");
        }
    }

    /** A kernel on loopback with a free port, caching futexes. */
    public static KernelConfig loopback(String name, String pagerTarget) {
        return new KernelConfig(name, pagerTarget, "127.0.0.1", 0, true, Duration.ofSeconds(10), false, 0);
    }

    public KernelConfig withCacheFutexes(boolean cache) {
        return new KernelConfig(name, pagerTarget, bindHost, port, cache, connectTimeout, piggyback, maxResidentPages);
    }

    public KernelConfig withPiggyback(boolean on) {
        return new KernelConfig(name, pagerTarget, bindHost, port, cacheFutexes, connectTimeout, on, maxResidentPages);
    }

    public KernelConfig withMaxResidentPages(int pages) {
        return new KernelConfig(name, pagerTarget, bindHost, port, cacheFutexes, connectTimeout, piggyback, pages);
    }
}
