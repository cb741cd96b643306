package io.machxp.chaos;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.futex.Acquired;
import java.util.function.Consumer;

/**
 * What a chaos run's workers do at the points where the workload mixes ({@link ChaosMix}) differ;
 * the worker loop asks its run's workload there and does the rest the same in every mix.
 *
 * <h2>Overview</h2>
 * <pre>
 *  the point            asked            standard     contended
 *  the run starts       start            nothing      counts the pagers' awaited requests,
 *                                                     starts the owner deaths
 *  a kernel traces      traced           nothing      counts the heirs' path
 *  a lock attempt       trylockInstead   never        a trylock, one in three
 *  an owner's hold      hold             a sleep      a sleep, or a compute one in three
 *  between two          between          nothing      a peek, a poke or a compute, or nothing
 *   critical sections
 *  a worker gone        gone             nothing      records "worker gone"
 * </pre>
 * The worker loop asks about lock attempts and what comes between two sections only outside the
 * quiet period, where every mix makes one plain lock per worker. A mix draws from a worker's
 * stream only when it is asked, and the standard one draws nothing: what the contended mix draws
 * never changes a standard run's history.
 */
interface Workload {
    /** The run's workload for its options' mix. */
    static Workload of(ChaosRun run) {
        return switch (run.options.mix()) {
            case STANDARD -> new StandardWorkload(run);
            case CONTENDED, HEIR_SHUTDOWN -> new ContendedWorkload(run, run.seed);
        };
    }

    /** The run starts: before its first kernel. */
    void start();

    /** A kernel traced {@code event} (what the kernels say of themselves, as {@link ChaosRun} notes it). */
    void traced(String event);

    /**
     * The worker's lock attempt of {@code f}: if the mix makes it a vm_trylock_futex, makes it and
     * says true; then {@code got} runs with the futex, {@code busy} when another owns it (recorded
     * as EBUSY: it acquired nothing), {@code failed} on an error. False: the worker makes a lock.
     */
    boolean trylockInstead(Worker w, int f, Consumer<Acquired> got, Runnable busy, Consumer<KernelError> failed);

    /** The owner holds its futex {@code nanos}; then {@code then}. */
    void hold(Worker w, long nanos, Runnable then);

    /** What the worker does between two critical sections; then {@code then}. */
    void between(Worker w, Runnable then);

    /** The harness counts the worker gone (its task or its kernel is). */
    void gone(Worker w, String why);
}
