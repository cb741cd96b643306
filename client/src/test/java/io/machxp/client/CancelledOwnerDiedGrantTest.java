package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.net.MachTaskService;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmTrylockFutexReply;
import io.machxp.proto.task.VmTrylockFutexRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A lock or trylock granted with owner_died to a caller that gave up as it came (its call
 * cancelled before the cancel handler ran): nobody heard EOWNERDEAD, so the kernel's undo must
 * pass the futex on as the death did - the next owner gets it with owner_died, or it stays free
 * with OWNER_DIED, here or at the pager - never make it NOT_RECOVERABLE as an unlock by the owner
 * would, and leave no boost on the thread that gave up.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancelledOwnerDiedGrantTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private EmbeddedCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aWaitingLockCancelledAsTheDeadOwnersFutexComesLeavesItFreeWithOwnerDied() throws Exception {
        cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));
        Kernel kernel = cluster.kernel(0);
        LocalTask task = kernel.taskCreate("app");
        long base = task.vmMap("obj");
        LocalThread owner = task.threadCreate();
        LocalThread caller = task.threadCreate();
        LocalThread next = task.threadCreate();
        long handle = kernel.taskHandles().issue(task.id());
        owner.lockFutex(base);
        FutexEntry futex = futexAt(kernel, task, base);

        CancelledServerCall<VmLockFutexReply> call = new CancelledServerCall<>();
        new MachTaskService(kernel).vmLockFutex(VmLockFutexRequest.newBuilder().setTask(handle)
                .setThread(caller.tid()).setAddress(base).build(), call);
        await().atMost(WAIT).until(() -> FutexWord.hasWaiters(futex.state()));
        call.cancelled = true; // the caller gave up; its cancel handler has not run yet
        owner.terminate();     // the futex goes to the waiter with owner_died, and the grant meets the cancel

        // OWNER_DIED with the WAITERS the caller set, as Linux's robust-list walk leaves it.
        await().atMost(WAIT).until(() -> FutexWord.word(futex.state()) == (FutexWord.OWNER_DIED | FutexWord.WAITERS));
        assertThat(call.answers()).as("nobody heard of the grant").isEmpty();
        assertThat(next.lock(base, Duration.ofSeconds(5)).ownerDied()).as("EOWNERDEAD").isTrue();
        assertThat(FutexWord.word(futex.state())).as("the next owner took it after a death (EOWNERDEAD)")
                .isEqualTo(next.tid() | FutexWord.OWNER_DIED);
    }

    @Test
    void aCancelledLockGrantedWithOwnerDiedPassesItOnToTheNextWaiterAndDropsItsBoost() throws Exception {
        passesOnAsADeath(false);
    }

    @Test
    void aCancelledTrylockGrantedWithOwnerDiedPassesItOnToTheNextWaiterAndDropsItsBoost() throws Exception {
        passesOnAsADeath(true);
    }

    /**
     * The futex is free with OWNER_DIED; with the core blocked, the cancelled (try)lock of a low
     * thread is queued, then the lock of a higher one: the first is granted with owner_died (its
     * undo queued), the higher one waits for it and boosts it, then the undo runs.
     */
    private void passesOnAsADeath(boolean trylock) throws Exception {
        cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));
        Kernel kernel = cluster.kernel(0);
        LocalTask task = kernel.taskCreate("app");
        long base = task.vmMap("obj");
        LocalThread owner = task.threadCreate();
        LocalThread caller = task.threadCreate();
        LocalThread next = task.threadCreate();
        kernel.<Void>call(r -> kernel.core().threadSetPriority(task.id(), caller.tid(), 10, r));
        kernel.<Void>call(r -> kernel.core().threadSetPriority(task.id(), next.tid(), 50, r));
        long handle = kernel.taskHandles().issue(task.id());
        owner.lockFutex(base);
        owner.terminate();
        FutexEntry futex = futexAt(kernel, task, base);
        assertThat(FutexWord.word(futex.state())).isEqualTo(FutexWord.OWNER_DIED);

        MachTaskService service = new MachTaskService(kernel);
        CancelledServerCall<VmLockFutexReply> lockCall = CancelledServerCall.givenUp();
        CancelledServerCall<VmTrylockFutexReply> trylockCall = CancelledServerCall.givenUp();
        CompletableFuture<Acquired> nextLock = new CompletableFuture<>();
        CoreBlocked.during(kernel, () -> {
            if (trylock) {
                service.vmTrylockFutex(VmTrylockFutexRequest.newBuilder().setTask(handle).setThread(caller.tid())
                        .setAddress(base).build(), trylockCall);
            } else {
                service.vmLockFutex(VmLockFutexRequest.newBuilder().setTask(handle).setThread(caller.tid())
                        .setAddress(base).build(), lockCall);
            }
            kernel.execute(() -> kernel.core().vmLockFutex(task.id(), next.tid(), base, -1, completing(nextLock)));
        });

        Acquired got = nextLock.get(20, TimeUnit.SECONDS);
        assertThat(lockCall.answers()).isEmpty();
        assertThat(trylockCall.answers()).isEmpty();
        assertThat(got.ownerDied()).as("the next owner hears EOWNERDEAD").isTrue();
        assertThat(got.path()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(FutexWord.word(futex.state()) & ~FutexWord.WAITERS).as("handed over as Linux does: WAITERS may stay")
                .isEqualTo(next.tid() | FutexWord.OWNER_DIED);
        MachThread gaveUp = kernel.<MachThread>call(r -> r.complete(kernel.core().task(task.id()).thread(caller.tid())));
        assertThat(kernel.<Integer>call(r -> r.complete(gaveUp.effectivePriority)))
                .as("no boost left on the thread that gave up").isEqualTo(10);
    }

    @Test
    void aCancelledGrantWithOwnerDiedGoesToTheKernelWaitingAtThePagerWithOwnerDied() throws Exception {
        cluster = EmbeddedCluster.start(2, true, Map.of("obj", 64L * 1024));
        Kernel a = cluster.kernel(0);
        Kernel b = cluster.kernel(1);
        LocalTask taskA = a.taskCreate("app-a");
        long baseA = taskA.vmMap("obj");
        LocalThread owner = taskA.threadCreate();
        LocalThread caller = taskA.threadCreate();
        long handle = a.taskHandles().issue(taskA.id());
        LocalTask taskB = b.taskCreate("app-b");
        long baseB = taskB.vmMap("obj");
        LocalThread onB = taskB.threadCreate();
        owner.lockFutex(baseA);
        FutexEntry futex = futexAt(a, taskA, baseA);

        CancelledServerCall<VmLockFutexReply> call = new CancelledServerCall<>();
        new MachTaskService(a).vmLockFutex(VmLockFutexRequest.newBuilder().setTask(handle)
                .setThread(caller.tid()).setAddress(baseA).build(), call);
        await().atMost(WAIT).until(() -> FutexWord.hasWaiters(futex.state()));
        CompletableFuture<Acquired> lockOnB = new CompletableFuture<>();
        b.execute(() -> b.core().vmLockFutex(taskB.id(), onB.tid(), baseB, -1, completing(lockOnB)));
        await().atMost(WAIT).until(() -> futex.relinquishPending);
        call.cancelled = true;
        owner.terminate(); // the local waiter came first: it is granted with owner_died, then undone

        Acquired got = lockOnB.get(20, TimeUnit.SECONDS);
        assertThat(call.answers()).isEmpty();
        assertThat(got.ownerDied()).as("the waiter on the other kernel hears EOWNERDEAD").isTrue();
        assertThat(got.path()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    private static FutexEntry futexAt(Kernel kernel, LocalTask task, long address) {
        return kernel.<FutexEntry>call(r -> r.complete(kernel.core().inspect().futexAt(task.id(), address)));
    }

    private static Reply<Acquired> completing(CompletableFuture<Acquired> result) {
        return new Reply<>() {
            @Override
            public void complete(Acquired value) {
                result.complete(value);
            }

            @Override
            public void fail(KernelError error) {
                result.completeExceptionally(new AssertionError(error.message()));
            }
        };
    }
}
