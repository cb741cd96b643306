package io.machxp.client;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.core.KernelStats;
import io.machxp.proto.task.AcquirePath;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Parts III and IV end to end: a pager and kernels on loopback gRPC, clients over gRPC. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FutexCacheOverGrpcTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final ClusterFixture c;

    FutexCacheOverGrpcTest() throws Exception {
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        c.close();
    }

    /** After the first acquisition, local lock/unlock cycles send exactly 0 XP messages. */
    @Test
    void localCyclesAfterTheFirstAcquisitionSendNoXpMessages() {
        ThreadClient t1 = c.thread(0);
        ThreadClient t2 = c.thread(0);
        long futex = c.base[0] + 64;
        assertThat(t1.lockFutex(futex)).isEqualTo(AcquirePath.PAGER_GRANT);
        t1.unlockFutex(futex);
        long kernelSent = c.kernel(0).stats().sentTotal();
        long pagerSeen = c.pagerMessages();

        for (int i = 0; i < 500; i++) {
            ThreadClient t = i % 2 == 0 ? t1 : t2;
            assertThat(t.lockFutex(futex)).isEqualTo(AcquirePath.FAST_PATH);
            t.unlockFutex(futex);
        }

        assertThat(c.kernel(0).stats().sentTotal() - kernelSent).isZero();
        assertThat(c.pagerMessages() - pagerSeen).isZero();
    }

    /** Relinquish of a cached futex nobody holds is answered at once: the other kernel gets it. */
    @Test
    void relinquishOfAFreeCachedFutexIsAnsweredAtOnce() {
        ThreadClient a = c.thread(0);
        ThreadClient b = c.thread(1);
        a.lockFutex(c.base[0]);
        a.unlockFutex(c.base[0]);

        assertThat(b.lockFutex(c.base[1])).isEqualTo(AcquirePath.PAGER_GRANT);

        KernelStats ka = c.kernel(0).stats();
        assertThat(ka.received(MEMORY_OBJECT_RELINQUISH_FUTEX)).isEqualTo(1);
        assertThat(ka.sent(MEMORY_OBJECT_FUTEX_RELEASED)).isEqualTo(1);
        assertThat(c.cluster.pager().holderOf(ClusterFixture.OBJECT, 0)).isEqualTo("B");
        b.unlockFutex(c.base[1]);
    }

    /**
     * Relinquish while a local thread holds the futex is answered only after that thread unlocks,
     * and the futex goes to the remote kernel before the local waiter, which gets it afterwards.
     */
    @Test
    void relinquishWhileHeldWaitsForTheUnlockAndTheRemoteKernelGoesFirst() throws Exception {
        ThreadClient a1 = c.thread(0);
        ThreadClient a2 = c.thread(0);
        ThreadClient b1 = c.thread(1);
        assertThat(a1.lockFutex(c.base[0])).isEqualTo(AcquirePath.PAGER_GRANT);

        CompletableFuture<AcquirePath> remote = CompletableFuture.supplyAsync(() -> b1.lockFutex(c.base[1]), c.pool);
        KernelStats ka = c.kernel(0).stats();
        await().atMost(WAIT).until(() -> ka.received(MEMORY_OBJECT_RELINQUISH_FUTEX) == 1);
        CompletableFuture<AcquirePath> local = CompletableFuture.supplyAsync(() -> a2.lockFutex(c.base[0]), c.pool);
        await().atMost(WAIT).until(() -> c.localWaiters(0, 0) == 1);

        assertThat(ka.sent(MEMORY_OBJECT_FUTEX_RELEASED)).as("not while a1 holds it").isZero();
        assertThat(remote).isNotDone();

        a1.unlockFutex(c.base[0]);
        assertThat(remote.get(20, TimeUnit.SECONDS)).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(c.cluster.pager().holderOf(ClusterFixture.OBJECT, 0)).isEqualTo("B");
        assertThat(local).as("the local waiter waits for B").isNotDone();

        b1.unlockFutex(c.base[1]);
        assertThat(local.get(20, TimeUnit.SECONDS)).isEqualTo(AcquirePath.PAGER_GRANT);
        a2.unlockFutex(c.base[0]);
    }

    /** Busy local threads do not starve a remote one, nor each other. */
    @Test
    void nobodyStarves() throws Exception {
        int localOps = 300;
        int remoteOps = 60;
        List<CompletableFuture<Integer>> local = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            ThreadClient thread = c.thread(0);
            local.add(CompletableFuture.supplyAsync(() -> cycles(thread, c.base[0], localOps), c.pool));
        }
        ThreadClient remote = c.thread(1);
        CompletableFuture<Integer> remoteDone = CompletableFuture.supplyAsync(() -> cycles(remote, c.base[1], remoteOps), c.pool);

        assertThat(remoteDone.get(40, TimeUnit.SECONDS)).isEqualTo(remoteOps);
        for (CompletableFuture<Integer> f : local) {
            assertThat(f.get(40, TimeUnit.SECONDS)).isEqualTo(localOps);
        }
    }

    /** A kernel whose session ends is treated as having released everything it held. */
    @Test
    void aKernelThatShutsDownReleasesItsFutexes() throws Exception {
        ThreadClient a = c.thread(0);
        ThreadClient b = c.thread(1);
        a.lockFutex(c.base[0] + 32);
        CompletableFuture<io.machxp.proto.task.VmLockFutexReply> waiting =
                CompletableFuture.supplyAsync(() -> b.lock(c.base[1] + 32, null), c.pool);
        await().atMost(WAIT).until(() -> c.kernel(0).stats().received(MEMORY_OBJECT_RELINQUISH_FUTEX) == 1);

        c.kernel(0).close();

        io.machxp.proto.task.VmLockFutexReply got = waiting.get(20, TimeUnit.SECONDS);
        assertThat(got.getPath()).isEqualTo(AcquirePath.PAGER_GRANT);
        assertThat(got.getOwnerDied()).as("its holder went with the kernel").isTrue();
        await().atMost(WAIT).until(() -> c.cluster.pager().kernels().equals(List.of("B")));
    }

    /** A caller that cancels a blocked lock stops waiting: the futex does not go to it later. */
    @Test
    void aCancelledLockStopsWaiting() throws Exception {
        ThreadClient owner = c.thread(0);
        ThreadClient impatient = c.thread(0);
        owner.lockFutex(c.base[0]);
        io.grpc.ManagedChannel channel = io.grpc.netty.NettyChannelBuilder.forTarget(c.clients.get(0).target())
                .usePlaintext().build();
        try {
            var stub = io.machxp.proto.task.MachTaskGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(200, TimeUnit.MILLISECONDS);
            io.grpc.StatusRuntimeException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                    io.grpc.StatusRuntimeException.class, () -> stub.vmLockFutex(
                            io.machxp.proto.task.VmLockFutexRequest.newBuilder().setTask(c.tasks.get(0).id())
                                    .setThread(impatient.tid()).setAddress(c.base[0]).build()));
            assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.DEADLINE_EXCEEDED);
        } finally {
            channel.shutdownNow();
        }
        await().atMost(WAIT).until(() -> c.localWaiters(0, 0) == 0);
        owner.unlockFutex(c.base[0]);
        assertThat(impatient.tryLockFutex(c.base[0])).as("free, not given to the cancelled caller").isTrue();
        impatient.unlockFutex(c.base[0]);
    }

    private static int cycles(ThreadClient thread, long address, int n) {
        for (int i = 0; i < n; i++) {
            thread.lockFutex(address);
            thread.unlockFutex(address);
        }
        return n;
    }
}
