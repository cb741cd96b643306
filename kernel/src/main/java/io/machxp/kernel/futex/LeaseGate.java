package io.machxp.kernel.futex;

/**
 * Whether the kernel may still hand out what it caches: open while its lease with the pager runs,
 * as the core last knew it. The core thread writes it (each keepalive answered moves the end on;
 * losing the lease or the pager closes it); callers' threads read it on the futex fast path, so a
 * kernel that was paused (a GC pause, SIGSTOP) past its lease does not give a cached futex to a
 * local thread after the pager may have given it to another kernel.
 *
 * <p>This narrows the window, it cannot close it: a thread may pass the check and be paused
 * before its CAS. What makes a stale holder harmless is fencing - grants, pages and write-backs
 * carry the grant's token, and the pager refuses stale ones.
 *
 * <p>Times are {@link System#nanoTime()}: the fast path runs only in kernels on real time (the
 * simulator calls the core, which checks the lease on its own clock).
 */
public final class LeaseGate {
    /** Open until this time; {@link Long#MAX_VALUE} with no lease (the stream is the session). */
    private volatile long until = Long.MAX_VALUE;
    /** Told every new end: the copy task processes read in shared memory; null if none. */
    private volatile java.util.function.LongConsumer mirror;

    /** Core thread only: from now on {@code to} gets every new end, the current one first. */
    public void mirrorTo(java.util.function.LongConsumer to) {
        mirror = to;
        to.accept(until);
    }

    private void set(long nanoTime) {
        set(nanoTime, nanoTime);
    }

    /** Open until {@code nanoTime} here; the mirror (task processes) is told {@code mirrored}. */
    private void set(long nanoTime, long mirrored) {
        until = nanoTime;
        java.util.function.LongConsumer m = mirror;
        if (m != null) {
            m.accept(mirrored);
        }
    }

    /** Open until {@code nanoTime} (a lease's end, in System.nanoTime). Core thread only. */
    public void openUntil(long nanoTime) {
        set(nanoTime);
    }

    /**
     * Open until {@code nanoTime} (the earliest lease's end of a kernel's pagers), while another of
     * its pagers gave no lease: the mirror is told {@link Long#MAX_VALUE} (no lease), since a task
     * process has nothing to bound it in time on that pager's futexes and pages once the kernel is
     * gone (ShmLayout#leaseRuns(ByteBuffer)). Core thread only.
     */
    public void openUntilPartlyWithoutLease(long nanoTime) {
        set(nanoTime, Long.MAX_VALUE);
    }

    /** No lease: open for as long as the session lasts. Core thread only. */
    public void openWithoutLease() {
        set(Long.MAX_VALUE);
    }

    /**
     * Closed: the kernel stopped using its pager (for good), or its session holds a grace (a
     * lease that runs again reopens it, {@link #openUntil}). Core thread only.
     */
    public void close() {
        set(Long.MIN_VALUE);
    }

    /**
     * Whether the lease runs now, by {@link System#nanoTime()}; without a lease, without reading
     * the clock (no time passes {@link Long#MAX_VALUE}). Any thread.
     */
    public boolean openNow() {
        return io.machxp.proto.shm.ShmLayout.leaseRuns(until);
    }

    /** Whether the lease still runs at {@code nanoTime}. Any thread. */
    public boolean open(long nanoTime) {
        return nanoTime < until;
    }
}
