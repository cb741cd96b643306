package io.machxp.kernel.policy;

/**
 * A DLM-style minimum hold: a cached futex stays on this kernel for at least {@code holdNanos}
 * after its grant, so that local threads reuse it cheaply before it crosses to another kernel.
 * The PI exception: a waiter elsewhere of a higher priority than the futex's owner and waiters
 * here is served at once (a hold never makes a priority inversion longer).
 */
public record MinimumHold(long holdNanos) implements FutexPolicy {
    public MinimumHold {
        if (holdNanos < 0) {
            throw new IllegalArgumentException("a hold time is 0 or more, not " + holdNanos + " ns");
        }
    }

    @Override
    public String name() {
        return "min-hold";
    }

    @Override
    public long holdNanos(Hold h) {
        return h.higherPriorityWaitsElsewhere() ? 0 : holdNanos;
    }
}
