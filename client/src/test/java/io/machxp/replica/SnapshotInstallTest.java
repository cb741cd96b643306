package io.machxp.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.replica.ReplicatedPager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Snapshots bound the Raft log, and a replica that lost its log gets the leader's snapshot: three
 * replicas take a snapshot every {@value #SNAPSHOT_EVERY} entries while threads on two kernels
 * increment a counter in a shared page under one futex. Under that load:
 * <ol>
 * <li>the leader takes several snapshots and purges its log up to them;
 * <li>a follower is closed and started again with an empty log: it can only catch up by
 *     installing the leader's snapshot, and it does;
 * <li>the leader is closed; the restarted replica is made the leader (its state is the one that
 *     serves from then on), and grants go on.
 * </ol>
 * Then every increment must be in the page and no two threads were ever inside at once. Every
 * step waits on a condition, with a generous deadline.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SnapshotInstallTest {
    private static final long SNAPSHOT_EVERY = 40;
    private static final int KERNELS = 2;
    private static final int THREADS = 2;
    private static final long FUTEX = 0;
    private static final long COUNTER = 8;
    /** Generous: failovers on a loaded machine must end within what is left of the kernels' leases. */
    private static final Duration LEASE = Duration.ofSeconds(20);
    private static final Duration PATIENCE = Duration.ofSeconds(120);

    @Test
    void aRestartedReplicaInstallsTheSnapshotAndLeadsWithNothingLost() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        List<Kernel> kernels = new ArrayList<>();
        List<KernelClient> clients = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        try (ReplicaGroup group = new ReplicaGroup(3, Map.of(ReplicaGroup.OBJECT, ReplicaGroup.OBJECT_SIZE), LEASE,
                SNAPSHOT_EVERY)) {
            ReplicatedPager leader = group.awaitLeader();
            List<TaskClient> tasks = new ArrayList<>();
            List<Long> bases = new ArrayList<>();
            for (int k = 0; k < KERNELS; k++) {
                Kernel kernel = Kernel.start(KernelConfig.loopback("k" + k, group.kernelTarget()));
                kernels.add(kernel);
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port());
                clients.add(client);
                TaskClient task = client.taskCreate("snapshots");
                tasks.add(task);
                bases.add(task.vmMap(ReplicaGroup.OBJECT));
            }
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger violations = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int k = 0; k < KERNELS; k++) {
                TaskClient task = tasks.get(k);
                long base = bases.get(k);
                for (int t = 0; t < THREADS; t++) {
                    ThreadClient thread = task.threadCreate();
                    workers.add(CompletableFuture.runAsync(() -> {
                        while (!stop.get()) {
                            thread.lockFutex(base + FUTEX);
                            if (inside.incrementAndGet() != 1) {
                                violations.incrementAndGet();
                            }
                            task.writeLong(base + COUNTER, task.readLong(base + COUNTER) + 1);
                            inside.decrementAndGet();
                            thread.unlockFutex(base + FUTEX);
                            done.incrementAndGet();
                        }
                    }, pool));
                }
            }

            ReplicatedPager first = leader;
            await("the leader took several snapshots and purged its log up to them", () ->
                    status(first).latestSnapshot() >= 3 * SNAPSHOT_EVERY && status(first).logStart() > 0);

            ReplicatedPager follower = group.replicas.stream().filter(r -> r != first).findFirst().orElseThrow();
            follower.close();
            long purgedBeforeRestart = status(first).logStart();
            ReplicatedPager restarted = group.restart(follower);
            await("the restarted replica installed the leader's snapshot and caught up", () ->
                    status(restarted).installed() > 0 && status(restarted).applied() >= purgedBeforeRestart
                            && status(restarted).applied() >= status(first).applied() - 2 * SNAPSHOT_EVERY);
            assertThat(status(restarted).latestSnapshot()).as("its log starts after the snapshot it installed")
                    .isGreaterThanOrEqualTo(purgedBeforeRestart - 1);

            int beforeKill = done.get();
            first.close();
            ReplicatedPager second = group.awaitLeader();
            if (second != restarted) {
                second.transferLeadership(restarted.id(), Duration.ofSeconds(30));
            }
            await("the restarted replica leads", () -> group.awaitLeader() == restarted);
            int atLead = done.get();
            await("grants go on at the restarted replica", () -> done.get() >= atLead + 50);
            stop.set(true);
            CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(150, TimeUnit.SECONDS);

            assertThat(beforeKill).as("increments before the leader was closed").isPositive();
            assertThat(violations.get()).as("threads inside at once").isZero();
            assertThat(tasks.get(0).readLong(bases.get(0) + COUNTER)).as("increments in the page")
                    .isEqualTo((long) done.get());
            assertThat(tasks.get(1).readLong(bases.get(1) + COUNTER)).isEqualTo((long) done.get());
            System.out.printf("replicated pager: %d increments; replica %s restarted empty, installed a snapshot, "
                    + "and led after leader %s was closed; its log: %s%n", done.get(), restarted.id(), first.id(),
                    status(restarted));
        } finally {
            stop.set(true);
            clients.forEach(KernelClient::close);
            kernels.forEach(Kernel::close);
            pool.shutdownNow();
        }
    }

    private static ReplicatedPager.LogStatus status(ReplicatedPager r) {
        try {
            return r.logStatus();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(condition::getAsBoolean);
    }
}
