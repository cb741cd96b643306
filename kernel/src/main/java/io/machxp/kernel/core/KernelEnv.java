package io.machxp.kernel.core;

import io.machxp.proto.xp.KernelToPager;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Everything the kernel core does to the world, and its only source of time. The real runtime
 * implements it over a gRPC stream and a Netty event loop; the simulator over virtual time.
 * Every method is called on the core thread.
 */
public interface KernelEnv {
    /** Sends one XP message to the pager. Messages arrive in the order they are sent. */
    void send(KernelToPager message);

    /**
     * Sends one XP message to pager {@code pager} (numbered as in {@link PagerDirectory}; 0 is the
     * primary). An env of a kernel with one pager implements only {@link #send(KernelToPager)}.
     */
    default void send(int pager, KernelToPager message) {
        if (pager != 0) {
            throw new IllegalStateException("this kernel env has one pager, not pager " + pager);
        }
        send(message);
    }

    /** {@link #reconnect()} for pager {@code pager}. */
    default boolean reconnect(int pager) {
        return pager == 0 && reconnect();
    }

    /**
     * Opens a new stream to the pager after the last one broke: what the core sends next goes on
     * it, and its end is reported like the last one's. False if this env cannot (the core then
     * stops using the pager).
     */
    default boolean reconnect() {
        return false;
    }

    /**
     * Runs {@code io}, file I/O such as making a memory object's shared-memory files, off the core
     * thread, then {@code done} on the core thread with its result. The real runtime runs it on a
     * thread of the kernel's own, in the order submitted; by default both run at once on the
     * calling thread (the simulator, which never shares memory, and tests).
     */
    default <T> void fileEffect(java.util.function.Supplier<T> io, java.util.function.Consumer<T> done) {
        done.accept(io.get());
    }

    /**
     * Opens a new connection and stream to the pager for a session resume (xp.proto, Resume):
     * what the core sends next goes on it; the old stream is no longer read, but stays open until
     * {@link #resumed} (so the pager does not see it end before the resume arrives). The new
     * stream's end is reported like the last one's. False if this env cannot resume.
     */
    default boolean resume() {
        return false;
    }

    /** The pager took the resume: the connections of the old stream and earlier attempts may go. */
    default void resumed() {
    }

    /**
     * Whether the last resume's stream to pager {@code pager} is up (connected, not ended): its
     * hello is with the pager, whose answer is awaited rather than fenced by another attempt.
     * False where the env cannot tell: the kernel then tries again every tenth of the lease.
     */
    default boolean resumeAwaited(int pager) {
        return false;
    }

    /**
     * The resume's stream to pager {@code pager} is up but unanswered for a part of the lease (a
     * stopped replica's socket still takes connections): the next attempt goes to the next replica
     * of the pager's list. False if the pager has one replica: its answer is awaited.
     */
    default boolean nextReplica(int pager) {
        return false;
    }

    /** {@link #resume()} for the stream to pager {@code pager}: each pager's stream resumes on its own. */
    default boolean resume(int pager) {
        return pager == 0 && resume();
    }

    /**
     * Whether pager {@code pager} is replicated (xp-spec 13): its session outlives a broken stream
     * (the next leader has it), so the kernel resumes it instead of reclaiming. False by default.
     */
    default boolean replicated(int pager) {
        return false;
    }

    /**
     * How long a session with replicated pager {@code pager} whose lease ({@code leaseNanos}) ran
     * out while it resumed holds still before it ends ({@link LeaseGrace}); 0: no grace, the
     * session ends with its lease. One lease by default.
     */
    default long leaseGraceNanos(int pager, long leaseNanos) {
        return leaseNanos;
    }

    /**
     * The session with pager {@code pager} stopped being resumed by the core's own doing, with no
     * word from the stream: it was lost (its lease or grace ran out, its pager was lost) or a new
     * session replaced it ({@link KernelSessions}: a secondary pager's rejoin). A runtime whose
     * close waits for that resume ({@link KernelXp#keptWhileResuming}) asks again. The ends the
     * stream brings (taken, refused, broken, not started) the runtime hears on its own.
     */
    default void resumeOver(int pager) {}

    /** {@link #resumed()} for the stream to pager {@code pager}. */
    default void resumed(int pager) {
        if (pager == 0) {
            resumed();
        }
    }

    /** Runs {@code action} on the core thread after {@code delayNanos}. */
    Timer schedule(long delayNanos, Runnable action);

    /**
     * Runs {@code action} on the core thread at the end of this instant: in virtual time, after
     * every event due now, also those that events due now schedule for now (a call's answer, the
     * caller's next call); in real time, as {@code schedule(0, action)}.
     */
    default void scheduleAtEndOfInstant(Runnable action) {
        schedule(0, action);
    }

    /** The current time in nanoseconds, from an arbitrary origin; never goes back. */
    long nanoTime();

    /**
     * Wall-clock time in microseconds since the epoch, comparable between kernels as far as their
     * clocks agree: when a futex wait began, so that a cycle across kernels fails the wait that
     * began last. Only for that order, never for timeouts or leases.
     */
    default long wallMicros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    /**
     * Something a person reading a timeline wants to see (a thread dispatched or preempted,
     * boosted or deboosted, a futex passed on after its owner died). The simulator logs it; the
     * real runtime logs it at debug level.
     */
    default void trace(String event, int tid, String detail) {}

    /**
     * Sends a futex straight to kernel {@code kernel} over the kernel link (direct handoff, spec
     * 13). Without a link (the default) it goes nowhere: the pager cancels the forward when it is
     * not confirmed in time, and this kernel then gives the futex back to it.
     */
    default void sendToKernel(int kernel, io.machxp.proto.xp.FutexForward forward) {}

    /**
     * The session with pager {@code pager}, ending cleanly ({@link ShutdownEnd}), was lost for good
     * before its end's keepalive was answered: a runtime waiting for that answer stops waiting.
     */
    default void endOver(int pager) {}
}
