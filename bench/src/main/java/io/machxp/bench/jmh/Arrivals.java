package io.machxp.bench.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many messages a benchmark's receiver has taken, and senders waiting until that count
 * reaches a target. The receiver wakes them when it does: a waiting sender takes no processor
 * (polling with short parks took a share of the two cores the kernels need).
 */
final class Arrivals {
    private final AtomicLong count = new AtomicLong();
    /** The lowest target a sender waits for; Long.MAX_VALUE when none waits. Written under this object's lock. */
    private volatile long wakeAt = Long.MAX_VALUE;

    /** One more message received; wakes the waiting senders when the lowest target is reached. */
    void arrived() {
        if (count.incrementAndGet() >= wakeAt) {
            synchronized (this) {
                wakeAt = Long.MAX_VALUE; // each waiter still short of its target sets it again
                notifyAll();
            }
        }
    }

    /**
     * Waits until {@code target} messages have arrived in all; fails after {@code timeoutMs}
     * (a message lost: a benchmark must not hang on it).
     */
    void await(long target, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (this) {
            while (count.get() < target) {
                wakeAt = Math.min(wakeAt, target);
                // wakeAt is written before count is read again, and arrived() increments count
                // before it reads wakeAt: one of the two sees the other, so no wake-up is missed
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException(count.get() + " messages arrived, " + target + " were sent: "
                            + "some did not arrive within " + timeoutMs + " ms");
                }
                if (count.get() < target) {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                }
            }
        }
    }
}
