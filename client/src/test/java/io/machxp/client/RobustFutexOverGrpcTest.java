package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.VmLockFutexReply;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Robust futexes over gRPC: a task whose client goes away, or that is terminated, while one of
 * its threads holds a futex; the next owner is on another kernel and is told.
 */
class RobustFutexOverGrpcTest {
    private final ClusterFixture c = new ClusterFixture(2);

    RobustFutexOverGrpcTest() throws java.io.IOException {}

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void aClientThatDisconnectsHoldingAFutexPassesItOnWithOwnerDied() {
        KernelClient doomed = KernelClient.connect(c.cluster.kernelTargets().get(0));
        TaskClient task = doomed.taskCreate("doomed");
        task.watch();
        long address = task.vmMap(ClusterFixture.OBJECT);
        ThreadClient holder = task.threadCreate();
        holder.lockFutex(address);

        ThreadClient next = c.thread(1);
        CompletableFuture<VmLockFutexReply> waiting = CompletableFuture.supplyAsync(
                () -> next.lock(c.base[1], null), c.pool);
        await().until(() -> c.localWaiters(1, 0) == 1);

        doomed.close(); // the connection goes, the watch with it

        VmLockFutexReply got = waiting.join();
        assertThat(got.getOwnerDied()).isTrue();
        assertThat(got.getPath()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(c.tasks.get(1).readInt(c.base[1]) & 0x3fffffff).isEqualTo(next.tid());
        next.markConsistent(c.base[1]);
        next.unlockFutex(c.base[1]);
        VmLockFutexReply again = c.thread(0).lock(c.base[0], null);
        assertThat(again.getOwnerDied()).as("repaired: an ordinary lock").isFalse();
    }

    @Test
    void aTerminatedTasksThreadsAreGoneAndItsFutexesPassOn() {
        TaskClient task = c.clients.get(0).taskCreate("short-lived");
        long address = task.vmMap(ClusterFixture.OBJECT);
        ThreadClient holder = task.threadCreate(40);
        holder.lockFutex(address + 64);
        task.terminate();

        assertThatThrownBy(() -> holder.unlockFutex(address + 64))
                .isInstanceOfSatisfying(MachxpException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ESRCH));
        VmLockFutexReply got = c.thread(1).lock(c.base[1] + 64, Duration.ofSeconds(30));
        assertThat(got.getOwnerDied()).isTrue();
    }

    @Test
    void watchingATaskThatDoesNotExistIsEsrch() {
        TaskClient real = c.clients.get(0).taskCreate("real");
        real.terminate();
        assertThatThrownBy(real::watch)
                .isInstanceOfSatisfying(MachxpException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ESRCH));
    }
}
