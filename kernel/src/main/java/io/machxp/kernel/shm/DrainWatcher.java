package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Cooperative revocation of task processes' fast path, off the kernel's core thread. To revoke a
 * slot the watcher sets its REVOKED bit; the task library counts each page access of a task in
 * its ctl word before it looks at that bit and uncounts it after, so once the count is 0 no
 * access is under way and none starts. Then the watcher runs what waited for it (the core's
 * termination of the thread or task, which passes on the futexes it holds with OWNER_DIED). A
 * thread's futex calls are not counted: its lock loads REVOKED after its CAS and undoes it if set,
 * and its unlock needs no revocation (client SharedThread says why), so a thread's slot is
 * idle at once.
 *
 * <pre>
 *   revoke(slots): REVOKED set on each -> all counts 0?  yes -> then, at once (the usual case)
 *                                                     no  -> polled every {@link #POLL}
 *   polled: all 0, or {@link #BOUND} passed -> then
 *           the task's process is gone -> the page counts it recorded as up go back, then
 *           (a process the kernel cannot see, in another PID namespace: pid 0, never "gone")
 *   close (the session ended): polling stops; every revocation still polled -> then, at once
 * </pre>
 * A process that died inside a fast call leaves its count up (the one thing it could not undo),
 * which is why a dead process ends the wait. A live process that stays inside a fast call past
 * the bound is treated as gone: its task ends all the same, and its slot stays revoked, so it
 * makes no fast call again; the one CAS it may still be inside is the only write it can still
 * make, and the futex word it would write is then owned by a thread that no longer exists.
 */
final class DrainWatcher implements AutoCloseable {
    /** How long a revocation waits for a live process to leave its fast calls. */
    static final Duration BOUND = Duration.ofSeconds(2);
    static final Duration POLL = Duration.ofNanos(200_000);

    private final ByteBuffer kernel;
    private final Duration bound;
    private ScheduledExecutorService poller;
    /** Revocations still polled: the close runs what waits for them, so no termination loses its reply. */
    private final java.util.Set<Pending> waiting = java.util.concurrent.ConcurrentHashMap.newKeySet();

    DrainWatcher(ByteBuffer kernel) {
        this(kernel, BOUND);
    }

    /** @param bound how long to wait for a live process ({@link #BOUND}; shorter in tests) */
    DrainWatcher(ByteBuffer kernel, Duration bound) {
        this.kernel = kernel;
        this.bound = bound;
    }

    /**
     * Revokes {@code slots} and runs {@code then} once drained; if the process {@code pid} is
     * seen gone first, {@code dead} runs before {@code then} (the page counts it left up go back).
     */
    void revoke(List<Integer> slots, long pid, Runnable dead, Runnable then) {
        for (int slot : slots) {
            INT.getAndBitwiseOr(kernel, ShmLayout.threadSlot(slot), ShmLayout.REVOKED);
        }
        if (drained(slots)) {
            then.run();
            return;
        }
        long deadline = System.nanoTime() + bound.toNanos();
        Pending p = new Pending(then);
        waiting.add(p);
        try {
            poll(slots, pid, deadline, dead, p);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            p.run(); // closed meanwhile: as for every revocation still waiting at the close
        }
    }

    void revoke(List<Integer> slots, long pid, Runnable then) {
        revoke(slots, pid, () -> { }, then);
    }

    /** A revocation still waiting: its {@code then} runs once, when drained or at the close. */
    private final class Pending implements Runnable {
        private final Runnable then;
        private final java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();

        Pending(Runnable then) {
            this.then = then;
        }

        @Override
        public void run() {
            if (ran.compareAndSet(false, true)) {
                waiting.remove(this);
                try {
                    then.run();
                } catch (RuntimeException e) {
                    // e.g. the kernel's loop already shut down at a close: the next revocation still runs
                    org.slf4j.LoggerFactory.getLogger(DrainWatcher.class).warn("what waited for a revocation "
                            + "failed ({}); the task or thread it ended goes with the session", e.toString());
                }
            }
        }
    }

    private void poll(List<Integer> slots, long pid, long deadline, Runnable dead, Pending then) {
        executor().schedule(() -> {
            if (drained(slots)) {
                then.run();
            } else if (!alive(pid)) {
                try {
                    dead.run(); // known dead (not merely unknown, pid 0): the page counts it left go back
                } finally {
                    then.run();
                }
            } else if (System.nanoTime() - deadline > 0) {
                then.run();
            } else {
                poll(slots, pid, deadline, dead, then);
            }
        }, POLL.toNanos(), TimeUnit.NANOSECONDS);
    }

    private boolean drained(List<Integer> slots) {
        for (int slot : slots) {
            int at = ShmLayout.threadSlot(slot);
            if (((int) INT.getVolatile(kernel, at) & ~ShmLayout.REVOKED) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether process {@code pid} may still run: a pid of 0 or less is unknown (a client in another
     * PID namespace, whose pid names another process here or none, or one that sent none), and is
     * waited for up to the bound, as a live one.
     */
    static boolean alive(long pid) {
        return pid <= 0 || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private synchronized ScheduledExecutorService executor() {
        if (poller == null) {
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "shm-drain");
                t.setDaemon(true);
                return t;
            });
        }
        return poller;
    }

    /**
     * The session ended: polling stops, and every revocation still waiting goes on at once (its
     * termination handed on, so the task_terminate or thread_terminate that waits gets its reply);
     * the session's memory is no longer the kernel's to wait for.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (poller != null) {
                poller.shutdownNow();
            }
            poller = CLOSED;
        }
        for (Pending p : List.copyOf(waiting)) {
            p.run();
        }
    }

    /** After the close: refuses every poll, so a revocation made then goes on at once. */
    private static final ScheduledExecutorService CLOSED = closedExecutor();

    private static ScheduledExecutorService closedExecutor() {
        ScheduledExecutorService e = Executors.newSingleThreadScheduledExecutor();
        e.shutdown();
        return e;
    }
}
