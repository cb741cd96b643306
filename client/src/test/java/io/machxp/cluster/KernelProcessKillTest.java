package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.threads.OwnThreads;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pager and two kernels as separate JVM processes; kernel A is killed with SIGKILL while one
 * of its threads owns a futex that a thread on kernel B waits for. The pager hears nothing more
 * from A, declares it dead when its lease ends and grants the futex to B with OWNER_DIED.
 */
class KernelProcessKillTest {
    private static final long LEASE_MILLIS = 5000;
    private MachxpProcess pager;
    private MachxpProcess kernelA;
    private MachxpProcess kernelB;

    @AfterEach
    void stop() throws InterruptedException {
        MachxpProcess.closeAll(kernelA, kernelB, pager);
    }

    @Test
    void aKilledKernelsFutexGoesToTheWaitingKernelWithOwnerDiedWithinTheLease() throws Exception {
        pager = MachxpProcess.start("pager", "pager", "--port", "0", "--object", "obj=16k",
                "--lease-ms", String.valueOf(LEASE_MILLIS));
        String pagerTarget = "127.0.0.1:" + pager.port();
        kernelA = MachxpProcess.start("kernel A", "kernel", "--name", "A", "--pager", pagerTarget, "--port", "0");
        kernelB = MachxpProcess.start("kernel B", "kernel", "--name", "B", "--pager", pagerTarget, "--port", "0");

        try (KernelClient a = KernelClient.connect("127.0.0.1:" + kernelA.port());
                KernelClient b = KernelClient.connect("127.0.0.1:" + kernelB.port())) {
            TaskClient taskA = a.taskCreate("holder");
            long baseA = taskA.vmMap("obj");
            VmLockFutexReply held = taskA.threadCreate().lock(baseA, null);
            taskA.writeLong(baseA + 8, 7); // under the futex; A never gives this page back

            TaskClient taskB = b.taskCreate("waiter");
            long baseB = taskB.vmMap("obj");
            ThreadClient waiter = taskB.threadCreate();
            assertThat(waiter.tryLockFutex(baseB)).as("A holds it").isFalse();
            CompletableFuture<VmLockFutexReply> waiting = OwnThreads.supply("lock-futex", () -> waiter.lock(baseB, null));

            long killed = System.nanoTime();
            kernelA.kill();
            // Liveness: a generous deadline (the pager waits out the lease); the time it took is a
            // figure, printed below, not asserted.
            VmLockFutexReply got = waiting.get(60, TimeUnit.SECONDS);
            long recoveredMillis = (System.nanoTime() - killed) / 1_000_000;

            assertThat(got.getOwnerDied()).isTrue();
            assertThat(got.getPath()).isEqualTo(AcquirePath.PAGER_GRANT);
            assertThat(got.getFencingToken()).isGreaterThan(held.getFencingToken());
            assertThat(taskB.readLong(baseB + 8)).as("A's unreturned write is lost, as OWNER_DIED says").isZero();
            waiter.markConsistent(baseB);
            waiter.unlockFutex(baseB);
            assertThat(taskB.threadCreate().lock(baseB, Duration.ofSeconds(30)).getOwnerDied()).isFalse();
            System.out.printf("kernel A killed: its futex reached B after %d ms (lease %d ms)%n", recoveredMillis,
                    LEASE_MILLIS);
        }
        assertThat(pager.output()).contains("declared kernel A dead");
    }
}
