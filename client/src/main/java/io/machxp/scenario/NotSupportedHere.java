package io.machxp.scenario;

/**
 * This machine cannot run the scenario in linux mode (no SCHED_FIFO, no pinning, too few CPUs, not
 * Linux on x86_64, or a word layout a pthread mutex does not fit): the message is one sentence
 * saying why. {@code machxp run} exits with code 4.
 */
public final class NotSupportedHere extends RuntimeException {
    public NotSupportedHere(String message) {
        super(message);
    }
}
