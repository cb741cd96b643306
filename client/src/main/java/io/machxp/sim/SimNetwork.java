package io.machxp.sim;

import java.util.SplittableRandom;

/**
 * How the simulator's network delays XP messages: a one-way latency drawn per message from the
 * simulation's seeded random source, a bandwidth (the time a message of n bytes takes on the
 * wire; a link sends one message at a time), and the CPU a node spends on each message it
 * receives before it handles it (one message at a time per node). Deterministic by seed.
 */
public interface SimNetwork {
    /** The latency of one message on a kernel's link, towards the pager or from it. */
    long latencyNanos(String kernel, boolean toPager, SplittableRandom random);

    /** Time on the wire for {@code bytes} (0: infinite bandwidth). */
    default long transmitNanos(int bytes) {
        return 0;
    }

    /** CPU the receiver spends on one message (the pager's if {@code toPager}, else the kernel's). */
    default long cpuNanos(boolean toPager) {
        return 0;
    }

    /** A fixed latency plus a jitter drawn uniformly from [0, jitter]: the simulator's classic network. */
    static SimNetwork uniform(long latencyNanos, long jitterNanos) {
        return (kernel, toPager, random) -> latencyNanos + (jitterNanos == 0 ? 0 : random.nextLong(jitterNanos + 1));
    }
}
