package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.VmLockFutexReply;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A kernel whose core is paused past its lease (its event loop blocked, as SIGSTOP or a long GC
 * would) while one of its threads owns a futex: the pager declares it dead and passes the futex
 * on with OWNER_DIED. When the kernel resumes, a lock queued during the pause is refused (checked
 * against the lease when it runs), and the kernel opens a new session by itself; a client of the
 * old session's task learns what was lost, and a new task goes on, told of the owner's death.
 *
 * <p>Only the pause may end the lease: it is the default's 5 s, so that the kernels stop counting
 * on it after 4 s without a keepalive answered. (At 600 ms, on a loaded machine, both kernels'
 * keepalives went unanswered for 480 ms while the test set up, in 4 runs of 5: the pager's thread,
 * the kernels' and the test's share one JVM, and A lost its session before the pause.) The pause
 * lasts until the pager declared A dead, and every later step waits on a condition, none on time.
 */
class SessionRenewOverGrpcTest {
    private static final Duration LEASE = PagerConfig.DEFAULT_LEASE;
    private Pager pager;
    private Kernel a;
    private Kernel b;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        if (pager != null) {
            pager.close();
        }
    }

    @Test
    void aKernelThatLostItsLeaseOpensANewSessionByItselfAndItsClientsLearnWhatWasLost() throws Exception {
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", 16_384L)).withLease(LEASE));
        a = Kernel.start(KernelConfig.loopback("A", pager.target()));
        b = Kernel.start(KernelConfig.loopback("B", pager.target()));
        try (KernelClient ca = KernelClient.connect("127.0.0.1:" + a.port());
                KernelClient cb = KernelClient.connect("127.0.0.1:" + b.port())) {
            TaskClient holderTask = ca.taskCreate("holder");
            long baseA = holderTask.vmMap("obj");
            ThreadClient holder = holderTask.threadCreate();
            ThreadClient queued = holderTask.threadCreate();
            holder.lock(baseA, null);
            holderTask.writeLong(baseA + 8, 41); // in A's cache only
            holder.unlockFutex(baseA);
            holder.lock(baseA, null); // cached: the fast path
            assertThat(a.sessionsOpened()).isEqualTo(1);
            assertThat(health("127.0.0.1:" + a.port())).isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);

            CompletableFuture<VmLockFutexReply>[] duringPause = new CompletableFuture[1];
            CoreBlocked.during(a, () -> {
                await().atMost(30, TimeUnit.SECONDS).until(() -> pager.stats().kernelsDeclaredDead() == 1);
                // A lock of the futex A cached, sent while A is paused: it must not be handed out on resume.
                duringPause[0] = CompletableFuture.supplyAsync(() -> queued.lock(baseA, Duration.ofSeconds(5)),
                        pool);
            });
            MachxpException stale = catchThrowableOfType(MachxpException.class,
                    () -> unwrap(duringPause[0]));
            assertThat(stale).as("a lock queued during the pause is refused when it runs").isNotNull();

            await().atMost(30, TimeUnit.SECONDS).until(() -> a.sessionsOpened() == 2);
            assertThat(health("127.0.0.1:" + a.port())).as("serving again once the new session is open")
                    .isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
            MachxpException lost = catchThrowableOfType(MachxpException.class, () -> holderTask.readLong(baseA + 8));
            assertThat(lost).isNotNull();
            assertThat(lost.errno()).isEqualTo(Errno.ESRCH);
            assertThat(lost.getMessage()).contains("OWNER_DIED").contains("create a new task");

            TaskClient next = ca.taskCreate("next");
            long base = next.vmMap("obj");
            VmLockFutexReply got = next.threadCreate().lock(base, Duration.ofSeconds(10));
            assertThat(got.getOwnerDied()).as("the paused kernel's thread owned it").isTrue();
            assertThat(got.getPath()).isNotEqualTo(AcquirePath.FAST_PATH);
            assertThat(next.readLong(base + 8)).as("A's write never reached the pager: lost, and said so").isZero();
        }
    }

    /** The kernel's standard gRPC health status. */
    private static io.grpc.health.v1.HealthCheckResponse.ServingStatus health(String target) {
        io.grpc.ManagedChannel channel = io.grpc.ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        try {
            return io.grpc.health.v1.HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()).getStatus();
        } finally {
            channel.shutdownNow();
        }
    }

    private static <T> T unwrap(CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("no answer", e);
        }
    }
}
