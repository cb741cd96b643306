package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmLockFutexReply;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A kernel dies holding a futex, over real gRPC: the pager waits out its lease (the kernel might
 * still be working behind a broken connection), then hands the futex to the kernel that waits
 * for it with OWNER_DIED and a higher fencing token; the writes the dead kernel never returned
 * are lost, which is what OWNER_DIED tells the next owner.
 */
class KernelDeathOverGrpcTest {
    private final ClusterFixture c = new ClusterFixture(2);

    KernelDeathOverGrpcTest() throws java.io.IOException {}

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void aCrashedKernelsFutexGoesToTheNextWaiterWithOwnerDiedAndAHigherToken() {
        ThreadClient holder = c.thread(0);
        VmLockFutexReply first = holder.lock(c.base[0], null);
        assertThat(first.getFencingToken()).isPositive();
        c.tasks.get(0).writeLong(c.base[0] + 8, 99); // under the futex, never returned to the pager

        ThreadClient next = c.thread(1);
        CompletableFuture<VmLockFutexReply> waiting = CompletableFuture.supplyAsync(
                () -> next.lock(c.base[1], null), c.pool);
        await().until(() -> c.localWaiters(1, 0) == 1);

        c.kernel(0).crash();

        VmLockFutexReply got = waiting.orTimeout(60, TimeUnit.SECONDS).join();
        assertThat(got.getOwnerDied()).isTrue();
        assertThat(got.getPath()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(got.getFencingToken()).isGreaterThan(first.getFencingToken());
        assertThat(c.tasks.get(1).readLong(c.base[1] + 8)).as("the dead kernel's write is lost").isZero();
        assertThat(c.cluster.pager().stats().kernelsDeclaredDead()).isEqualTo(1);

        next.markConsistent(c.base[1]);
        next.unlockFutex(c.base[1]);
        VmLockFutexReply again = c.thread(1).lock(c.base[1], Duration.ofSeconds(30));
        assertThat(again.getOwnerDied()).as("repaired: an ordinary lock").isFalse();
        assertThatThrownBy(() -> holder.unlockFutex(c.base[0])).as("the crashed kernel answers nobody")
                .isInstanceOf(MachxpException.class);
    }
}
