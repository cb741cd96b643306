package io.machxp.chaos;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.futex.Acquired;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The {@link ChaosMix#CONTENDED} workload: what it adds to the standard one ({@link WorkerLoop},
 * {@link StandardWorkload}), to bring the cores' riskier paths into chaos. None of it runs in the
 * standard mix, which draws nothing from here, so its histories stay as they were.
 *
 * <h2>Overview</h2>
 * <pre>
 *  lock attempt       one in three outside the quiet period is a vm_trylock_futex: on a futex
 *   ({@link #trylockInstead})
 *                     another kernel holds, the pager sends it a relinquish_futex(try), an
 *                     awaited request under the answer deadline (xp-spec 4.8); EBUSY (a null
 *                     answer) acquires nothing, a success is an acquisition as a lock's
 *  between two       a racy access of another futex's page, outside its entry consistency: a
 *   critical sections read of its counter ("peek", one in four) or a write of a scratch word
 *   ({@link #between}) beside it ("poke", one in eight): a page fault while another kernel may
 *                     hold that page writable, so the pager sends a lock_request with reply;
 *                     or a compute (one in three, up to L/2) on the kernel's one CPU, so that
 *                     a woken heir of its priority or below does not run at once
 *  a hold             one in three is a compute of the hold's length instead of a sleep
 *   ({@link #hold})
 *  owner deaths       at exponentially spread times (mean {@link #DEATH_GAP_LEASES} leases) the
 *   ({@link #start})  task of an owner that others wait for dies ({@link ChaosFaults#taskDies}):
 *                     its futex goes on with OWNER_DIED, to a woken heir when the heir cannot
 *                     run at once (kernel FutexHeirs); a new worker takes its place a lease later
 * </pre>
 * Peeks and pokes are recorded as calls of their own ("peek f3", "poke f3"), never as a read or a
 * write under the futex: the checker requires them only to be answered in time, and to fail with
 * nothing but EIO (which it allows only from a kernel the harness doomed or killed) or ESRCH once
 * the harness counts the worker gone (in this mix {@link #gone} records "worker gone" when
 * {@link ChaosRun#ownerGone(Worker, String)} says so). An owner may be killed on a paused
 * kernel: the harness counts its ownership ended only when the kernel runs the terminate
 * (ChaosFaults.taskDies), after it has answered what arrived for it meanwhile (a write whose page
 * came).
 *
 * <p>Counted in the run's counts: trylocks made and acquired, EBUSY, peeks and pokes,
 * computes, owners killed with waiters, and what the cores did with them: lock_requests with
 * reply and relinquish_futex(try) the pagers sent, heirs woken and passed over, and the sessions
 * ended for an answer overdue ({@link ChaosRun#run}).
 */
final class ContendedWorkload implements Workload {
    /** Mean time between two owner deaths, in leases. */
    static final int DEATH_GAP_LEASES = 3;
    /** Where a poke writes, in a futex's page: past the word and the counter. */
    private static final int SCRATCH = 16;
    private static final int COUNTER = 8;

    private final ChaosRun run;
    /** A stream of its own: the owner deaths' draws leave the faults' stream as it is. */
    private final SplittableRandom random;
    private final long lease;

    ContendedWorkload(ChaosRun run, long seed) {
        this.run = run;
        this.random = new SplittableRandom(seed ^ 0xC047E4DEDL);
        this.lease = run.options.leaseNanos();
    }

    /** Counts what the cores do with the mix's calls, and starts the owner deaths. */
    @Override
    public void start() {
        run.cluster.observe((sent, arrives, from, to, m) -> {
            if (m instanceof PagerToKernel p) {
                if (p.hasMemoryObjectLockRequest() && p.getMemoryObjectLockRequest().getReply()) {
                    run.count(ContendedPaths.LOCK_REQUESTS_WITH_REPLY);
                } else if (p.hasMemoryObjectRelinquishFutex() && p.getMemoryObjectRelinquishFutex().getTry()) {
                    run.count(ContendedPaths.RELINQUISH_TRY);
                }
            }
        });
        if (run.options.meanFaultGapNanos() > 0) {
            scheduleDeath();
        }
    }

    /** The kernels' trace: the heirs' path. */
    @Override
    public void traced(String event) {
        switch (event) {
            case "owner-died-wake" -> run.count(ContendedPaths.HEIRS_WOKEN);
            case "owner-died-taken-before-heir" -> run.count("heirs passed over");
            default -> { }
        }
    }

    /** One lock attempt in three is a vm_trylock_futex of {@code f}. */
    @Override
    public boolean trylockInstead(Worker w, int f, Consumer<Acquired> got, Runnable busy, Consumer<KernelError> failed) {
        if (w.rnd.nextInt(3) != 0) {
            return false;
        }
        run.count(ContendedPaths.TRYLOCKS);
        run.pi.tries(f, w.name, w.kernel.name);
        run.calls.call(w.kernel, w, "trylock f" + f, -1, r -> w.kernel.core.vmTrylockFutex(w.task, w.tid, w.word(f), r),
                (Acquired a) -> {
                    if (a == null) {
                        busy.run();
                    } else {
                        run.count(ContendedPaths.TRYLOCKS_ACQUIRED);
                        got.accept(a);
                    }
                }, failed);
        return true;
    }

    /** The harness counts the worker gone: its racy accesses under way may now fail with ESRCH. */
    @Override
    public void gone(Worker w, String why) {
        run.history.add(run.cluster.now(), History.Kind.KERNEL, w.name, -1, 0, false, "worker gone: " + why);
    }

    /** Between two critical sections: a peek, a poke, a compute, or nothing. */
    @Override
    public void between(Worker w, Runnable then) {
        int what = w.rnd.nextInt(24);
        int g = w.rnd.nextInt(run.options.futexes());
        if (what < 6) {
            run.count("peeks");
            run.calls.call(w.kernel, w, "peek f" + g, -1,
                    r -> w.kernel.core.vmRead(w.task, w.word(g) + COUNTER, 8, r), (byte[] b) -> then.run(),
                    error -> then.run());
        } else if (what < 9) {
            run.count("pokes");
            byte[] junk = java.nio.ByteBuffer.allocate(8).putLong(w.rnd.nextLong()).array();
            run.calls.call(w.kernel, w, "poke f" + g, -1,
                    r -> w.kernel.core.vmWrite(w.task, w.word(g) + SCRATCH, junk, r), (Void v) -> then.run(),
                    error -> then.run());
        } else if (what < 17) {
            compute(w, 1 + w.rnd.nextLong(lease / 2), then);
        } else {
            then.run();
        }
    }

    /** The owner holds its futex {@code nanos}: one hold in three computes, the others sleep. */
    @Override
    public void hold(Worker w, long nanos, Runnable then) {
        if (w.rnd.nextInt(3) == 0) {
            compute(w, nanos, then);
        } else {
            run.calls.call(w.kernel, w, "sleep", -1, r -> w.kernel.core.threadSleep(w.task, w.tid, nanos, r),
                    (Void s) -> then.run(), error -> { });
        }
    }

    private void compute(Worker w, long nanos, Runnable then) {
        run.count("computes");
        run.calls.call(w.kernel, w, "compute", -1, r -> w.kernel.core.threadCompute(w.task, w.tid, nanos, r),
                (Void v) -> then.run(), error -> { });
    }

    private void scheduleDeath() {
        long gap = (long) (-Math.log(1 - random.nextDouble()) * DEATH_GAP_LEASES * lease);
        long at = run.cluster.now() + Math.max(1, gap);
        if (at < run.options.durationNanos()) {
            run.cluster.at(at, () -> {
                killAnOwner();
                scheduleDeath();
            });
        }
    }

    /** The task of an owner others wait for dies, if there is one; a new worker replaces it. */
    private void killAnOwner() {
        List<Worker> owners = run.workers.stream().filter(w -> w.owns >= 0 && !w.dead && !w.kernel.stopped
                && !w.kernel.doomed && run.pi.waiters(w.owns) > 0).toList();
        if (owners.isEmpty()) {
            return;
        }
        Worker w = owners.get(random.nextInt(owners.size()));
        run.count(ContendedPaths.OWNERS_KILLED);
        run.faults().taskDies(w);
        SimKernelState k = w.kernel;
        run.cluster.at(run.cluster.now() + lease, () -> {
            if (!k.stopped && !k.doomed) {
                run.loop.startWorker(k, random.split());
            }
        });
    }
}
