package io.machxp.chaos.real;

import java.util.concurrent.locks.LockSupport;

/**
 * How long an injected fault lasts. In {@code chaos --real} a fault is defined by wall-clock time
 * measured in leases (a partition held for 1.5 leases, a pause for half a lease): the injector holds
 * the fault for that span and then lifts it. This is the one place the harness lets time pass
 * without waiting for a condition, and it is what the run measures against, not a guess at when
 * something is done.
 */
final class FaultSpan {
    private FaultSpan() {}

    /** Returns after {@code millis} of wall-clock time, or throws if the injector is interrupted (the run ends). */
    static void hold(long millis) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        for (long left = end - System.nanoTime(); left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                throw new InterruptedException("the fault injector was stopped while a fault was held");
            }
        }
    }
}
