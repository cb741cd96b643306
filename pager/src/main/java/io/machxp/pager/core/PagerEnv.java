package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;

/** Everything the pager core does to the world. Called on the pager core thread. */
public interface PagerEnv {
    /** Sends one XP message on a session's stream. */
    void send(long sessionId, PagerToKernel message);

    /** Ends a session's stream with an error; the core has already forgotten the session. */
    void endSession(long sessionId, Errno errno, String message);

    /**
     * Ends a reclaim's stream with a refusal that no wait in this grace period changes (xp-spec
     * 9.7, an EAGAIN marked final): the status's ErrorInfo says so in its metadata
     * ({@link #FINAL_KEY} = {@link #FINAL_IN_GRACE}), so that the kernel stops at once instead of
     * reclaiming again until its lease runs out. An env without its own statuses ends it as
     * {@link #endSession(long, Errno, String)}: unmarked, the kernel retries, which is safe.
     */
    default void endSessionFinal(long sessionId, Errno errno, String message) {
        endSession(sessionId, errno, message);
    }

    /** The ErrorInfo metadata key of a refusal marked final ({@link #endSessionFinal}; xp-spec 9.7). */
    String FINAL_KEY = "final";

    /** Its value: final for the rest of the pager's grace period (a retry after it gets ESTALE anyway). */
    String FINAL_IN_GRACE = "grace_period";

    /**
     * Ends a session's stream for a breach of the XP protocol itself (see {@link XpProtocolError});
     * an env without its own statuses for them ends it as a bad argument.
     */
    default void endSession(long sessionId, XpProtocolError error, String message) {
        endSession(sessionId, io.machxp.proto.task.Errno.EINVAL, error + ": " + message);
    }

    /**
     * Runs page store I/O ({@code io}, which throws UncheckedIOException when the store fails,
     * and may throw any other exception from a backend's bug: a failure too) off the core thread,
     * in the order submitted, then {@code done} on the core thread with the failure or null. Everything submitted before is done first, so an effect with no I/O is a
     * barrier. By default both run at once on the calling thread (the simulator, tests, a store in
     * memory).
     */
    default void storeEffect(Runnable io, java.util.function.Consumer<RuntimeException> done) {
        RuntimeException failure = null;
        try {
            io.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        done.accept(failure);
    }

    /**
     * Runs {@code io}, which reads a page from the store or asks a library backend to unlock one
     * (I/O that may block, and does not throw), off the core thread: in submission order with the
     * other effects of the same {@code page}, concurrently with those of other pages and with the
     * store writes, so that a backend blocked on one page stalls no other; then {@code done} on
     * the core thread with its result. Drained on close. By default both run at once on the
     * calling thread (the simulator, tests).
     */
    default <T> void pageEffect(String page, java.util.function.Supplier<T> io, java.util.function.Consumer<T> done) {
        done.accept(io.get());
    }

    /**
     * A session token for pager_welcome (see xp.proto, Resume): unguessable and never 0. The
     * simulator gives seeded ones, so that its runs repeat.
     */
    default long sessionToken() {
        long t;
        do {
            t = TOKENS.nextLong();
        } while (t == 0);
        return t;
    }

    /** Where {@link #sessionToken} draws from by default. */
    java.security.SecureRandom TOKENS = new java.security.SecureRandom();

    /** A monotonic clock, in nanoseconds (virtual time in the simulator). */
    default long nanoTime() {
        return System.nanoTime();
    }

    /**
     * Runs {@code action} on the core thread after {@code delayNanos}. Needed only when sessions
     * have a lease; an env whose cores never use one may leave it unsupported.
     */
    default void schedule(long delayNanos, Runnable action) {
        throw new UnsupportedOperationException("this pager env has no timers: leases need them");
    }

    /**
     * The pager declared a kernel dead (its lease ran out) while it held these futexes, which
     * went on with owner_died. For fault-injection checkers; nothing to do by default.
     */
    default void declaredDead(String kernelName, List<FutexKey> heldFutexes) {
    }

    /**
     * The grace period after a restart is over: every kernel of the last pager has reclaimed or
     * stopped, so only this pager's lease matters from now on (the store may keep it alone).
     */
    default void graceEnded() {
    }
}
