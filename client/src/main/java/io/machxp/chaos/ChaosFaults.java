package io.machxp.chaos;

import io.machxp.chaos.History.Kind;
import io.machxp.kernel.core.Reply;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The faults of a chaos run, and the harness's own record of what each must do: the verdict on
 * who died and which errors are allowed rests on this record, never on what the cores report.
 *
 * <h2>Overview</h2>
 * Faults come one at a time at exponentially spread times during the run's duration:
 * <ul>
 *   <li>kernel crash (killed: dead at once) and clean shutdown (dead at once, its threads end under
 *       their futexes); a new kernel takes its place a lease later;</li>
 *   <li>partition and process pause (SIGSTOP), each either survivable (shorter than
 *       {@link FaultBounds#survivableNanos}: the kernel must keep its lease and nothing may fail)
 *       or fatal (longer than {@link FaultBounds#fatalNanos}: the kernel is DOOMED, must have
 *       stopped by {@link FaultBounds#stoppedBy}, and is DEAD from then); nothing in between, so
 *       the harness always knows which;</li>
 *   <li>a worker's task dies (inside its critical section or not);</li>
 *   <li>a kernel's or the pager's clock jumps forward (within {@link FaultBounds}; every clock also
 *       drifts up to {@link FaultBounds#DRIFT} from the start);</li>
 *   <li>the pager crashes and a new one starts on its store within
 *       {@link FaultBounds#pagerDownNanos} (kernels must reclaim in its grace period).</li>
 * </ul>
 * With several pagers a pager crash or clock jump hits one pager, drawn from the seed; the others
 * go on serving their objects.
 * Survivable faults never overlap on one kernel, nor with a pager outage, within their recovery
 * (a lease after the fault ends): overlapping, they could add up to a fatal one. Fatal faults and
 * deaths may come at any time.
 */
final class ChaosFaults {
    private final ChaosRun run;
    private final FaultBounds b;
    private final long lease;
    /** A pager outage (down, grace, recovery) or a pager clock jump is in effect until then. */
    private long pagerBusyUntil;
    private long lastEffectEnd;
    private long pagerCrashes;
    /** The latest a restarted pager's grace period can end: it counts no lease out before then. */
    private long graceLatestEnd;

    /** The replicas' faults, with a replicated pager; null without. */
    private final ReplicaFaults replicaFaults;

    ChaosFaults(ChaosRun run) {
        this.run = run;
        this.b = run.bounds;
        this.lease = run.options.leaseNanos();
        this.replicaFaults = run.cluster.replicas() == null ? null : new ReplicaFaults(run, run.cluster.replicas());
    }

    void start() {
        if (replicaFaults != null) {
            replicaFaults.planWallClockSteps(run.replicaClockStepLeases());
            double rate = 1 + (run.random.nextDouble() * 2 - 1) * b.drift();
            run.cluster.replicas().clockRate(rate);
            run.history.add(0, Kind.PAGER, "pager", -1, 0, false, String.format(Locale.ROOT, "start, %d replicas, clock rate %.4f",
                    run.cluster.replicas().size(), rate));
        }
        for (int p = 0; p < (replicaFaults == null ? run.pagers : 0); p++) {
            double rate = 1 + (run.random.nextDouble() * 2 - 1) * b.drift();
            run.cluster.pagerClockRate(p, rate);
            run.history.add(0, Kind.PAGER, ChaosRun.pagerName(p), -1, 0, false,
                    String.format(Locale.ROOT, "start, clock rate %.4f", rate));
        }
        if (run.options.meanFaultGapNanos() > 0) {
            scheduleFault();
        }
    }

    /** When the last fault's effects are over: the quiet period starts no earlier. */
    long lastEffectEnd() {
        return lastEffectEnd;
    }

    private void effectUntil(long time) {
        lastEffectEnd = Math.max(lastEffectEnd, time);
        run.pi.disturbed(time);
    }

    private void scheduleFault() {
        long gap = (long) (-Math.log(1 - run.random.nextDouble()) * run.options.meanFaultGapNanos());
        long at = run.cluster.now() + Math.max(1, gap);
        if (at < run.options.durationNanos()) {
            run.cluster.at(at, () -> {
                inject();
                scheduleFault();
            });
        }
    }

    private void inject() {
        long now = run.cluster.now();
        List<SimKernelState> live = run.kernels.values().stream().filter(k -> !k.stopped && !k.doomed)
                .sorted(Comparator.comparing(k -> k.name)).toList();
        if (live.isEmpty()) {
            return;
        }
        SimKernelState k = live.get(run.random.nextInt(live.size()));
        int kind = run.random.nextInt(100);
        boolean quietKernel = k.busyUntil <= now && pagerBusyUntil <= now && now - k.startedAt >= 2 * lease;
        boolean quietCluster = pagerBusyUntil <= now && run.kernels.values().stream().allMatch(x -> x.busyUntil <= now);
        if (replicaFaults != null && (kind < 10 || kind >= 97)) {
            // Nor while a kernel cut off or paused past its lease is not yet declared dead: a new
            // leader's takeover extension, with the kernel's grace, could keep a session that the
            // fault dooms (kernel LeaseGrace, pager LeaderTakeover).
            boolean noneDoomed = run.kernels.values().stream().noneMatch(x -> x.doomed && now < x.declaredDeadBy);
            long effect = replicaFaults.inject(quietCluster && noneDoomed);
            if (effect > 0) {
                pagerBusyUntil = Math.max(pagerBusyUntil, effect);
                effectUntil(effect);
            }
        } else if (kind < 10) {
            int p = pickPager();
            if (quietCluster && run.cluster.pagerUp(p)) {
                crashPager(p);
            }
        } else if (kind < 30) {
            run.cluster.crash(k.name);
            dead(k, true, "crash");
            run.count("kernel crashes");
        } else if (kind < 38) {
            if (k.paused) {
                return;
            }
            shutdown(k);
        } else if (kind < 62) {
            if (run.pagers > 1 && replicaFaults == null && run.random.nextInt(4) == 0) {
                cutOffFromPager(k, 1 + run.random.nextInt(run.pagers - 1));
            } else {
                cutOff(k, quietKernel, false);
            }
        } else if (kind < 76) {
            cutOff(k, quietKernel, true);
        } else if (kind < 93) {
            taskDies(k);
        } else if (kind < 97) {
            run.count("kernel clock jumps tried");
            if (quietKernel) {
                long jump = run.random.nextLong(b.kernelJumpNanos() + 1);
                run.cluster.clockJump(k.name, jump);
                k.busyUntil = now + b.recoveryNanos();
                effectUntil(k.busyUntil);
                note(k.name, String.format(Locale.ROOT, "clock jumps %.3f ms forward", jump / 1e6));
                run.count("kernel clock jumps");
            }
        } else if (quietCluster) {
            int p = pickPager();
            long jump = run.random.nextLong(b.pagerJumpNanos() + 1);
            run.cluster.pagerClockJump(p, jump);
            pagerBusyUntil = now + b.recoveryNanos();
            effectUntil(pagerBusyUntil);
            run.history.add(now, Kind.PAGER, ChaosRun.pagerName(p), -1, 0, false,
                    String.format(Locale.ROOT, "clock jumps %.3f ms forward", jump / 1e6));
            run.count("pager clock jumps");
        }
    }

    /**
     * Kernel {@code k} shuts down cleanly (not paused): dead at once for the harness, its threads
     * end under their futexes; a new kernel takes its place a lease later.
     */
    void shutdown(SimKernelState k) {
        for (Worker w : run.workers) {
            if (w.kernel == k && !w.dead) { // its threads end under their futexes (robust: OWNER_DIED)
                w.dead = true;
                run.ownerGone(w, "shutdown");
            }
        }
        run.cluster.shutdown(k.name); // a futex passed on as its threads end goes to an ending thread
        dead(k, false, "shutdown");
        run.count("kernel shutdowns");
    }

    /** The pager a pager fault hits: drawn from the seed with several (with one, nothing is drawn). */
    private int pickPager() {
        return run.pagers == 1 ? 0 : run.random.nextInt(run.pagers);
    }

    private void note(String kernel, String what) {
        run.history.add(run.cluster.now(), Kind.KERNEL, kernel, -1, 0, false, what);
    }

    /** A partition or a pause: survivable if the kernel is quiet and the coin says so, else fatal. */
    private void cutOff(SimKernelState k, boolean quietKernel, boolean pause) {
        long now = run.cluster.now();
        if (replicaFaults != null && pagerBusyUntil > now) {
            return; // a failover under way could keep a session this fault would doom (its takeover extension)
        }
        boolean survivable = quietKernel && run.random.nextBoolean();
        long nanos = survivable ? lease / 20 + run.random.nextLong(b.survivableNanos() - lease / 20)
                : b.fatalNanos() + run.random.nextLong(3 * lease - b.fatalNanos());
        String what = pause ? "pause" : "partition";
        if (pause) {
            run.cluster.pause(k.name, nanos);
            k.paused = true;
            run.cluster.at(now + nanos, () -> k.paused = false);
        } else {
            run.cluster.partition(k.name, nanos);
        }
        note(k.name, String.format(Locale.ROOT, "%s %.3f ms, %s", what, nanos / 1e6, survivable ? "survivable" : "fatal"));
        run.count((survivable ? "survivable " : "fatal ") + what + "s");
        if (survivable) {
            k.busyUntil = now + nanos + b.recoveryNanos();
            effectUntil(k.busyUntil);
            return;
        }
        long stoppedBy = b.stoppedBy(now);
        k.doomed = true;
        k.declaredDeadBy = declaredDeadBy(now);
        run.history.add(now, Kind.DOOMED, k.name, -1, k.declaredDeadBy, false, what);
        run.cluster.at(stoppedBy, () -> dead(k, false, what + " longer than the lease"));
        effectUntil(Math.max(now + nanos, stoppedBy) + b.recoveryNanos());
    }

    /**
     * A partition between kernel {@code k} and secondary pager {@code p} only, longer than the
     * lease: the kernel must stop using p's objects (LINK_DOOMED, then LINK_DEAD when it must have
     * stopped), and goes on with its other pagers' objects; once p has declared it dead, it opens
     * a new session with p by itself and its workers map p's object again (docs/multi-pager.md).
     */
    private void cutOffFromPager(SimKernelState k, int p) {
        if (k.linkCutUntil > run.cluster.now()) {
            return; // one at a time per kernel: the harness's record of it stays simple
        }
        long now = run.cluster.now();
        long nanos = b.fatalNanos() + run.random.nextLong(3 * lease - b.fatalNanos());
        run.cluster.partition(k.name, p, nanos);
        String pager = ChaosRun.pagerName(p);
        note(k.name, String.format(Locale.ROOT, "partition from %s %.3f ms, fatal for its objects", pager, nanos / 1e6));
        run.count("fatal partitions from one pager");
        long declared = declaredDeadBy(now);
        run.history.add(now, Kind.LINK_DOOMED, k.name, -1, declared, false, pager);
        long stoppedBy = b.stoppedBy(now);
        k.linkCutUntil = Math.max(now + nanos, declared) + b.recoveryNanos();
        run.cluster.at(stoppedBy, () -> {
            if (k.stopped) {
                return; // gone meanwhile: its DEAD covers every pager
            }
            run.history.add(run.cluster.now(), Kind.LINK_DEAD, k.name, -1, declared, false, pager);
            for (Worker w : run.workers) {
                if (w.kernel == k && !w.dead) {
                    run.ownerGone(w, p, "its kernel's session with " + pager + " ended");
                }
            }
        });
        effectUntil(k.linkCutUntil);
    }

    /** By when the pager has declared dead a kernel last heard now: a pager in grace counts from its end. */
    private long declaredDeadBy(long now) {
        return b.declaredDeadBy(Math.max(now, graceLatestEnd)) + (replicaFaults == null ? 0 : replicaFaults.declarationLag());
    }

    /** The harness counts the kernel as gone: its owners' ownership ends, and a new kernel takes its place. */
    private void dead(SimKernelState k, boolean killed, String how) {
        if (k.stopped) {
            return;
        }
        long now = run.cluster.now();
        k.stopped = true;
        if (!k.doomed) {
            k.declaredDeadBy = declaredDeadBy(now);
        }
        run.history.add(now, Kind.DEAD, k.name, -1, k.declaredDeadBy, killed, how);
        for (Worker w : run.workers) {
            if (w.kernel == k) {
                run.ownerGone(w, how);
            }
        }
        effectUntil(now + lease + b.recoveryNanos());
        if (now < run.options.durationNanos()) {
            run.cluster.at(now + lease, run::startKernel);
        }
    }

    private void taskDies(SimKernelState k) {
        List<Worker> candidates = run.workers.stream().filter(w -> w.kernel == k && !w.dead).toList();
        if (candidates.isEmpty()) {
            return;
        }
        taskDies(candidates.get(run.random.nextInt(candidates.size())));
    }

    /**
     * Worker {@code w}'s task dies: its ownership ends with a death (robust: OWNER_DIED). The
     * harness counts it gone when the kernel runs the terminate: at once, or on a paused kernel
     * when it resumes, after it has answered what arrived meanwhile (a write whose page came is
     * still the owner's). The worker makes no call from now on.
     */
    void taskDies(Worker w) {
        SimKernelState k = w.kernel;
        w.dead = true;
        run.count("task deaths");
        effectUntil(run.cluster.now() + b.recoveryNanos());
        run.cluster.call(k.name, () -> {
            run.ownerGone(w, "task died");
            k.core.taskTerminate(w.task, "chaos: the task died", Reply.ignore());
        });
    }

    /**
     * The pager crashes and restarts a while later on its store. Its grace period ends a lease of
     * its clock after the restart: noted at the earliest it can end (on the fastest clock the bound
     * allows), before any grant of the new pager. The checker decides from its own record which
     * futexes may have been lost.
     */
    private void crashPager(int p) {
        long now = run.cluster.now();
        String name = ChaosRun.pagerName(p);
        long down = lease / 50 + run.random.nextLong(Math.max(1, b.pagerDownNanos() - lease / 50));
        run.history.add(now, Kind.PAGER, name, -1, 0, false, String.format(Locale.ROOT, "crash, down %.3f ms", down / 1e6));
        run.count("pager restarts");
        run.cluster.crashPager(p, down);
        long crash = ++pagerCrashes;
        long graceEnds = now + down + (long) Math.floor(lease / (1 + b.drift())) - 1;
        graceLatestEnd = now + down + (long) Math.ceil(lease / (1 - b.drift())) + 1;
        run.cluster.at(graceEnds, () -> {
            if (crash == pagerCrashes) {
                run.history.add(run.cluster.now(), Kind.PAGER, name, -1, 0, false, "grace-end");
            }
        });
        pagerBusyUntil = graceEnds + b.transitNanos() + 2 * b.recoveryNanos();
        effectUntil(pagerBusyUntil);
    }
}
