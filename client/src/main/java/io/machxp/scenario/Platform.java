package io.machxp.scenario;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Where a scenario runs: {@link SimPlatform} (virtual time, one Java thread, seeded) or
 * {@link RealPlatform} (an embedded pager and kernels on loopback gRPC, real time). The
 * interpreter ({@link ScenarioRun}) is the same for both.
 */
interface Platform extends AutoCloseable {
    /** Builds kernels, objects, tasks, threads and mappings; kernel events go to {@code log}. */
    void setup(Scenario scenario, boolean priorityInheritance, EventLog log);

    /** The TID the kernel gave a scenario thread. */
    int tid(String thread);

    /** Nanoseconds since the run began. */
    long now();

    /** Runs {@code action} for {@code thread} at time {@code time}. */
    void start(String thread, long time, Runnable action);

    /** Runs one step of a thread; {@code done} gets its outcome, later, never from inside this call. */
    void call(String thread, Step step, Consumer<Outcome> done);

    /** Runs until {@code finished} holds or the time passes {@code limit}; false on the limit. */
    boolean runUntil(BooleanSupplier finished, long limit);

    String mode();

    @Override
    void close();
}
