package io.machxp.cluster;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The processes a command started (chaos --real's pagers and kernels, bench's worker processes),
 * killed together at its end or at the JVM's exit ({@link CloseAtExit}), so that none outlives it.
 *
 * <h2>Overview</h2>
 * <pre>
 *   add:      a process started joins (restarted ones too); one added after the kill is killed at once
 *   killAll:  KILLED from now on: every process added is killed at once (SIGKILL, no wait); idempotent
 *   awaitAll: waits for every process added (also those added after the kill, and while it
 *             waits) within one bound; how many ended
 * </pre>
 * No lock: {@code add} and {@code killAll} may run at once (a start racing a close at exit, whose
 * thread must not wait for a monitor the start holds). The list and the flag form a Dekker pair:
 * {@code add} appends, then reads the flag; {@code killAll} sets the flag, then reads the list
 * (both volatile), so a process added concurrently with the kill is killed by one or the other.
 *
 * @param <P> a process: how to kill it without waiting, and to wait for its end, are given
 */
public final class StartedProcesses<P> {
    /** Waits at most {@code nanos} for {@code process} to end; whether it did. */
    @FunctionalInterface
    public interface AwaitEnd<P> {
        boolean awaitEnd(P process, long nanos) throws InterruptedException;
    }

    private final List<P> started = new CopyOnWriteArrayList<>();
    private final Consumer<P> killNow;
    private final AwaitEnd<P> awaitEnd;
    private volatile boolean killed;

    /** {@code killNow}: kills a process without waiting (SIGKILL); {@code awaitEnd}: waits for its end. */
    public StartedProcesses(Consumer<P> killNow, AwaitEnd<P> awaitEnd) {
        this.killNow = killNow;
        this.awaitEnd = awaitEnd;
    }

    /** {@code process} joins; killed at once if {@link #killAll} ran already (a start racing the end). */
    public P add(P process) {
        started.add(process);
        if (killed) {
            killNow.accept(process);
        }
        return process;
    }

    /** Every process added so far, in order (a live view). */
    public List<P> all() {
        return started;
    }

    /** Whether {@link #killAll} ran: a process that ended while it started was killed, not failed. */
    public boolean killed() {
        return killed;
    }

    /** Every process added killed at once, and every one added from now on; no wait. */
    public void killAll() {
        killed = true;
        started.forEach(killNow);
    }

    /**
     * Waits for every process added to end, all within {@code bound}; how many ended. An interrupt
     * ends the wait (the interrupt status kept).
     */
    public int awaitAll(Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        int ended = 0;
        // by index up to the live size: a process added while this waits (killed by add) is waited for too
        for (int i = 0; i < started.size(); i++) {
            try {
                ended += awaitEnd.awaitEnd(started.get(i), Math.max(0, deadline - System.nanoTime())) ? 1 : 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ended;
            }
        }
        return ended;
    }
}
