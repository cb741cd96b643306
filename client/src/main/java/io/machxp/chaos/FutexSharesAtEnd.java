package io.machxp.chaos;

import io.machxp.kernel.core.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Rule 9 of a chaos run, after the history's check: the futexes each kernel asks for and holds
 * for its client peers' tasks (the workers' tasks belong to a few peers) are counted exactly
 * ({@code FutexShares}, review rv58 MED-3). On every kernel still running: each futex counted to
 * a peer is asked for or held and counts to a living task; then every worker's task is
 * terminated, and once that has settled (a lease) nothing is counted to any peer any more.
 * It runs after the verdict on the history, so the terminations change nothing that was checked.
 */
final class FutexSharesAtEnd {
    /** Futexes counted to client peers at the run's end, before the workers' tasks end (what rule 9 sees go). */
    static final String COUNTED_AT_END = "futexes counted to client peers at the end";

    private final ChaosRun run;

    FutexSharesAtEnd(ChaosRun run) {
        this.run = run;
    }

    /** The violations of rule 9 (none: empty). */
    List<String> check() {
        List<String> v = new ArrayList<>();
        List<SimKernelState> live = run.kernels.values().stream().filter(k -> !k.stopped && !k.doomed).toList();
        for (SimKernelState k : live) {
            run.cluster.call(k.name, () -> {
                String wrong = k.core.inspect().futexShareViolation();
                if (wrong != null) {
                    v.add(String.format(Locale.ROOT, "%s: %s (rule 9)", k.name, wrong));
                }
                int held = k.core.inspect().futexesOfPeers();
                if (held > 0) {
                    run.counts.merge(COUNTED_AT_END, (long) held, Long::sum);
                }
            });
        }
        for (Worker w : run.workers) {
            if (live.contains(w.kernel)) {
                run.cluster.call(w.kernel.name, () -> w.kernel.core.taskTerminate(w.task, "the run is over",
                        Reply.ignore()));
            }
        }
        run.cluster.runUntil(run.cluster.now() + run.options.leaseNanos());
        for (SimKernelState k : live) {
            run.cluster.call(k.name, () -> {
                int left = k.core.inspect().futexesOfPeers();
                if (left != 0) {
                    v.add(String.format(Locale.ROOT, "%s: %d futexes still counted to client peers after every worker's "
                            + "task ended (rule 9)", k.name, left));
                }
            });
        }
        return v;
    }
}
