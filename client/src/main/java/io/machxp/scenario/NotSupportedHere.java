package io.machxp.scenario;

/**
 * This machine cannot run the scenario in linux mode (no SCHED_FIFO, no pinning, too few CPUs, not
 * Linux on x86_64, or a word layout a pthread mutex does not fit): the message is one sentence
 * saying why. {@code machxp run} exits with code 4.
 */
public final class NotSupportedHere extends RuntimeException {
    /** Why: this machine cannot run linux mode at all, or not this scenario. */
    public enum Reason {
        /** No SCHED_FIFO, no pinning, no C library, no lock: no scenario can run here. */
        MACHINE,
        /** The scenario needs more CPUs than this machine lets machxp use. */
        CPUS,
        /** The scenario has Mach IPC steps, which have no Linux counterpart. */
        IPC,
        /** The scenario's words do not fit linux mode's layout. */
        LAYOUT
    }

    private final Reason reason;

    public NotSupportedHere(String message) {
        this(Reason.MACHINE, message);
    }

    public NotSupportedHere(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
