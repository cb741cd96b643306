package io.machxp.cluster;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes what a command started (an embedded cluster, a kernel, a benchmark's servers or worker
 * processes) when the JVM is told to stop (Ctrl-C, SIGTERM), so that its kernels' session
 * directories leave {@code /dev/shm} with it (docs/shared-memory.md) and no process it started
 * outlives it.
 *
 * <h2>Overview</h2>
 * <pre>
 *   register:      a JVM shutdown hook is added for a resource already started
 *   beforeStart:   the hook is added before the resource starts ({@link Starting}); the command then
 *                  starts it through {@link Starting#start}, which hands the hook its result
 *   close:         the command ended on its own and closed what it started: the hook is removed
 *                  (nothing if the JVM is already shutting down: the hook runs, closing again is a no-op
 *                  for what it closes)
 *   at exit:       the hook works on a daemon thread of its own and waits for it at most the bound:
 *                  a resource still starting is waited for (a start that failed leaves nothing to
 *                  close), then closed; whatever takes longer than the bound is left (one line on
 *                  stderr) and the JVM exits
 * </pre>
 * Registering before the start closes the window in which a signal finds the resource half made
 * (a kernel's session directory exists, the hook does not yet). A resource closed twice must accept
 * it (the embedded cluster's kernels and pagers do). The hook logs what it does at INFO.
 */
public final class CloseAtExit implements AutoCloseable {
    /** How long a close at exit may take before the JVM exits without it: kernels wait up to 5 s per pager. */
    public static final Duration DEFAULT_BOUND = Duration.ofSeconds(15);
    private static final Logger LOG = LoggerFactory.getLogger(CloseAtExit.class);

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

    /**
     * A close at exit for a resource not started yet: start it with {@link Starting#start}. At exit
     * the hook waits for the start to end and closes what it made, all within {@code bound}.
     */
    public static <T extends AutoCloseable> Starting<T> beforeStart(String what, Duration bound) {
        return new Starting<>(what, bound);
    }

    /** How a resource is started; it may throw what its start throws. */
    @FunctionalInterface
    public interface Start<T, E extends Exception> {
        T start() throws E;
    }

    /**
     * A close at exit registered before its resource starts. The hook waits for the start given to
     * {@link #start}: its resource is closed; its failure leaves nothing to close (the start
     * cleans up after itself).
     */
    public static final class Starting<T extends AutoCloseable> implements AutoCloseable {
        private final String what;
        private final CompletableFuture<T> started = new CompletableFuture<>();
        private final CloseAtExit registration;

        private Starting(String what, Duration bound) {
            this.what = what;
            this.registration = register(what, this::closeStarted, bound);
        }

        /** Runs {@code start}; its resource (or its failure) goes to the hook as well as to the caller. */
        public <E extends Exception> T start(Start<? extends T, E> start) throws E {
            try {
                T resource = start.start();
                started.complete(resource);
                return resource;
            } catch (Exception | Error e) {
                started.completeExceptionally(e);
                throw e;
            }
        }

        /** The hook's work: waits for the start (the bound is the caller's), closes what it made. */
        void closeStarted() throws Exception {
            if (!started.isDone()) {
                LOG.info("{} is still starting: waiting for its start before closing it", what);
            }
            T resource;
            try {
                resource = started.get();
            } catch (ExecutionException failed) {
                LOG.info("{} did not start ({}): nothing to close", what, failed.getCause().toString());
                return;
            }
            resource.close();
        }

        /** The command closed the resource itself: no close at exit. */
        @Override
        public void close() {
            registration.close();
        }
    }

    /** {@code resource} closed on a thread of its own; gives up waiting after {@code bound}. */
    public static void closeWithin(String what, AutoCloseable resource, Duration bound) {
        long begin = System.nanoTime();
        LOG.info("closing {} at exit (at most {} s)", what, bound.toSeconds());
        Thread closing = new Thread(() -> {
            try {
                resource.close();
                LOG.info("closed {} at exit in {} ms", what, (System.nanoTime() - begin) / 1_000_000);
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
