package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.proto.task.AcquirePath;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The in-process task handle, and the fast path that never leaves the calling thread. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InProcessFastPathTest {

    /**
     * With the kernel's core thread blocked, cached uncontended lock/unlock still completes: the
     * fast path does not hop to the core thread.
     */
    @Test
    void cachedUncontendedLockAndUnlockRunOnTheCallersThread() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4096L))) {
            Kernel kernel = cluster.kernel(0);
            LocalTask task = kernel.taskCreate("fast");
            long futex = task.vmMap("obj");
            LocalThread t1 = task.threadCreate();
            LocalThread t2 = task.threadCreate();
            assertThat(t1.lockFutex(futex)).isEqualTo(AcquirePath.PAGER_GRANT);
            t1.unlockFutex(futex);

            CoreBlocked.during(kernel, () -> {
                for (int i = 0; i < 10_000; i++) {
                    LocalThread t = i % 2 == 0 ? t1 : t2;
                    assertThat(t.lockFutex(futex)).isEqualTo(AcquirePath.FAST_PATH);
                    t.unlockFutex(futex);
                }
                assertThat(t1.tryLockFutex(futex)).isTrue();
                t1.unlockFutex(futex);
            });
            assertThat(kernel.stats().acquires(AcquirePath.FAST_PATH)).isEqualTo(10_001);
        }
    }

    /** A terminated thread's fast path is closed too: its calls go to the core, which says ESRCH. */
    @Test
    void aTerminatedThreadCannotTakeACachedFutex() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4096L))) {
            LocalTask task = cluster.kernel(0).taskCreate("short");
            long futex = task.vmMap("obj");
            LocalThread gone = task.threadCreate();
            LocalThread other = task.threadCreate();
            gone.lockFutex(futex);
            gone.unlockFutex(futex);
            gone.terminate();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> gone.lockFutex(futex))
                    .isInstanceOfSatisfying(io.machxp.kernel.core.KernelException.class,
                            e -> assertThat(e.errno()).isEqualTo(io.machxp.proto.task.Errno.ESRCH));
            assertThat(other.lockFutex(futex)).as("free, cached").isEqualTo(AcquirePath.FAST_PATH);
        }
    }

    /** The in-process handle and gRPC clients share one futex. */
    @Test
    void inProcessAndGrpcThreadsShareTheFutex() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, true, Map.of("obj", 4096L));
                KernelClient remoteKernel = KernelClient.connect(cluster.kernelTargets().get(1))) {
            LocalTask local = cluster.kernel(0).taskCreate("local");
            long a = local.vmMap("obj");
            LocalThread t = local.threadCreate();
            TaskClient remoteTask = remoteKernel.taskCreate("remote");
            long b = remoteTask.vmMap("obj");
            ThreadClient r = remoteTask.threadCreate();

            t.lockFutex(a);
            assertThat(r.tryLockFutex(b)).as("held on kernel A").isFalse();
            t.unlockFutex(a);
            assertThat(r.lockFutex(b)).isEqualTo(AcquirePath.PAGER_GRANT);
            assertThat(t.tryLockFutex(a)).as("held on kernel B").isFalse();
            r.unlockFutex(b);
            assertThat(t.lockFutex(a)).isEqualTo(AcquirePath.PAGER_GRANT);
            t.unlockFutex(a);
        }
    }
}
