package io.machxp.cluster;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Closes what a command started (an embedded cluster, a kernel, a benchmark's servers) when the
 * JVM is told to stop (Ctrl-C, SIGTERM), so that its kernels' session directories leave
 * {@code /dev/shm} with it (docs/shared-memory.md).
 *
 * <h2>Overview</h2>
 * <pre>
 *   register:  a JVM shutdown hook is added
 *   close:     the command ended on its own and closed what it started: the hook is removed
 *              (nothing if the JVM is already shutting down: the hook runs, closing again is a no-op
 *              for what it closes)
 *   at exit:   the hook closes the resource on a daemon thread of its own and waits for it at most
 *              the bound; a close that takes longer is left (one line on stderr) and the JVM exits
 * </pre>
 * A resource closed twice must accept it (the embedded cluster's kernels and pagers do).
 */
public final class CloseAtExit implements AutoCloseable {
    /** How long a close at exit may take before the JVM exits without it: kernels wait up to 5 s per pager. */
    public static final Duration DEFAULT_BOUND = Duration.ofSeconds(15);

    private final Thread hook;
    private final AtomicBoolean removed = new AtomicBoolean();

    private CloseAtExit(Thread hook) {
        this.hook = hook;
    }

    /** Closes {@code resource} at the JVM's shutdown, within {@code bound}, until {@link #close}. */
    public static CloseAtExit register(String what, AutoCloseable resource, Duration bound) {
        Thread hook = new Thread(() -> closeWithin(what, resource, bound), "machxp-close-at-exit " + what);
        Runtime.getRuntime().addShutdownHook(hook);
        return new CloseAtExit(hook);
    }

    /** {@code resource} closed on a thread of its own; gives up waiting after {@code bound}. */
    public static void closeWithin(String what, AutoCloseable resource, Duration bound) {
        Thread closing = new Thread(() -> {
            try {
                resource.close();
            } catch (Exception e) {
                System.err.println("machxp: closing " + what + " at exit failed: " + e);
            }
        }, "machxp-closing " + what);
        closing.setDaemon(true);
        closing.start();
        try {
            closing.join(bound.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closing.isAlive()) {
            System.err.println("machxp: closing " + what + " took more than " + bound.toSeconds()
                    + " s; exiting without waiting for it");
        }
    }

    /** The command closed what it started itself: no close at exit. */
    @Override
    public void close() {
        if (removed.compareAndSet(false, true)) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran): it closes what is still open
            }
        }
    }
}
