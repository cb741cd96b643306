package io.machxp.bench.workload;

/**
 * One system's run of the workload, by threads of this JVM ({@link Workload}) or by worker
 * processes ({@code io.machxp.bench.process.ProcessWorkload}), its workers sharing a {@link Board}.
 */
public abstract class Run {
    protected final BenchOptions options;
    private volatile Board board;
    private Runnable atBegin = () -> {};

    protected Run(BenchOptions options) {
        this.options = options;
    }

    /** Runs the warm-up and the measurement on {@code service} and checks what it did. */
    public abstract SystemResult run(LockService service) throws Exception;

    /** Operations completed so far, warm-up included: for a progress display. */
    public final long completed() {
        Board b = board;
        return b == null ? 0 : b.completedCount();
    }

    /** {@code action} runs (on the run's thread) when the measurement begins, after the warm-up. */
    public final Run atBegin(Runnable action) {
        atBegin = action;
        return this;
    }

    /** The measurement begins now. */
    protected final void begun() {
        atBegin.run();
    }

    /** The board of the run starting now. */
    protected final Board use(Board b) {
        board = b;
        return b;
    }
}
