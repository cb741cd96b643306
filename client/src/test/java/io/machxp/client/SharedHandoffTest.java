package io.machxp.client;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.core.KernelStats;
import io.machxp.proto.task.AcquirePath;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Strict alternation between task processes' threads on two kernels, each holding the futex
 * through the shared-memory fast path when the other kernel asks for it (docs/shared-memory.md):
 * the relinquish marks WAITERS in the shared state, so the holder's unlock cannot complete in its
 * own process and reaches its kernel, which releases the futex in that same call. The handoff is
 * driven by the unlock alone: by the time the unlock call returns, the futex has left (no later
 * check, poll or timer is needed to notice that a task unlocked it in shared memory).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedHandoffTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final long FUTEX = 128;
    private final ClusterFixture c;

    SharedHandoffTest() throws Exception {
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void anUnlockInSharedMemoryThatFindsAKernelWaitingHandsTheFutexOverInTheSameCall() throws Exception {
        ThreadClient[] threads = {c.thread(0), c.thread(1)};
        assertThat(c.tasks.get(0).sharesMemory()).isTrue();
        assertThat(c.tasks.get(1).sharesMemory()).isTrue();
        assertThat(threads[0].lockFutex(c.base[0] + FUTEX)).isEqualTo(AcquirePath.PAGER_GRANT);
        threads[0].unlockFutex(c.base[0] + FUTEX);

        for (int round = 0; round < 10; round++) {
            int holder = round % 2;
            int other = 1 - holder;
            ThreadClient owner = threads[holder];
            assertThat(owner.lockFutex(c.base[holder] + FUTEX)).as("round %d: cached here", round)
                    .isEqualTo(AcquirePath.FAST_PATH);
            KernelStats holderStats = c.kernel(holder).stats();
            long relinquished = holderStats.received(MEMORY_OBJECT_RELINQUISH_FUTEX);
            long released = holderStats.sent(MEMORY_OBJECT_FUTEX_RELEASED);

            CompletableFuture<AcquirePath> waiter = CompletableFuture.supplyAsync(
                    () -> threads[other].lockFutex(c.base[other] + FUTEX), c.pool);
            await().atMost(WAIT).until(() -> holderStats.received(MEMORY_OBJECT_RELINQUISH_FUTEX) == relinquished + 1);
            assertThat(holderStats.sent(MEMORY_OBJECT_FUTEX_RELEASED)).as("not while the task holds it")
                    .isEqualTo(released);
            assertThat(waiter).isNotDone();

            owner.unlockFutex(c.base[holder] + FUTEX);
            assertThat(holderStats.sent(MEMORY_OBJECT_FUTEX_RELEASED))
                    .as("round %d: released by the unlock call itself", round).isEqualTo(released + 1);
            assertThat(waiter.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(AcquirePath.PAGER_GRANT);
            threads[other].unlockFutex(c.base[other] + FUTEX);
            assertThat(c.cluster.pager().holderOf(ClusterFixture.OBJECT, FUTEX)).isEqualTo(other == 0 ? "A" : "B");
        }
    }

    @Test
    void aFutexHandedOverBetweenKernelsComesWithItsPageMappedToTheNewOwnersProcess() throws Exception {
        ThreadClient[] threads = {c.thread(0), c.thread(1)};
        long counter = FUTEX + 8;
        for (int round = 0; round < 6; round++) {
            int me = round % 2;
            TaskClient task = c.tasks.get(me);
            KernelClient client = c.clients.get(me);
            assertThat(threads[me].lockFutex(c.base[me] + FUTEX)).as("round %d: from the other kernel", round)
                    .isEqualTo(AcquirePath.PAGER_GRANT);
            long calls = client.callsMade();
            long shared = task.sharedAccesses();
            task.writeLong(c.base[me] + counter, task.readLong(c.base[me] + counter) + 1);
            assertThat(client.callsMade()).as("round %d: no page fault after the grant", round).isEqualTo(calls);
            assertThat(task.sharedAccesses()).as("round %d: read and write in shared memory", round)
                    .isEqualTo(shared + 2);
            threads[me].unlockFutex(c.base[me] + FUTEX);
        }
        assertThat(c.tasks.get(0).readLong(c.base[0] + counter)).isEqualTo(6);
    }
}
