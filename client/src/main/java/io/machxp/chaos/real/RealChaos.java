package io.machxp.chaos.real;

import io.machxp.chaos.History;
import io.machxp.chaos.HistoryChecker;
import io.machxp.chaos.Starvation;
import io.machxp.cluster.CloseAtExit;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * machxp chaos --real: a pager and three kernels as separate JVMs, each in a network namespace of
 * its own ({@link Netns}, {@link RealCluster}), client workers on every kernel recording a history
 * ({@link Worker}, {@link Recorder}), and faults every few seconds ({@link Faults}): link cuts
 * shorter and longer than the lease, SIGSTOP pauses longer than the lease, SIGKILL and restarts
 * of kernels and of the pager (on its store). After the last fault a quiet period of three leases;
 * then the workers stop and the {@link HistoryChecker} of the simulated chaos judges the history.
 *
 * <p>Exit codes: 0 no violation; 2 a violation; 4 not supported here (not root, no ip), 1 instead
 * when CI=true; 1 when the run itself could not be set up. Namespaces and processes are removed at
 * the end, also on Ctrl-C (a close at exit, bounded as the others: the processes are SIGKILLed first,
 * then the namespaces deleted).
 */
public final class RealChaos {
    static final String OBJECT = "chaos";
    private static final List<String> KERNELS = List.of("A", "B", "C");

    /** What a run is given. */
    public record Options(Duration duration, long leaseMillis, int futexes, int workersPerKernel,
            long faultGapMillis, long seed, int replicas, long electionTimeoutMillis) {}

    private RealChaos() {}

