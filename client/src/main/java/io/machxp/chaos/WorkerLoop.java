package io.machxp.chaos;

import io.machxp.chaos.History.Kind;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.sim.SimCluster;
import java.nio.ByteBuffer;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * What the worker threads of a chaos run do, in every workload mix: where the mixes differ, the
 * loop asks the run's {@link Workload}. Every step is a call into the worker's kernel
 * ({@link KernelCalls}), and the worker goes on when the call is answered.
 *
 * <h2>Overview</h2>
 * <pre>
 *  starting    once its kernel has the pager's welcome: threads-per-kernel workers, each a
 *              task_create, a vm_map of every pager's object and a thread_create, at a base
 *              priority of 1, 20, 40 or 60 drawn from a stream of its own
 *  locking     pick a futex; a vm_lock_futex with a timeout of 1 to 4 leases (none in one lock
 *              of four), unless the workload makes the attempt a trylock; EOWNERDEAD: a
 *              vm_futex_consistent first. A timeout or an error: thinking
 *  owning      read the counter next to the word, write it + 1, hold the futex (up to L/4, or in
 *              one hold of six L/2 to L, long enough for waiters to gather and boosts to settle)
 *              as the workload holds; with several pagers, the same write once more
 *  releasing   if the owner is settled ({@link PiWatch}), its effective priority read from its
 *              kernel and recorded next to what the harness expects; then vm_unlock_futex
 *  thinking    what the workload does between two critical sections, then a pause up to L/4
 *  quiet       once the duration is over and the last fault's effects too ({@link #quietPeriod}):
 *              every live worker makes one more lock, with no timeout, holds, unlocks, and is
 *              finished
 * </pre>
 * With several pagers, EIO on a secondary pager's futex says the kernel lost that pager: a lock
 * that fails so maps the pager's object again, and a read or write under the futex that fails so
 * unlocks it (as code in a finally block would). A worker whose task died or whose kernel the
 * harness counts as stopped makes no more calls.
 */
final class WorkerLoop {
    private static final int COUNTER = 8;
    private static final int[] PRIORITIES = {1, 20, 40, 60};

    private final ChaosRun run;
    private final ChaosOptions options;
    private final SimCluster cluster;
    private final KernelCalls calls;
    private final Workload workload;
    private final History history;
    private final PiWatch pi;
    /** How many pagers: futex f is in object f mod pagers, served by that pager. */
    private final int pagers;
    private boolean quiet;

    WorkerLoop(ChaosRun run, KernelCalls calls, Workload workload) {
        this.run = run;
        this.options = run.options;
        this.cluster = run.cluster;
        this.calls = calls;
        this.workload = workload;
        this.history = run.history;
        this.pi = run.pi;
        this.pagers = run.pagers;
    }

    /** The quiet period begins: each worker's next lock is its last, with no timeout. */
    void quietPeriod() {
        quiet = true;
    }

    /** The longest a worker holds a futex (one hold in six is a long one, for owners to settle). */
    long maxHoldNanos() {
        return options.leaseNanos();
    }

    /** The workers of kernel {@code k}, once it has the pager's welcome. */
    void startWorkers(SimKernelState k) {
        if (k.stopped) {
            return;
        }
        if (!k.core.xp().welcomed()) { // no welcome yet: the pager may be in its grace period
            cluster.at(cluster.now() + options.leaseNanos() / 4, () -> startWorkers(k));
            return;
        }
        for (int i = 0; i < options.threadsPerKernel(); i++) {
            startWorker(k, run.random.split());
        }
    }

    /** The client peers the workers' tasks belong to (round-robin). */
    static final int CLIENT_PEERS = 3;

