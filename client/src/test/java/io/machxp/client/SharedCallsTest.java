package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.transport.Transport;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Calls a task process makes to its kernel on the same host go through the call file in shared
 * memory (docs/shared-memory.md) and answer exactly as over gRPC: replies, the kernel's errors
 * with their errno, a deadline, an interrupt, a kernel that goes away; forcing gRPC still works.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedCallsTest {
    private static final long FUTEX = 64;
    private final ClusterFixture c;

    SharedCallsTest() throws Exception {
        c = new ClusterFixture(1);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void aLockThatWaitsAndTheUnlockThatHandsItOverGoThroughSharedMemory() throws Exception {
        KernelClient client = c.clients.get(0);
        ThreadClient owner = c.thread(0);
        ThreadClient waiter = c.thread(0);
        owner.lockFutex(c.base[0] + FUTEX);
        long before = client.sharedCallsMade();
        CompletableFuture<AcquirePath> waiting = CompletableFuture.supplyAsync(
                () -> waiter.lockFutex(c.base[0] + FUTEX), c.pool);
        await().until(() -> c.localWaiters(0, FUTEX) == 1);
        owner.unlockFutex(c.base[0] + FUTEX); // finds WAITERS: a call, which hands the futex over
        assertThat(waiting.get(30, TimeUnit.SECONDS)).isEqualTo(AcquirePath.LOCAL_HANDOFF);
        assertThat(client.sharedCallsMade() - before).as("the waiting lock and the unlock").isEqualTo(2);
        waiter.unlockFutex(c.base[0] + FUTEX);
    }

    @Test
    void theKernelsErrorsComeBackWithTheirErrno() {
        KernelClient client = c.clients.get(0);
        ThreadClient t = c.thread(0);
        long before = client.sharedCallsMade();
        MachxpException notHeld = catchThrowableOfType(MachxpException.class, () -> t.unlockFutex(c.base[0] + FUTEX));
        assertThat(notHeld.errno()).isEqualTo(Errno.EPERM);
        assertThat(notHeld.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
        MachxpException misaligned = catchThrowableOfType(MachxpException.class, () -> t.lockFutex(c.base[0] + 2));
        assertThat(misaligned.errno()).isEqualTo(Errno.EINVAL);
        MachxpException outside = catchThrowableOfType(MachxpException.class,
                () -> c.tasks.get(0).vmRead(c.base[0] + ClusterFixture.OBJECT_SIZE, 16));
        assertThat(outside.errno()).isEqualTo(Errno.EINVAL);
        assertThat(client.sharedCallsMade() - before).isEqualTo(3);
        assertThat(t.lockFutex(c.base[0] + FUTEX)).as("the kernel keeps working").isNotNull();
    }

    @Test
    void aCallPastItsDeadlineIsGivenUpAndTheFutexIsNotHandedToIt() throws Exception {
        try (KernelClient impatient = KernelClient.connect(c.clients.get(0).target(), Transport.LOOPBACK_PLAINTEXT,
                Duration.ofMillis(300))) {
            TaskClient task = impatient.taskCreate("impatient");
            long base = task.vmMap(ClusterFixture.OBJECT);
            ThreadClient owner = task.threadCreate();
            ThreadClient late = task.threadCreate();
            owner.lockFutex(base + FUTEX);
            MachxpException e = catchThrowableOfType(MachxpException.class, () -> late.lockFutex(base + FUTEX));
            assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            assertThat(impatient.sharedCallsMade()).isPositive();
            await().until(() -> waitersOf(task, base) == 0); // the reader ran the cancel handler: it waits no more
            owner.unlockFutex(base + FUTEX);
            assertThat(task.threadCreate().tryLockFutex(base + FUTEX)).as("not handed to the call given up").isTrue();
        }
    }

    @Test
    void anInterruptedCallIsCancelled() throws Exception {
        ThreadClient owner = c.thread(0);
        ThreadClient waiter = c.thread(0);
        owner.lockFutex(c.base[0] + FUTEX);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                waiter.lockFutex(c.base[0] + FUTEX);
            } catch (RuntimeException e) {
                failed.set(e);
                stillInterrupted.set(Thread.currentThread().isInterrupted());
            }
        });
        t.start();
        await().until(() -> c.localWaiters(0, FUTEX) == 1);
        t.interrupt();
        t.join(30_000);
        assertThat(((MachxpException) failed.get()).code()).isEqualTo(Status.Code.CANCELLED);
        assertThat(stillInterrupted.get()).isTrue();
        await().until(() -> c.localWaiters(0, FUTEX) == 0);
        owner.unlockFutex(c.base[0] + FUTEX);
        assertThat(c.thread(0).tryLockFutex(c.base[0] + FUTEX)).isTrue();
    }

    @Test
    void aKernelThatGoesAwayFailsTheWaitingCallUnavailable() {
        ThreadClient owner = c.thread(0);
        ThreadClient waiter = c.thread(0);
        owner.lockFutex(c.base[0] + FUTEX);
        CompletableFuture<AcquirePath> waiting = CompletableFuture.supplyAsync(
                () -> waiter.lockFutex(c.base[0] + FUTEX), c.pool);
        await().until(() -> c.localWaiters(0, FUTEX) == 1);
        c.kernel(0).crash();
        Throwable failed = catchThrowableOfType(java.util.concurrent.CompletionException.class,
                () -> waiting.orTimeout(30, TimeUnit.SECONDS).join()).getCause();
        assertThat(((MachxpException) failed).code()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void forcingGrpcMakesNoCallThroughSharedMemory() {
        try (KernelClient grpc = KernelClient.connect(c.clients.get(0).target(), Transport.LOOPBACK_PLAINTEXT, null,
                KernelClient.Memory.GRPC_ONLY)) {
            TaskClient task = grpc.taskCreate("grpc");
            long base = task.vmMap(ClusterFixture.OBJECT);
            ThreadClient t = task.threadCreate();
            t.lockFutex(base + FUTEX);
            MachxpException again = catchThrowableOfType(MachxpException.class, () -> t.lockFutex(base + FUTEX));
            assertThat(again.errno()).isEqualTo(Errno.EDEADLK);
            t.unlockFutex(base + FUTEX);
            task.writeLong(base + 4096, 5);
            assertThat(task.readLong(base + 4096)).isEqualTo(5);
            assertThat(grpc.callsMade()).isPositive();
            assertThat(grpc.sharedCallsMade()).isZero();
        }
    }

    private int waitersOf(TaskClient task, long base) {
        long id = c.kernel(0).taskHandles().taskId(task.id());
        return c.kernel(0).<Integer>call(r -> {
            var e = c.kernel(0).core().inspect().futexAt(id, base + FUTEX);
            r.complete(e == null ? 0 : e.waiters.size());
        });
    }
}
