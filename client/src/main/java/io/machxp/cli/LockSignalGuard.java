package io.machxp.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * machxp lock's answer to a signal (Ctrl-C, SIGTERM) while it holds the futex: a JVM shutdown hook,
 * installed from the grant until the futex is released ({@link #held} to {@link #released}), that
 * stops CMD if it still runs (SIGTERM, then waits for it at most {@link #RELEASE_WAIT}, then
 * SIGKILL) and then waits, at most
 * {@link #RELEASE_WAIT}, for the release under way to finish before the JVM halts. Slower than
 * that, the JVM exits anyway and the kernel's TaskWatch terminates the task: the next owner is told
 * OWNER_DIED (safe, never NOT_RECOVERABLE).
 *
 * <p>Before, the hook lived only while CMD ran and waited for the release only if it had a CMD to
 * stop: a signal arriving after CMD exited, while lock was unlocking, let the JVM halt before the
 * unlock, and the next owner was told OWNER_DIED for a futex released cleanly (late4 review A5).
 */
final class LockSignalGuard {
    /** How long a signal waits for the release under way. */
    static final java.time.Duration RELEASE_WAIT = java.time.Duration.ofSeconds(10);

    /** Where the hook is installed: the JVM's shutdown hooks (a test's own in tests). */
    interface Hooks {
        void add(Thread hook);

        void remove(Thread hook);
    }

    static final Hooks RUNTIME = new Hooks() {
        @Override
        public void add(Thread hook) {
            Runtime.getRuntime().addShutdownHook(hook);
        }

        @Override
        public void remove(Thread hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // a signal came as the release ended: the hook has seen it released
            }
        }
    };

    private final Hooks hooks;
    private final AtomicReference<Process> running = new AtomicReference<>();
    private final CountDownLatch released = new CountDownLatch(1);
    private final Thread hook = new Thread(this::onSignal, "machxp-lock-stop");

    LockSignalGuard(Hooks hooks) {
        this.hooks = hooks;
    }

    /** The futex is granted: from now on a signal waits for its release. */
    void held() {
        hooks.add(hook);
    }

    /** CMD started ({@code child}) or ended (null): a signal stops the one running. */
    void running(Process child) {
        running.set(child);
    }

    /** The futex is released (or given up on): a signal no longer waits for anything. */
    void released() {
        released.countDown();
        hooks.remove(hook);
    }

    /**
     * The hook: stops CMD if it still runs (SIGTERM, and SIGKILL if it has not ended
     * {@link #RELEASE_WAIT} later), then waits for the release (at most {@link #RELEASE_WAIT}).
     * Before, it waited for CMD without a bound: a CMD that ignores SIGTERM kept the hook, and so
     * the JVM and Ctrl-C, waiting for good (late6 review A9).
     */
    private void onSignal() {
        Process p = running.get();
        try {
            if (p != null) {
                p.destroy(); // SIGTERM: the command may clean up; the futex is released after it ends
                if (!p.waitFor(RELEASE_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly(); // it ignores SIGTERM: SIGKILL
                    p.waitFor(RELEASE_WAIT.toNanos(), TimeUnit.NANOSECONDS);
                }
            }
            released.await(RELEASE_WAIT.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