    /** A worker in a task of its own on kernel {@code k}, drawing from {@code rnd}. */
    void startWorker(SimKernelState k, SplittableRandom rnd) {
        int priority = PRIORITIES[rnd.nextInt(PRIORITIES.length)];
        // Each worker's task belongs to one of a few client peers, as a gRPC client's would: what
        // the kernel holds for it counts to that peer (rule 9, FutexSharesAtEnd).
        Object peer = "chaos client peer " + run.workers.size() % CLIENT_PEERS;
        calls.call(k, null, "task_create", -1, r -> k.core.taskCreate("worker", peer, r), (MachTask task) ->
                mapAll(k, task, new long[pagers], 0, bases ->
                        calls.call(k, null, "thread_create", -1, r -> k.core.threadCreate(task.id, priority, r),
                                (MachThread t) -> {
                                    Worker w = new Worker(k, task.id, t.tid, bases, priority, rnd);
                                    run.workers.add(w);
                                    history.add(cluster.now(), Kind.KERNEL, w.name, -1, priority, false,
                                            "worker, priority " + priority);
                                    next(w);
                                })));
    }

    /** Maps the objects of pagers {@code p} and up into the task, one after the other; then {@code then}. */
    private void mapAll(SimKernelState k, MachTask task, long[] bases, int p, Consumer<long[]> then) {
        if (p == pagers) {
            then.accept(bases);
            return;
        }
        calls.call(k, null, "vm_map", -1, r -> k.core.vmMap(task.id, run.object(p), r), (VmMapping m) -> {
            bases[p] = m.start();
            mapAll(k, task, bases, p + 1, then);
        });
    }

    /** The worker's next operation: work until the quiet period, then one lock with no timeout. */
    private void next(Worker w) {
        if (w.dead || w.kernel.stopped || w.finished) {
            return;
        }
        if (!quiet && cluster.now() >= options.durationNanos() && cluster.now() >= run.faults().lastEffectEnd()) {
            cluster.at(cluster.now() + options.leaseNanos() / 4, () -> next(w)); // wait for the quiet period
            return;
        }
        w.finished = quiet;
        int f = w.rnd.nextInt(options.futexes());
        long timeout = quiet || w.rnd.nextInt(4) == 0 ? -1 : options.leaseNanos() * (1 + w.rnd.nextInt(4));
        w.locking = f;
        if (!quiet && workload.trylockInstead(w, f, a -> acquired(w, f, a), () -> think(w),
                error -> lockFailed(w, f, error))) {
            return;
        }
        pi.waits(f, w.name, w.priority, w.kernel.name, cluster.now(),
                timeout < 0 ? Long.MAX_VALUE : cluster.now() + (long) (timeout / (1 + run.bounds.drift())));
        calls.call(w.kernel, w, "lock f" + f, timeout,
                r -> w.kernel.core.vmLockFutex(w.task, w.tid, w.word(f), timeout, r),
                (Acquired a) -> acquired(w, f, a), error -> lockFailed(w, f, error));
    }

    /** The worker got {@code f} from a lock or a trylock: on EOWNERDEAD it marks it consistent first. */
    private void acquired(Worker w, int f, Acquired a) {
        if (a.ownerDied()) {
            run.count("EOWNERDEAD");
            calls.call(w.kernel, w, "consistent f" + f, -1,
                    r -> w.kernel.core.vmFutexConsistent(w.task, w.tid, w.word(f), r), (Void v) -> critical(w, f));
        } else {
            critical(w, f);
        }
    }

    /** A lock or a trylock of {@code f} failed. */
    private void lockFailed(Worker w, int f, KernelError error) {
        if (error.errno() == io.machxp.proto.task.Errno.EIO && pagers > 1 && f % pagers != 0) {
            // A secondary pager lost: its object is mapped anew. First the old mapping's
            // counter, which must fail too: no copy of a lost pager's page is served.
            calls.call(w.kernel, w, "read f" + f, -1,
                    r -> w.kernel.core.vmRead(w.task, w.word(f) + COUNTER, 8, r),
                    (byte[] stale) -> mapAgain(w, f % pagers), failed -> mapAgain(w, f % pagers));
        } else {
            think(w);
        }
    }

    /**
     * After an EIO on an object of secondary pager {@code p} (the kernel lost its session there),
     * the worker maps the object again, as a user's code would: that works once the kernel has a
     * new session with the pager (docs/multi-pager.md), and until then fails with EIO too.
     */
    private void mapAgain(Worker w, int p) {
        calls.call(w.kernel, w, "vm_map " + ChaosRun.pagerName(p), -1,
                r -> w.kernel.core.vmMap(w.task, run.object(p), r), (VmMapping m) -> {
            w.bases[p] = m.start();
            run.count("objects mapped again");
            think(w);
        }, error -> think(w));
    }

