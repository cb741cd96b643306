package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A task's death on a paused kernel: the kernel runs the terminate only when it resumes (after
 * answering what arrived for it meanwhile, say a page-in for the owner's write), so the harness
 * must count the owner gone then, not when it drew the death; else an answer the owner still had
 * coming reads as a write nobody owned. Driven by hand, no fault injected: one kernel's workers
 * until one owns a futex, its kernel paused, that worker's task killed.
 */
class TaskDeathWhilePausedTest {
    private static final long MS = 1_000_000L;

    @Test
    void theOwnerIsCountedGoneWhenThePausedKernelRunsTheTerminate() {
        ChaosRun run = new ChaosRun(1, ContendedMixTest.CONTENDED.withMix(ChaosMix.STANDARD));
        run.startKernel();
        Worker owner = null;
        while (owner == null && run.cluster.now() < 200 * MS && run.cluster.step()) {
            owner = run.workers.stream().filter(w -> w.owns >= 0).findFirst().orElse(null);
        }
        assertThat(owner).as("a worker owns a futex").isNotNull();
        String name = owner.name;
        run.cluster.pause(owner.kernel.name, 5 * MS);

        run.faults().taskDies(owner);
        assertThat(gone(run, name)).as("not gone while its kernel is paused: the terminate has not run").isEmpty();

        run.cluster.runUntil(run.cluster.now() + 6 * MS);
        assertThat(gone(run, name)).as("gone once the kernel ran the terminate").hasSize(1);
    }

    private static List<History.Entry> gone(ChaosRun run, String worker) {
        return run.history.entries().stream()
                .filter(e -> e.kind() == History.Kind.OWNER_GONE && e.thread().equals(worker)).toList();
    }
}
