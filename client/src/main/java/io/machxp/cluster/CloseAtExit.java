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
 *   beforeInterruptibleStart: the same, for a start that ends itself on an interrupt and cleans up
 *                  (Kernel.start closes the kernel): the hook interrupts a start still running
 *   close:         the command ended on its own and closed what it started: the hook is removed
 *                  (nothing if the JVM is already shutting down: the hook runs, closing again is a no-op
 *                  for what it closes)
 *   at exit:       the hook works on a daemon thread of its own and waits for it at most the bound:
 *                  a resource still starting is waited for (its start interrupted first if it is
 *                  interruptible; a start that failed leaves nothing to close), then closed; whatever
 *                  takes longer than the bound is left (one line on stderr) and the JVM exits
 * </pre>
 * Registering before the start closes the window in which a signal finds the resource half made
 * (a kernel's session directory exists, the hook does not yet). A resource closed twice must accept
 * it, also concurrently: a signal during the command's own close makes the hook close it while
 * that close still runs (review F3 of ops: the command's try-with-resources closes the resource
 * before it removes the hook). So every resource given here, each bench {@code LockService}
 * implementation included, must tolerate a concurrent second close, and should return from it only
 * once the first has finished (the JVM exits when the hook returns): {@code Kernel.close} and
 * {@code EmbeddedCluster.close} do. The hook logs what it does at INFO.
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
        return registerClosing(what, closingOf(resource), bound);
    }

    private static CloseAtExit registerClosing(String what, Closing closing, Duration bound) {
        Thread hook = new Thread(() -> closeWithin(what, closing, bound), "machxp-close-at-exit " + what);
        Runtime.getRuntime().addShutdownHook(hook);
        return new CloseAtExit(hook);
    }

    /**
     * A close at exit for a resource not started yet: start it with {@link Starting#start}. At exit
     * the hook waits for the start to end and closes what it made, all within {@code bound}.
     */
    public static <T extends AutoCloseable> Starting<T> beforeStart(String what, Duration bound) {
        return new Starting<>(what, bound, false);
    }

    /**
     * As {@link #beforeStart}, for a start that ends on an interrupt of its thread and cleans up
     * after itself (a kernel's: {@code Kernel.start} closes the kernel and throws): at exit the hook
     * interrupts a start still running rather than wait for it (a pager that accepts and never
     * answers would hold it for the whole --connect-timeout), then closes what it made, if anything.
     */
    public static <T extends AutoCloseable> Starting<T> beforeInterruptibleStart(String what, Duration bound) {
        return new Starting<>(what, bound, true);
    }

    /** A close at exit's work: true if it closed something, false if there was nothing to close. */
    @FunctionalInterface
    private interface Closing {
        boolean close() throws Exception;
    }

    private static Closing closingOf(AutoCloseable resource) {
        return () -> {
            resource.close();
            return true;
        };
    }

    /** How a resource is started; it may throw what its start throws. */
    @FunctionalInterface
    public interface Start<T, E extends Exception> {
        T start() throws E;
    }

    /**
     * A close at exit registered before its resource starts. The hook waits for the start given to
     * {@link #start} (interrupting its thread first if the start is interruptible): its resource is
     * closed; its failure leaves nothing to close (the start cleans up after itself).
     *
     * <p>The thread running the start is known to the hook ({@code starting}, under {@code lock})
     * from the start's beginning until its result is handed over, so the hook interrupts only a start
     * that still runs; a hook that ran before the start began marks it ended ({@code ending}), and
     * the start then begins with its thread interrupted. A start that ignored the interrupt and
     * succeeded returns with the interrupt status set (the JVM is stopping) and the hook closes it.
     */
    public static final class Starting<T extends AutoCloseable> implements AutoCloseable {
        private final String what;
        private final boolean interruptible;
        private final CompletableFuture<T> started = new CompletableFuture<>();
        private final CloseAtExit registration;
        private final Object lock = new Object();
        private Thread starting; // under lock: the thread running the start, while it runs
        private boolean ending; // under lock: the hook asked the start to end

        private Starting(String what, Duration bound, boolean interruptible) {
            this.what = what;
            this.interruptible = interruptible;
            this.registration = registerClosing(what, this::closeStarted, bound);
        }

        /** Runs {@code start}; its resource (or its failure) goes to the hook as well as to the caller. */
        public <E extends Exception> T start(Start<? extends T, E> start) throws E {
            synchronized (lock) {
                starting = Thread.currentThread();
                if (ending) {
                    starting.interrupt(); // the hook ran already: the start ends at its first wait
                }
            }
            try {
                T resource = start.start();
                handOver(() -> started.complete(resource));
                return resource;
            } catch (Exception | Error e) {
                handOver(() -> started.completeExceptionally(e));
                throw e;
            }
        }

        private void handOver(Runnable result) {
            synchronized (lock) {
                starting = null;
                result.run();
            }
        }

        /**
         * The hook's work: ends the start if it is interruptible, waits for it (the bound is the
         * caller's), closes what it made; false if it made nothing.
         */
        boolean closeStarted() throws Exception {
            if (!started.isDone()) {
                if (interruptible) {
                    LOG.info("{} is still starting: ending its start, then closing what it made", what);
                    endStart();
                } else {
                    LOG.info("{} is still starting: waiting for its start before closing it", what);
                }
            }
            T resource;
            try {
                resource = started.get();
            } catch (ExecutionException failed) {
                LOG.info("{} did not start ({}): nothing to close", what, failed.getCause().toString());
                return false;
            }
            resource.close();
            return true;
        }

        /** How many threads wait for the start's result (the hook, once it waits): for tests. */
        int waiting() {
            return started.getNumberOfDependents();
        }

        private void endStart() {
            synchronized (lock) {
                ending = true;
                if (starting != null) {
                    starting.interrupt();
                }
            }
        }

        /** The command closed the resource itself: no close at exit. */
        @Override
        public void close() {
            registration.close();
        }
    }

    /** {@code resource} closed on a thread of its own; gives up waiting after {@code bound}. */
    public static void closeWithin(String what, AutoCloseable resource, Duration bound) {
        closeWithin(what, closingOf(resource), bound);
    }

    private static void closeWithin(String what, Closing work, Duration bound) {
        long begin = System.nanoTime();
        LOG.info("closing {} at exit (at most {} ms)", what, bound.toMillis());
        Thread closing = new Thread(() -> {
            try {
                if (work.close()) {
                    LOG.info("closed {} at exit in {} ms", what, (System.nanoTime() - begin) / 1_000_000);
                }
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
            System.err.println("machxp: closing " + what + " took more than " + bound.toMillis()
                    + " ms; exiting without waiting for it");
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