    /** Runs it and prints the report; returns the exit code. */
    public static int run(Options o, PrintWriter out) {
        String missing = Netns.unsupported();
        if (missing != null) {
            out.println(missing + ".");
            out.flush();
            return "true".equals(System.getenv("CI")) ? 1 : 4;
        }
        Path dir;
        try {
            dir = Files.createTempDirectory("machxp-chaos-real-");
        } catch (IOException e) {
            out.println("machxp chaos --real: cannot make a working directory: " + e.getMessage());
            return 1;
        }
        StallMonitor stalls;
        try {
            List<String> processes = new ArrayList<>(RealCluster.pagerProcessNames(o.replicas()));
            processes.addAll(KERNELS);
            stalls = new StallMonitor(dir, processes);
        } catch (IOException e) {
            out.println("machxp chaos --real: cannot make the stall probes' files: " + e.getMessage());
            return 1;
        }
        Netns net = new Netns();
        RealCluster cluster = new RealCluster(net, stalls, dir, o.leaseMillis(), o.futexes(), KERNELS, o.replicas(),
                o.electionTimeoutMillis());
        AtomicBoolean stop = new AtomicBoolean();
        // at exit (Ctrl-C, SIGTERM), within CloseAtExit's bound: the processes SIGKILLed first (at once,
        // whatever the main thread holds), the namespaces deleted right after, then the processes
        // waited for (RealCluster.close)
        CloseAtExit cleanup = CloseAtExit.register("chaos --real's processes and network namespaces", () -> {
            stop.set(true);
            cluster.close();
        }, CloseAtExit.DEFAULT_BOUND);
        List<Thread> workers = new ArrayList<>();
        try {
            out.printf(Locale.ROOT, "machxp chaos --real: %s and kernels %s in network namespaces, lease %d ms, %d futexes, "
                    + "%d workers per kernel, for %s; logs in %s%n", o.replicas() == 1 ? "pager"
                    : "pager replicas " + cluster.pagerIds() + " (Raft, election timeout " + (o.electionTimeoutMillis() == 0
                    ? "Ratis's default, 150-300 ms)" : o.electionTimeoutMillis() + "-" + 2 * o.electionTimeoutMillis()
                    + " ms)"), KERNELS,
                    o.leaseMillis(), o.futexes(),
                    o.workersPerKernel(), o.duration(), dir);
            out.flush();
            cluster.start();
            Recorder recorder = new Recorder(o.futexes(), KERNELS, o.leaseMillis());
            for (String k : KERNELS) {
                for (int w = 0; w < o.workersPerKernel(); w++) {
                    Thread t = new Thread(new Worker(k, w, cluster.kernelTarget(k), recorder, o.futexes(), stop::get,
                            o.seed() * 31 + workers.size()), "worker " + k + w);
                    t.start();
                    workers.add(t);
                }
            }
            Faults faults = new Faults(cluster, recorder, o.leaseMillis(), o.seed());
            long quiet = 3 * o.leaseMillis();
            long end = System.nanoTime() + o.duration().toNanos();
            java.util.SplittableRandom gaps = new java.util.SplittableRandom(o.seed() + 1);
            while (System.nanoTime() + (quiet + 3 * o.leaseMillis()) * 1_000_000 < end) {
                Thread.sleep(o.faultGapMillis() / 2 + gaps.nextLong(o.faultGapMillis() + 1));
                faults.inject();
                Faults.Fault f = faults.injected.get(faults.injected.size() - 1);
                out.printf(Locale.ROOT, "  %7.1f s  %-13s %-9s back in service after %s ms%s%n", f.atMillis() / 1000.0,
                        f.kind(), f.target(), f.backInServiceMillis(), f.failoverMillis() < 0 ? ""
                                : "; the pager granted again " + f.failoverMillis() + " ms after the fault");
                out.flush();
            }
            Thread.sleep(Math.max(quiet, (end - System.nanoTime()) / 1_000_000));
            stop.set(true);
            for (Thread t : workers) {
                t.join(30_000);
            }
            Map<String, List<String>> pagerLogs = new java.util.LinkedHashMap<>();
            cluster.pagerLogs().forEach((id, log) -> pagerLogs.put(id, LeaseLog.lines(log)));
            Map<String, List<String>> kernelLogs = new java.util.LinkedHashMap<>();
            KERNELS.forEach(k -> kernelLogs.put(k, LeaseLog.lines(cluster.kernelLog(k))));
            List<LeaseLog.Event> leases = LeaseLog.events(pagerLogs, kernelLogs,
                    LeaseLog.clock(recorder.startedMillis(), java.time.ZoneId.systemDefault()));
            return report(out, recorder, faults, stalls, o, dir, cluster.claims(), leases);
        } catch (IOException e) {
            out.println("machxp chaos --real: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.println("machxp chaos --real: interrupted");
            return 1;
        } finally {
            stop.set(true);
            cluster.close(); // and the namespaces
            stalls.close();
            cleanup.close();
            out.flush();
        }
    }

    /**
     * The name a stall enters the history under: a replica's stalls count as the pager's (for every
     * kernel, {@link Starvation}) while it leads, by the claims read so far; a follower's are
     * reported but do not count (the leader and the other follower commit without it).
     */
    private static String asPager(StallProbe.Stall s, List<RealCluster.Claim> claims) {
        String prefix = RealCluster.PAGER + "-";
        if (!s.process().startsWith(prefix)) {
            return s.process();
        }
        String leader = null;
        long term = -1;
        for (RealCluster.Claim c : claims) {
            if (c.at() <= s.start() && c.term() >= term) {
                term = c.term();
                leader = c.replica();
            }
        }
        return s.process().equals(prefix + leader) ? RealCluster.PAGER : s.process();
    }

    private static int report(PrintWriter out, Recorder recorder, Faults faults, StallMonitor stalls, Options o,
            Path dir, List<RealCluster.Claim> claims, List<LeaseLog.Event> leases) {
        List<StallProbe.Stall> seen = stalls.stalls();
        History history = LeaseLog.merged(recorder.history(seen, s -> asPager(s, claims)), leases);
        long leaseNanos = o.leaseMillis() * 1_000_000;
        HistoryChecker.Verdict verdict = HistoryChecker.check(history, leaseNanos);
        List<String> violations = new java.util.ArrayList<>(verdict.violations());
        violations.addAll(verdict.stuck());
        Map<String, Long> entries = new TreeMap<>();
        history.entries().forEach(e -> entries.merge(e.kind().name(), 1L, Long::sum));
        long stale = violations.stream().filter(v -> v.contains("two owners") || v.contains("fencing token")).count();
        long lost = violations.stream().filter(v -> v.contains("a write was lost")).count();
        out.printf(Locale.ROOT, "machxp chaos --real: %d faults, %d acquisitions (%d told OWNER_DIED), %d history entries%n",
                faults.injected.size(), entries.getOrDefault("ACQUIRE", 0L),
                history.entries().stream().filter(e -> e.kind() == History.Kind.ACQUIRE && e.flag()).count(),
                history.entries().size());
        Map<Faults.Kind, List<Long>> back = new TreeMap<>();
        long notBack = 0;
        for (Faults.Fault f : faults.injected) {
            for (long ms : f.backInServiceMillis()) {
                if (ms < 0) {
                    notBack++;
                } else {
                    back.computeIfAbsent(f.kind(), x -> new ArrayList<>()).add(ms);
                }
            }
        }
        out.println("  time back in service after each fault (ms from its end; min / median / max, count):");
        back.forEach((kind, ms) -> {
            ms.sort(null);
            out.printf(Locale.ROOT, "    %-9s %6d / %6d / %6d  (%d)%n", kind, ms.get(0), ms.get(ms.size() / 2), ms.get(ms.size() - 1),
                    ms.size());
        });
        out.printf(Locale.ROOT, "  kernels not back in service within 30 s of a fault: %d%n", notBack);
        List<Long> failovers = new ArrayList<>(faults.injected.stream().filter(f -> f.failoverMillis() >= 0)
                .map(Faults.Fault::failoverMillis).sorted().toList());
        if (!failovers.isEmpty()) {
            out.printf(Locale.ROOT, "  the pager granted again after a fault on its leader (ms from the fault): %s%n", failovers);
        }
        StallReport.print(out, seen, stalls.missed(), new Starvation(leaseNanos).episodes(history.entries(),
                KERNELS));
        out.println("  errors seen by the workers, by kind: " + recorder.errors());
        List<String> declared = leases.stream().filter(e -> e.kind() == History.Kind.DECLARED)
                .map(e -> String.format(Locale.ROOT, "%s at %.1f s", e.thread(), e.time() / 1e9)).toList();
        out.printf(Locale.ROOT, "  kernels the pager declared dead (its log; each must have stopped first, by its own): %d %s%n",
                declared.size(), declared);
        out.printf(Locale.ROOT, "  violations: %d (stale grants: %d, writes lost without OWNER_DIED: %d)%n", violations.size(), stale,
                lost);
        violations.forEach(v -> out.println("    " + v));
        try {
            Files.write(dir.resolve("history.txt"), history.entries().stream().map(Object::toString).toList());
        } catch (IOException e) {
            out.println("  (the history could not be written: " + e.getMessage() + ")");
        }
        out.println("  logs and history.txt: " + dir);
        boolean passed = violations.isEmpty() && notBack == 0;
        return passed ? 0 : 2;
    }
}
