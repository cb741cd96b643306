package io.machxp.bench.workload;

/**
 * One system's run of the workload, by threads of this JVM ({@link Workload}) or by worker
 * processes ({@code io.machxp.bench.process.ProcessWorkload}), its workers sharing a {@link Board}.
 */
public abstract class Run {
    protected final BenchOptions options;
    private volatile Board board;

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

    /** The board of the run starting now. */
    protected final Board use(Board b) {
        board = b;
        return b;
    }
}
