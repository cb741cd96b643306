package io.machxp.chaos;

import java.util.HashSet;
import java.util.Set;

/**
 * Which kernels have stopped, for judging the pager's declarations of death ({@link
 * History.Kind#DECLARED}) in a real run: a kernel stops when its own log says its lease ran out or
 * its session ended ({@code KERNEL} {@link History#STOPPED}) or the harness injected a fault that
 * stops it ({@code KERNEL} "lease-lost ...", see the real run's recorder), and runs again once its
 * log says a session opened ({@link History#SESSION_OPEN}).
 *
 * <p>The pager may declare a kernel dead only after the kernel stopped by itself (it counts its
 * lease from earlier and stops 0.2 L before the pager's lease ends): a declaration of a kernel
 * still running is a pager whose notion of the lease went wrong (a clock that jumped, a lease
 * not restarted), and the futexes it passes on with OWNER_DIED would have two holders.
 */
final class KernelStops {
    private final Set<String> stopped = new HashSet<>();

    /** A {@code KERNEL} entry about {@code kernel} with {@code detail}. */
    void kernel(String kernel, String detail) {
        if (detail.startsWith(History.STOPPED) || detail.startsWith("lease-lost")) {
            stopped.add(kernel);
        } else if (detail.startsWith(History.SESSION_OPEN)) {
            stopped.remove(kernel);
        }
    }

    /** Whether {@code kernel} has stopped since its last session opened. */
    boolean stopped(String kernel) {
        return stopped.contains(kernel);
    }
}
