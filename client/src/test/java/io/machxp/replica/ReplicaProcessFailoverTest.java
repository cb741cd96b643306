package io.machxp.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.cluster.MachxpProcess;
import io.machxp.kernel.KernelConfig;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmLockFutexReply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replicated pager as three processes ({@code machxp pager --replicas ... --replica X}, each
 * with its Raft log in a store of its own, Ratis's default election timeouts), two kernels in this
 * JVM, four threads incrementing a counter in a shared page under one futex. After a third of the
 * increments the leading replica's process is killed with SIGKILL; once the pager grants again,
 * it is started again on its store. After two thirds the leader of then is killed too: the group
 * can serve only if the restarted replica rejoined with its log.
 *
 * <p>Asserted: after each kill the pager grants a lock call made after it, and another replica
 * leads; in the end every increment is in the page (nothing acknowledged was lost) and no two
 * threads were ever inside at once. Every wait is on a condition with a generous deadline (a
 * process test must pass on a loaded 2-core machine); a worker whose call fails ends the wait at
 * once with its error. The time from each kill to the first grant after it is printed, never
 * asserted: it is the failover figure ({@code machxp chaos --real --replicas 3} prints it too).
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class ReplicaProcessFailoverTest {
    private static final Pattern LEADS = Pattern.compile("replica (\\w+) leads its group now \\(term (\\d+)\\)");
    private static final int KERNELS = 2;
    private static final int THREADS = 2;
    private static final int OPS = 150;
    private static final long COUNTER = 8;
    /** Long: a loaded CI machine may stall a JVM for seconds; the failover must not cost a lease. */
    private static final long LEASE_MILLIS = 20_000;
    /** A group of three fresh JVMs on a loaded machine may take a while to settle on a leader. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(120);
    /** Deadlines, not figures: each phase of the workload, a leader's claim, a grant after a kill. */
    private static final Duration PHASE = Duration.ofMinutes(4);
    private static final Duration CLAIM = Duration.ofMinutes(3);
    private static final Duration GRANT_AFTER_KILL = Duration.ofMinutes(2);

    @TempDir
    Path store;
    private final Map<String, MachxpProcess> replicas = new LinkedHashMap<>();

    /** A claim to lead read from a replica's log. */
    private record Claim(String replica, long term) {}

    /** The pager's first grant of a lock call begun after {@code since} (nanoTime). */
    private record GrantWatch(long since, CompletableFuture<Long> at) {}

    private String group;
    /** The current group's stores, one directory per replica. */
    private Path stores;

    @AfterEach
    void stop() throws InterruptedException {
        MachxpProcess.closeAll(replicas.values().toArray(MachxpProcess[]::new));
    }

    @Test
    void killingTheLeaderProcessUnderLoadLosesNothingAndGrantsResume() throws Exception {
        Map<String, String> addresses = startGroup();
        awaitClaim(-1); // a leader, before the kernels ask for one
        String target = String.join("+", addresses.values());

        ExecutorService pool = Executors.newCachedThreadPool();
        try (FailoverKernels kernels = new FailoverKernels(KERNELS, name -> new KernelConfig(name, target, "127.0.0.1",
                0, CONNECT_TIMEOUT, io.machxp.kernel.core.CoreOptions.DEFAULT))) {
            List<TaskClient> tasks = kernels.tasks;
            List<Long> bases = kernels.bases;
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            AtomicReference<GrantWatch> watch = new AtomicReference<>(new GrantWatch(Long.MAX_VALUE, null));
            CountDownLatch thirdDone = new CountDownLatch(1);
            CountDownLatch twoThirdsDone = new CountDownLatch(1);
            CompletableFuture<Void> failed = new CompletableFuture<>();
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            // One more thread per kernel, the probe, locks after each kill, the kernels' probes in
            // turn until the pager grants one call begun after the kill. The workers alone may never
            // need one: a kernel whose threads keep the futex among themselves needs no grant, and
            // the grant that moves the futex may answer a call begun before the kill (one that
            // waited at the old leader), after which the kernel keeps it. Probes in turn on both
            // kernels move the futex each time, and only the few calls in flight at the kill began
            // before it.
            List<Supplier<CompletableFuture<Void>>> probes = new ArrayList<>();
            for (int k = 0; k < KERNELS; k++) {
                TaskClient task = tasks.get(k);
                long base = bases.get(k);
                ThreadClient probe = task.threadCreate();
                probes.add(() -> CompletableFuture.runAsync(() -> {
                    long began = System.nanoTime();
                    VmLockFutexReply got = probe.lock(base, null);
                    GrantWatch w = watch.get();
                    if (got.getPath() == AcquirePath.PAGER_GRANT && began > w.since()) {
                        w.at().complete(System.nanoTime());
                    }
                    if (inside.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    inside.decrementAndGet();
                    probe.unlockFutex(base);
                }, pool).whenComplete((ok, e) -> {
                    if (e != null) {
                        failed.completeExceptionally(e);
                    }
                }));
            }
            for (int k = 0; k < KERNELS; k++) {
                TaskClient task = tasks.get(k);
                long base = bases.get(k);
                for (int t = 0; t < THREADS; t++) {
                    ThreadClient thread = task.threadCreate();
                    workers.add(CompletableFuture.runAsync(() -> {
                        for (int i = 0; i < OPS; i++) {
                            long began = System.nanoTime();
                            VmLockFutexReply got = thread.lock(base, null);
                            GrantWatch w = watch.get();
                            if (got.getPath() == AcquirePath.PAGER_GRANT && began > w.since()) {
                                w.at().complete(System.nanoTime());
                            }
                            if (inside.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            task.writeLong(base + COUNTER, task.readLong(base + COUNTER) + 1);
                            inside.decrementAndGet();
                            thread.unlockFutex(base);
                            int n = done.incrementAndGet();
                            if (n == KERNELS * THREADS * OPS / 3) {
                                thirdDone.countDown();
                            } else if (n == 2 * KERNELS * THREADS * OPS / 3) {
                                twoThirdsDone.countDown();
                            }
                        }
                    }, pool).whenComplete((ok, e) -> {
                        if (e != null) {
                            failed.completeExceptionally(e);
                        }
                    }));
                }
            }
            awaitPhase(thirdDone, failed, "a third of the increments");
            Claim first = awaitClaim(-1);
            long failover1 = killLeader(first, watch, done, probes, failed);
            // Read before the killed replica is back: once it is, it may lead again in a later term.
            Claim second = awaitClaim(first.term());
            assertThat(second.replica()).as("another replica leads after the kill").isNotEqualTo(first.replica());
            startReplica(first.replica()).port();

            awaitPhase(twoThirdsDone, failed, "two thirds of the increments");
            second = awaitClaim(-1);
            long failover2 = killLeader(second, watch, done, probes, failed);

            CompletableFuture.anyOf(CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)), failed)
                    .get(PHASE.toSeconds(), TimeUnit.SECONDS);
            Claim third = awaitClaim(second.term());
            assertThat(third.replica()).as("another replica leads after the second kill")
                    .isNotEqualTo(second.replica());
            assertThat(overlaps.get()).as("threads inside at once").isZero();
            for (int k = 0; k < KERNELS; k++) {
                assertThat(tasks.get(k).readLong(bases.get(k) + COUNTER)).as("increments in the page")
                        .isEqualTo((long) KERNELS * THREADS * OPS);
            }
            System.out.printf("replicated pager (3 processes, Ratis's default election timeouts) under load: leader %s "
                    + "killed (SIGKILL), the pager granted again %d ms later at leader %s (term %d); %s restarted on "
                    + "its store; leader %s killed, granted again %d ms later at leader %s (term %d)%n",
                    first.replica(), failover1, second.replica(), second.term(), first.replica(), second.replica(),
                    failover2, third.replica(), third.term());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Waits until {@code phase} is done; a worker that failed ends the wait with its error. */
    private static void awaitPhase(CountDownLatch phase, CompletableFuture<Void> failed, String what) {
        Awaitility.await(what).atMost(PHASE).pollInterval(Duration.ofMillis(50))
                .until(() -> phase.getCount() == 0 || failed.isDone());
        assertThat(failed).as("no worker's call failed (%s)", what).isNotDone();
    }

    /**
     * A replica's process on its store. {@code --fresh-start}: the group is new (a restarted
     * replica has the genesis in its log, and the flag no longer counts); without it the first
     * grant of the futex says OWNER_DIED, as after an in-memory pager that may have run before.
     */
    /**
     * The three replicas' processes, listening. A replica whose port another process took before it
     * bound it exits saying so: then all three start again on fresh ports, with fresh stores.
     */
    private Map<String, String> startGroup() throws java.io.IOException {
        return io.machxp.pager.replica.LoopbackGroup.start(3, addresses -> {
            group = String.join(",", addresses.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
            stores = store.resolve("group-" + addresses.get("a").replace(':', '-'));
            for (String id : addresses.keySet()) {
                startReplica(id);
            }
            for (MachxpProcess p : replicas.values()) {
                try {
                    p.port();
                } catch (IllegalStateException e) {
                    if (!p.output().contains("Address already in use")) {
                        throw e;
                    }
                    try {
                        MachxpProcess.closeAll(replicas.values().toArray(MachxpProcess[]::new));
                    } catch (InterruptedException stop) {
                        Thread.currentThread().interrupt();
                    }
                    replicas.clear();
                    throw new io.machxp.pager.replica.ReplicaPortInUse(p.output(), group, e);
                }
            }
            return addresses;
        });
    }

    private MachxpProcess startReplica(String id) throws java.io.IOException {
        MachxpProcess p = MachxpProcess.start("replica " + id, "pager", "--replicas", group, "--replica", id, "--bind",
                "127.0.0.1", "--object", ReplicaGroup.OBJECT + "=16k", "--lease-ms", String.valueOf(LEASE_MILLIS),
                "--store", stores.resolve(id).toString(), "--fresh-start");
        replicas.put(id, p);
        return p;
    }

    /**
     * SIGKILL of the leader's process, then probe locks on the kernels in turn; waits (a generous
     * deadline) until the pager grants a lock call begun after the kill. Returns the milliseconds
     * from the kill to that grant: a figure, printed. A call that fails ends the wait with its error.
     */
    private long killLeader(Claim leader, AtomicReference<GrantWatch> watch, AtomicInteger done,
            List<Supplier<CompletableFuture<Void>>> probes, CompletableFuture<Void> failed)
            throws Exception {
        GrantWatch w = new GrantWatch(System.nanoTime(), new CompletableFuture<>());
        watch.set(w);
        int before = done.get();
        replicas.get(leader.replica()).kill();
        long deadline = w.since() + GRANT_AFTER_KILL.toNanos();
        for (int i = 0; !w.at().isDone() && !failed.isDone() && System.nanoTime() - deadline < 0; i++) {
            CompletableFuture<Void> probe = probes.get(i % probes.size()).get(); // the next kernel's, once it is done
            try {
                CompletableFuture.anyOf(probe, failed).get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                break; // the deadline, or a failed call: reported below
            }
        }
        assertThat(failed).as("no call failed after replica %s was killed", leader.replica()).isNotDone();
        if (!w.at().isDone()) {
            throw new AssertionError("no pager grant of a lock call begun after replica " + leader.replica()
                    + " (term " + leader.term() + ") was killed, within " + GRANT_AFTER_KILL + "; increments done "
                    + before + " at the kill, " + done.get() + " now; the replicas' last lines:\n" + lastLines());
        }
        return (w.at().get() - w.since()) / 1_000_000;
    }

    /** The last lines of each replica's output, for a failure's message. */
    private String lastLines() {
        StringBuilder b = new StringBuilder();
        replicas.forEach((id, p) -> {
            List<String> lines = p.output().lines().filter(l -> !l.startsWith("\t") && !l.startsWith("Caused by"))
                    .toList();
            b.append("--- replica ").append(id).append('\n')
                    .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()))).append('\n');
        });
        return b.toString();
    }

    /** The claim to lead of the highest term above {@code after}, once one has been logged. */
    private Claim awaitClaim(long after) {
        return Awaitility.await("a replica's claim to lead in a term above " + after).atMost(CLAIM).pollInterval(Duration.ofMillis(20))
                .until(() -> latestClaim(after), Optional::isPresent).orElseThrow();
    }

    private Optional<Claim> latestClaim(long after) {
        Claim best = null;
        for (MachxpProcess p : replicas.values()) {
            Matcher m = LEADS.matcher(p.output());
            while (m.find()) {
                long term = Long.parseLong(m.group(2));
                if (term > after && (best == null || term > best.term())) {
                    best = new Claim(m.group(1), term);
                }
            }
        }
        return Optional.ofNullable(best);
    }
}