    /** The owner of {@code f}: the counter read and written + 1, the hold, the release. */
    private void critical(Worker w, int f) {
        calls.call(w.kernel, w, "read f" + f, -1,
                r -> w.kernel.core.vmRead(w.task, w.word(f) + COUNTER, 8, r), (byte[] bytes) -> {
            long value = ByteBuffer.wrap(bytes).getLong();
            byte[] next = ByteBuffer.allocate(8).putLong(value + 1).array();
            calls.call(w.kernel, w, "write f" + f, -1,
                    r -> w.kernel.core.vmWrite(w.task, w.word(f) + COUNTER, next, r), (Void v) -> {
                long hold = w.rnd.nextInt(6) == 0 ? maxHoldNanos() / 2 + w.rnd.nextLong(maxHoldNanos() / 2 + 1)
                        : w.rnd.nextLong(options.leaseNanos() / 4 + 1);
                workload.hold(w, hold, () -> {
                    if (pagers > 1 && w.owns == f) {
                        // The same value once more before the unlock: with several pagers, a kernel
                        // may lose f's pager alone meanwhile, and a write after it must have stopped
                        // using that pager must fail (nothing acknowledged may be lost).
                        calls.call(w.kernel, w, "write f" + f, -1,
                                r -> w.kernel.core.vmWrite(w.task, w.word(f) + COUNTER, next, r),
                                (Void again) -> release(w, f), error -> release(w, f));
                    } else {
                        release(w, f);
                    }
                });
            }, error -> ownershipLost(w, f, error));
        }, error -> ownershipLost(w, f, error));
    }

    /** The owner unlocks {@code f} (its ownership ends here, whatever the kernel answers) and goes on. */
    private void release(Worker w, int f) {
        if (w.owns == f) { // else its ownership ended meanwhile (its kernel lost f's pager)
            checkPriority(w, f);
            history.add(cluster.now(), Kind.RELEASE, w.name, f, 0, false, "");
        }
        w.owns = -1;
        w.unlocking = f;
        calls.call(w.kernel, w, "unlock f" + f, -1, r -> w.kernel.core.vmUnlockFutex(w.task, w.tid, w.word(f), r),
                (Void u) -> think(w), error -> think(w));
    }

    /**
     * A read or write under {@code f} failed: with several pagers, EIO on a secondary pager's futex
     * says the kernel lost that pager; the worker unlocks (as code in a finally block would) and goes on.
     */
    private void ownershipLost(Worker w, int f, KernelError error) {
        if (pagers > 1 && f % pagers != 0 && error.errno() == io.machxp.proto.task.Errno.EIO) {
            release(w, f);
        }
    }

    /** A settled owner runs at the highest priority waiting for it (see {@link PiWatch}). */
    private void checkPriority(Worker w, int f) {
        OptionalInt expected = pi.expected(f, w.kernel.name, w.priority, w.acquiredAt, cluster.now(),
                name -> { SimKernelState k = run.kernels.get(name); return k != null && !k.stopped && !k.doomed; });
        if (expected.isEmpty()) {
            return;
        }
        MachThread t = w.kernel.core.task(w.task).thread(w.tid);
        int observed = t.effectivePriority;
        history.add(cluster.now(), Kind.PRIORITY, w.name, f, observed, observed == expected.getAsInt(),
                "the harness expects " + expected.getAsInt() + " (its base " + w.priority + ", " + pi.waiters(f)
                        + " waiting)");
        run.count(pi.waiters(f) > 0 ? "priority checks with waiters" : "priority checks");
    }

    /** Between two critical sections: what the workload does there (outside the quiet period), then a pause. */
    private void think(Worker w) {
        if (quiet) {
            pause(w);
        } else {
            workload.between(w, () -> pause(w));
        }
    }

    private void pause(Worker w) {
        cluster.at(cluster.now() + w.rnd.nextLong(options.leaseNanos() / 4 + 1), () -> next(w));
    }
}
