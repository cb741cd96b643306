package io.machxp.conform;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs conformance cases against a pager, one after another, each with its own deadline (the
 * per-case timeout, plus three of the target's leases for the cases that wait leases out), and
 * collects their results.
 * <pre>
 *  reach the target      -> Unreachable (exit 3) if the channel is not READY within the timeout
 *  discover              -> one kernel's welcome and ready: lease, page size, object size
 *  each case             -> PASS; FAIL (a Violation: the rule and what was seen); SKIP (needs a
 *                           restart command, a lease...); ERROR (anything else, e.g. the target
 *                           went away): its kernels are closed cleanly after it
 *    the kit stalled     -> a FAIL or ERROR (not a timeout) after the target ended, with the
 *                           lease's death (FAILED_PRECONDITION / ETIMEDOUT, spec 4.5), the stream
 *                           of one of the case's kernels that kept alive and that the kit let go
 *                           over half a lease without sending anything (its keepalive timer fired
 *                           late: the target may rightly have declared it dead): the case runs
 *                           again, at most {@link #MAX_RUNS} times in all; the result keeps each
 *                           earlier run (a PASS then is "passed on a rerun" in every report)
 *    a late reclaim      -> a SKIP because the restarted target refused a reclaim (ESTALE) a lease or
 *                           more after the restart began: its grace period may have ended first,
 *                           so the refusal proves nothing (PagerProbe#reclaimRefused); the case runs
 *                           again as after a stall
 * </pre>
 * A target that stops answering keepalives and ends a kernel that kept sending on time is no kit
 * stall: its FAIL stands.
 */
public final class ConformRunner {
    /**
     * @param caseTimeout how long a case may wait for the target's answers (the lease cases three
     *     leases more)
     * @param object the memory object the cases use (the target must serve it)
     * @param restarter restarts the target for the cases that need it; null: they are skipped
     * @param connectTimeout how long the target may take to accept a connection, at the start and
     *     after a restart (a process still starting)
     */
    public record Options(Duration caseTimeout, String object, PagerProbe.Restarter restarter,
            Duration connectTimeout) {
        public Options(Duration caseTimeout, String object, PagerProbe.Restarter restarter) {
            this(caseTimeout, object, restarter, caseTimeout);
        }
    }

    /** The target cannot be reached (exit status 3). */
    public static final class Unreachable extends Exception {
        public Unreachable(String message) {
            super(message);
        }
    }

    private ConformRunner() {}

    public static List<CaseResult> run(ManagedChannel channel, List<ConformCase<PagerProbe>> cases, Options options,
            Consumer<CaseResult> progress) throws Unreachable {
        awaitReady(channel, options.connectTimeout());
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "conform-keepalives");
            t.setDaemon(true);
            return t;
        });
        try (CaseExecutor executor = new CaseExecutor()) {
            String runId = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
            PagerProbe.Run run = new PagerProbe.Run(channel, runId, options.object(), timer, options.restarter(), 0);
            discover(run, options.caseTimeout());
            List<CaseResult> results = new ArrayList<>();
            for (ConformCase<PagerProbe> c : cases) {
                CaseResult r = runOne(run, c, options, executor);
                results.add(r);
                progress.accept(r);
            }
            return results;
        } finally {
            timer.shutdownNow();
        }
    }

    /**
     * Waits until the channel is READY (a target being started, or restarted, may refuse
     * connections for a while): a failed attempt is retried at once rather than after gRPC's
     * growing backoff.
     */
    public static void awaitReady(ManagedChannel channel, Duration timeout) throws Unreachable {
        long until = System.nanoTime() + timeout.toNanos();
        ConnectivityState state = channel.getState(true);
        while (state != ConnectivityState.READY) {
            if (System.nanoTime() > until || state == ConnectivityState.SHUTDOWN) {
                throw new Unreachable("no connection within " + timeout.toMillis() + " ms (last state " + state + ")");
            }
            if (state == ConnectivityState.TRANSIENT_FAILURE) {
                channel.resetConnectBackoff();
            }
            Object changed = new Object();
            channel.notifyWhenStateChanged(state, () -> {
                synchronized (changed) {
                    changed.notifyAll();
                }
            });
            synchronized (changed) {
                if (channel.getState(false) == state) {
                    try {
                        changed.wait(Math.max(1, Math.min(50, (until - System.nanoTime()) / 1_000_000)));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new Unreachable("interrupted");
                    }
                }
            }
            state = channel.getState(true);
        }
    }

    /** One kernel's welcome and ready: the lease, page size and object size the cases use. */
    private static void discover(PagerProbe.Run run, Duration timeout) {
        try (PagerProbe probe = new PagerProbe(run, "discover", System.nanoTime() + timeout.toNanos(), timeout)) {
            probe.kernel("k");
            long pages = Math.max(1, run.objectSize / Math.max(1, run.pageSize));
            run.nextPage.set(ThreadLocalRandom.current().nextLong(pages));
        } catch (RuntimeException e) {
            // every case will say what is wrong (the object is not served, no welcome comes...)
        }
    }

    /**
     * Runs a case; again, at most {@link #MAX_RUNS} times in all, while it failed or broke (not by
     * its timeout: its body may still act on the target) and the target ended, with the lease's
     * death (spec 4.5), the stream of one of its kernels that kept alive and that the kit itself
     * let go over half a lease without sending anything ({@link FakeKernel#lostSendGapMillis}: the
     * kit stalled, a loaded machine), so the target may rightly have declared that kernel dead and
     * the case's result says nothing against the rule it checks. Only the kit's own sends count:
     * a target that leaves keepalives unanswered and drops a kernel that kept sending keeps its
     * FAIL. The result of the last run counts; it keeps each earlier run's outcome and message
     * ({@link CaseResult#earlierRuns}), and a note says why the case ran again. A case skipped
     * because its reclaim was refused too long after the restart to tell ({@link
     * PagerProbe#lateReclaimMillis}) runs again the same way.
     */
    private static CaseResult runOne(PagerProbe.Run run, ConformCase<PagerProbe> c, Options options,
            CaseExecutor executor) {
        if (c.needsRestart() && options.restarter() == null) {
            return new CaseResult(c, CaseResult.Outcome.SKIP, "needs the target restarted: give --restart-cmd", 0);
        }
        List<CaseResult> stalls = new ArrayList<>();
        long first = System.nanoTime();
        while (true) {
            long started = System.nanoTime();
            long budget = options.caseTimeout().toNanos() + (c.waitsLeases() ? 3 * run.leaseMillis * 1_000_000 : 0);
            // a run again names its kernels anew: the earlier run's may hold their names for a lease
            String id = stalls.isEmpty() ? c.id() : c.id() + "-run" + (stalls.size() + 1);
            PagerProbe probe = new PagerProbe(run, id, started + budget, options.connectTimeout());
            // a restart (its command, the target's start) comes on top of the case's own budget
            CaseResult r = executor.run(c, probe, started, budget,
                    TimeUnit.SECONDS.toNanos(c.needsRestart() ? 120 : 5));
            long gap = probe.lostSendGapMillis();
            boolean kitStalled = run.leaseMillis > 0 && gap > run.leaseMillis / 2;
            boolean timedOut = r.outcome() == CaseResult.Outcome.ERROR && CaseExecutor.TIMED_OUT.equals(r.message());
            // a reclaim refused when the restart's grace period may have ended: the SKIP says nothing
            boolean lateReclaim = r.outcome() == CaseResult.Outcome.SKIP && probe.lateReclaimMillis() >= 0;
            boolean stalledFailure = r.outcome() != CaseResult.Outcome.PASS && r.outcome() != CaseResult.Outcome.SKIP
                    && !timedOut && kitStalled;
            if (!(lateReclaim || stalledFailure) || stalls.size() + 1 >= MAX_RUNS) {
                String note = stalls.isEmpty() ? "" : "(the case ran " + (stalls.size() + 1) + " times"
                        + (r.outcome() == CaseResult.Outcome.PASS ? ", passed on a rerun" : "") + ": "
                        + (stalls.stream().allMatch(e -> e.outcome() == CaseResult.Outcome.SKIP)
                                ? "the earlier runs' reclaims came too late after the restart to tell"
                                : "the kit stalled under the earlier runs")
                        + ", lease " + run.leaseMillis + " ms; "
                        + String.join("; ", stalls.stream().map(e -> e.outcome() + ": " + e.message()).toList()) + ")";
                String message = r.message().isEmpty() ? note : note.isEmpty() ? r.message() : r.message() + " " + note;
                return new CaseResult(c, r.outcome(), message, (System.nanoTime() - first) / 1_000_000, stalls);
            }
            stalls.add(new CaseResult(c, r.outcome(), r.message() + " [run " + (stalls.size() + 1) + (lateReclaim
                    ? ": refused or answered " + probe.lateReclaimMillis() + " ms after the restart began, when its "
                            + "grace period may have been over]"
                    : ": the kit sent nothing for " + gap + " ms on a kernel the target then declared dead, its lease "
                            + "unconfirmed for " + probe.lostUnconfirmedMillis() + " ms, lease " + run.leaseMillis
                            + " ms]"), r.millis()));
        }
    }

    /** How many times a case runs at most when the kit stalls under it (see {@link #runOne}). */
    static final int MAX_RUNS = 3;
}
