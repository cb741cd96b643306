package io.machxp.bench.workload;

/** One system's run of the workload, by threads of this JVM or by worker processes. */
public interface Run {
    /** Runs the warm-up and the measurement on {@code service} and checks what it did. */
    SystemResult run(LockService service) throws Exception;

    /** Operations completed so far, warm-up included: for a progress display. */
    long completed();
}
