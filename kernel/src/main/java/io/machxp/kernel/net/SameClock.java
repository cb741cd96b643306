package io.machxp.kernel.net;

import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.TaskShmAttachRequest;

/**
 * Whether a client attaching to shared memory (TaskShmAttach) reads the kernel's clock. A task
 * process's fast path compares the lease's end the kernel publishes ({@link System#nanoTime},
 * CLOCK_MONOTONIC) with its own {@link System#nanoTime}; in another time namespace ({@code
 * unshare -T}, container runtimes that restore checkpoints) that clock is offset, so a task
 * process behind the kernel's clock would see a lease that ran out as still running, and take a
 * futex or read a page the pager already gave to another kernel. Boot id and PID namespace do not
 * tell: they are the same there. So the kernel shares memory only when:
 * <ul>
 *   <li>the client's time namespace is its own (both read from {@code /proc/self/ns/time}; both
 *       empty, a Linux without time namespaces, counts as the same; one empty, the other not:
 *       refused, nothing says the clocks agree), and
 *   <li>the client's clock sample ({@code monotonic_nanos}, taken just before it sent the request)
 *       is within {@link #BOUND} of the kernel's clock on receipt. This backs the namespace check
 *       up where it cannot tell (both sides' {@code /proc} hiding it): it catches clocks further
 *       apart than the bound (namespaces are mostly offset by far more: a checkpoint restored on
 *       another host, {@code unshare -T --monotonic=-300}). A client that sends no sample (an
 *       older one) is refused. A delivery slower than the bound (a long GC pause of either side)
 *       is refused too: refused at task_create, the task makes its calls over gRPC for its life
 *       (the client does not ask again); refused at a later vm_map's attach, its mappings' futexes
 *       and pages go over gRPC until the next vm_map's attach is taken.
 * </ul>
 * In one time namespace there is one CLOCK_MONOTONIC, so the exact check is the namespace's; the
 * bound is generous so that a loaded host's slow loopback call is not refused.
 */
final class SameClock {
    /** How far the client's clock sample may be from the kernel's clock on receipt. */
    static final long BOUND = 10_000_000_000L;

    /** This process's time namespace, read once (a process never changes its own). */
    private static final String OWN_NAMESPACE = ShmLayout.timeNamespace();

    private SameClock() {
    }

    /**
     * Why {@code request}, received now, is not on this kernel's clock, in a sentence; null if it
     * is. Call it on receipt (the task interface's thread, not after a wait for the core).
     */
    static String refusal(TaskShmAttachRequest request) {
        return refusal(OWN_NAMESPACE, System.nanoTime(), request.getTimeNamespace(),
                request.hasMonotonicNanos() ? request.getMonotonicNanos() : null);
    }

    /**
     * The check itself: the kernel's time namespace {@code own} and clock {@code now} against the
     * client's namespace {@code theirs} and sample {@code sample} (null: none sent).
     */
    static String refusal(String own, long now, String theirs, Long sample) {
        if (!own.equals(theirs)) {
            return "the client's time namespace (" + describe(theirs) + ") is not the kernel's (" + describe(own)
                    + "): their monotonic clocks differ, and the fast path compares the kernel's lease end with "
                    + "the client's clock; run the task process in the kernel's time namespace";
        }
        if (sample == null) {
            return "the client sent no clock sample (an older client), so its monotonic clock is not known to be "
                    + "the kernel's; use a client of this machxp version";
        }
        long apart = now - sample;
        if (apart > BOUND || apart < -BOUND) {
            return "the client's monotonic clock read " + sample + " ns and the kernel's " + now + " ns on receipt, "
                    + Math.abs(apart) / 1_000_000 + " ms apart (at most " + BOUND / 1_000_000 + " ms): they are not "
                    + "the same clock (another time namespace?), or the call took that long (after a refusal at "
                    + "task_create the task stays on gRPC; at a later vm_map, until the next vm_map's attach)";
        }
        return null;
    }

    private static String describe(String namespace) {
        return namespace.isEmpty() ? "unknown" : namespace;
    }
}
