package io.machxp.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.replica.ReplicatedPager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A replicated pager (three Ratis replicas in this JVM) loses its leader under load: threads on
 * two kernels increment a counter in a shared page under a futex. The leader is closed (its
 * Raft and XP servers stop at once, as in a crash) after a third of the increments. Then every
 * increment must be in the page (no acknowledged page, no grant lost), no two threads were ever
 * inside at once, and grants go on at the new leader. The time from the kill to the next grant
 * is printed: a figure, not an assertion.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LeaderFailoverTest {
    private static final int KERNELS = 2;
    private static final int THREADS = 2;
    private static final int OPS = 150;
    private static final long FUTEX = 0;
    private static final long COUNTER = 8;
    /**
     * Generous: a failover (an election timeout of 1 to 2 s here, and a machine whose JVMs stall
     * for a second under load) must end within what is left of the kernels' leases.
     */
    private static final java.time.Duration LEASE = java.time.Duration.ofSeconds(20);

    @Test
    void killingTheLeaderUnderLoadLosesNothingAndGrantsResume() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        FailoverKernels kernels = null;
        try (ReplicaGroup group = new ReplicaGroup(3, java.util.Map.of(ReplicaGroup.OBJECT, ReplicaGroup.OBJECT_SIZE),
                LEASE)) {
            ReplicatedPager first = group.awaitLeader();
            kernels = new FailoverKernels(KERNELS, name -> KernelConfig.loopback(name, group.kernelTarget()));
            List<TaskClient> tasks = kernels.tasks;
            List<Long> bases = kernels.bases;
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger violations = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            AtomicLong killedAt = new AtomicLong();
            AtomicLong firstGrantAfterKill = new AtomicLong();
            CountDownLatch thirdDone = new CountDownLatch(1);
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int k = 0; k < KERNELS; k++) {
                TaskClient task = tasks.get(k);
                long base = bases.get(k);
                for (int t = 0; t < THREADS; t++) {
                    ThreadClient thread = task.threadCreate();
                    workers.add(CompletableFuture.runAsync(() -> {
                        for (int i = 0; i < OPS; i++) {
                            thread.lockFutex(base + FUTEX);
                            if (killedAt.get() != 0) {
                                firstGrantAfterKill.compareAndSet(0, System.nanoTime());
                            }
                            if (inside.incrementAndGet() != 1) {
                                violations.incrementAndGet();
                            }
                            task.writeLong(base + COUNTER, task.readLong(base + COUNTER) + 1);
                            inside.decrementAndGet();
                            thread.unlockFutex(base + FUTEX);
                            if (done.incrementAndGet() == KERNELS * THREADS * OPS / 3) {
                                thirdDone.countDown();
                            }
                        }
                    }, pool));
                }
            }
            assertThat(thirdDone.await(120, TimeUnit.SECONDS)).as("a third of the increments done").isTrue();
            killedAt.set(System.nanoTime());
            first.close();
            CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(150, TimeUnit.SECONDS);

            ReplicatedPager second = group.awaitLeader();
            assertThat(second).isNotSameAs(first);
            assertThat(violations.get()).as("threads inside at once").isZero();
            assertThat(tasks.get(0).readLong(bases.get(0) + COUNTER)).as("increments in the page")
                    .isEqualTo((long) KERNELS * THREADS * OPS);
            assertThat(tasks.get(1).readLong(bases.get(1) + COUNTER)).isEqualTo((long) KERNELS * THREADS * OPS);
            System.out.printf("replicated pager: leader %s killed under load; first grant after %.0f ms at leader %s%n",
                    first.id(), (firstGrantAfterKill.get() - killedAt.get()) / 1e6, second.id());
        } finally {
            if (kernels != null) {
                kernels.close();
            }
            pool.shutdownNow();
        }
    }
}
