package io.machxp.bench.pagerload;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the {@link SyntheticLoad}'s virtual kernels count and check, shared by every event loop of
 * the load: lock/unlock cycles, relinquishes that crossed a release, and protocol errors (the
 * first one's description kept). With shared futexes (every kernel's thread i locks the same
 * word), it also checks what a pager must guarantee across kernels: at most one kernel holds a
 * futex at a time (a holder is marked at its grant and cleared before its release is sent, which
 * the pager must receive before it grants the futex again), and every grant's token is above every
 * earlier grant's of that futex.
 */
final class LoadChecks {
    private final LongAdder cycles = new LongAdder();
    private final LongAdder crossed = new LongAdder();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    /** Shared futexes only: by thread index, the kernel number holding it (0: none), and the highest token granted. */
    private final AtomicIntegerArray holders;
    private final AtomicLongArray tokens;

    /** @param sharedFutexes futexes every kernel shares (its threads' count), or 0: each kernel's futexes its own */
    LoadChecks(int sharedFutexes) {
        holders = sharedFutexes > 0 ? new AtomicIntegerArray(sharedFutexes) : null;
        tokens = sharedFutexes > 0 ? new AtomicLongArray(sharedFutexes) : null;
    }

    void cycle() {
        cycles.increment();
    }

    void relinquishCrossed() {
        crossed.increment();
    }

    void error(String what) {
        errors.incrementAndGet();
        firstError.compareAndSet(null, what);
    }

    /** Kernel {@code kernel} (1..) was granted its thread {@code thread}'s futex under {@code token}. */
    void acquired(int kernel, int thread, long token) {
        if (holders == null) {
            return;
        }
        int other = holders.getAndSet(thread, kernel);
        if (other != 0) {
            error("futex of thread " + thread + " granted to kernel " + kernel + " while kernel " + other + " held it");
        }
        long before = tokens.getAndAccumulate(thread, token, Math::max);
        if (before >= token) {
            error("futex of thread " + thread + " granted to kernel " + kernel + " under token " + token
                    + ", not above an earlier grant's " + before);
        }
    }

    /** Kernel {@code kernel} is about to send the release of thread {@code thread}'s futex. */
    void releasing(int kernel, int thread) {
        if (holders != null && !holders.compareAndSet(thread, kernel, 0)) {
            error("kernel " + kernel + " released the futex of thread " + thread + " it did not hold: "
                    + holders.get(thread));
        }
    }

    long cycles() {
        return cycles.sum();
    }

    long relinquishesCrossed() {
        return crossed.sum();
    }

    long errors() {
        return errors.get();
    }

    /** The first error's description, or null. */
    String firstError() {
        return firstError.get();
    }
}
