package io.machxp.chaos;

import io.machxp.chaos.History.Entry;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The {@link HistoryChecker}'s rule 9, on the pager's declarations of death ({@code DECLARED},
 * real processes, read from the pager's log by {@code LeaseLog}).
 *
 * <p>Overview. Per kernel one state, driven by {@code KERNEL} entries:
 * <pre>
 *   RUNNING --"stopped ..." (its log: lease ran out, session over) / "lease-lost ..." (injected)--> STOPPED
 *   STOPPED --"session open" (its log)--> RUNNING
 * </pre>
 * A {@code DECLARED} entry of a kernel is legal only when it is STOPPED, or when the harness
 * injected a fault that dooms or kills it (the checker's failing kernels). The pager may declare a
 * kernel dead only after the kernel stopped by itself (it counts its lease from earlier and stops
 * 0.2 L before the pager's lease ends): a declaration of a kernel still running is a pager whose
 * notion of the lease went wrong (a clock that jumped, a lease not restarted), and the futexes it
 * passes on with OWNER_DIED would have two holders.
 *
 * <p>From a declaration, legal or not, every futex the kernel acquired last, or asked for since its
 * last acquisition, may pass on with OWNER_DIED at its next acquisition (the kernel may still cache
 * it: the pager cannot tell an idle cached futex from an owned one, and grants a futex to a kernel
 * that asked for it even when nobody there waits any more: a waiter whose kernel stopped, a timed
 * lock that timed out, a trylock), and the kernel's owners are fenced off: the next owner must be
 * told of their death, and nothing they do may succeed after it.
 */
final class DeclaredDeaths {
    private final Set<String> stopped = new HashSet<>();
    private final BiConsumer<Entry, String> violation;

    /** {@code violation}: how a broken rule is reported, at the entry that broke it. */
    DeclaredDeaths(BiConsumer<Entry, String> violation) {
        this.violation = violation;
    }

    /** A {@code KERNEL} entry about {@code kernel} with {@code detail}. */
    void kernel(String kernel, String detail) {
        if (detail.startsWith(History.STOPPED) || detail.startsWith("lease-lost")) {
            stopped.add(kernel);
        } else if (detail.startsWith(History.SESSION_OPEN)) {
            stopped.remove(kernel);
        }
    }

    /**
     * A {@code DECLARED} entry {@code e} of kernel {@code e.thread()}, which the harness
     * doomed or killed if {@code failing}: judged, then applied to {@code futexes}, fencing the
     * kernel's owners off in {@code fenced} (owner to futex).
     */
    void declared(Entry e, boolean failing, Map<Integer, FutexState> futexes, Map<String, Integer> fenced) {
        String kernel = e.thread();
        if (!stopped.contains(kernel) && !failing) {
            violation.accept(e, "the pager declared kernel " + kernel + " dead, but the kernel had not stopped: its own "
                    + "log shows its session open (no lease lost since) and the harness injected nothing that stops it");
        }
        futexes.forEach((id, f) -> {
            // it may still cache the futex (acquired it last, or was granted it after it asked): the
            // pager cannot tell idle from owned
            f.possibleDeath |= kernel.equals(f.lastKernel) || f.askedSinceAcquired.contains(kernel);
            if (f.owner != null && HistoryChecker.kernelOf(f.owner).equals(kernel)) {
                fenced.put(f.owner, id);
                f.owner = null;
                f.requiredDeath = true;
            }
        });
    }
}
