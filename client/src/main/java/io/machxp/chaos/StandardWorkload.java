package io.machxp.chaos;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.futex.Acquired;
import java.util.function.Consumer;

/**
 * The {@link ChaosMix#STANDARD} workload: every lock attempt is a vm_lock_futex, an owner sleeps
 * through its hold, a worker goes straight from one critical section to its think, and tasks die
 * only as {@link ChaosFaults} draws them. It draws nothing from the workers' streams, so its seeds'
 * histories are the ones docs/chaos.md and {@code PlantedBugSeeds} name.
 */
final class StandardWorkload implements Workload {
    private final ChaosRun run;

    StandardWorkload(ChaosRun run) {
        this.run = run;
    }

    @Override
    public void start() {
    }

    @Override
    public void traced(String event) {
    }

    @Override
    public boolean trylockInstead(Worker w, int f, Consumer<Acquired> got, Runnable busy, Consumer<KernelError> failed) {
        return false;
    }

    /** A thread_sleep of the hold's length. */
    @Override
    public void hold(Worker w, long nanos, Runnable then) {
        run.calls.call(w.kernel, w, "sleep", -1, r -> w.kernel.core.threadSleep(w.task, w.tid, nanos, r),
                (Void s) -> then.run(), error -> { });
    }

    @Override
    public void between(Worker w, Runnable then) {
        then.run();
    }

    @Override
    public void gone(Worker w, String why) {
    }
}
