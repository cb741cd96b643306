package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.shm.SharedMemory;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.task.AcquirePath;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shared-memory directory without room (review H1) costs the kernel nothing but the fast path
 * of what did not fit: the files are allocated when they are made, so a full tmpfs fails there
 * (an IOException, here injected at that seam) instead of with a SIGBUS at a first touch; and a
 * session whose files fail in any way, even with the InternalError a SIGBUS becomes, still opens,
 * without shared memory.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedFilesWithoutRoomTest {
    @AfterEach
    void noRefusal() {
        SharedMemory.refuseSpaceForTests(null);
    }

    @Test
    void pagesAndCallsWithoutRoomGoThroughGrpc(@TempDir Path shm) throws Exception {
        SharedMemory.refuseSpaceForTests(f -> f.startsWith(shm)
                && (f.toString().endsWith("-pages") || f.toString().endsWith("-calls")));
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4 * 4096L)));
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shm));
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
            TaskClient task = client.taskCreate("t");
            long base = task.vmMap("obj");
            assertThat(task.sharesMemory()).as("the kernel file and the futex table were made").isTrue();
            for (int i = 0; i < 20; i++) {
                task.writeLong(base + 4096 + 8, i);
                assertThat(task.readLong(base + 4096 + 8)).isEqualTo(i);
            }
            assertThat(task.sharedAccesses()).as("no page file: every word through gRPC").isZero();
            ThreadClient t = task.threadCreate();
            t.lockFutex(base + 64);
            t.unlockFutex(base + 64);
            assertThat(t.lockFutex(base + 64)).as("the futex table is there").isEqualTo(AcquirePath.FAST_PATH);
            t.unlockFutex(base + 64);
        }
    }

    @Test
    void aSessionWhoseFilesFaultStillOpens(@TempDir Path shm) throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4 * 4096L)).withLease(Duration.ZERO));
                Kernel a = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shm))) {
            assertThat(a.core().sharedMemory()).isNotNull();
            SharedMemory.refuseSpaceForTests(f -> {
                if (f.startsWith(shm) && f.toString().endsWith("-kernel")) {
                    // what the JVM raises for a SIGBUS on a full tmpfs
                    throw new InternalError("a fault occurred in a recent unsafe memory access operation");
                }
                return false;
            });
            a.execute(() -> a.core().onPagerLost(0, "the test ends the session"));
            await().atMost(30, TimeUnit.SECONDS).until(() -> a.sessionsOpened() == 2);
            assertThat(a.core().sharedMemory()).as("the new session shares nothing").isNull();
            try (KernelClient client = KernelClient.connect("127.0.0.1:" + a.port())) {
                TaskClient task = client.taskCreate("t");
                long base = task.vmMap("obj");
                task.writeLong(base + 8, 42);
                assertThat(task.readLong(base + 8)).isEqualTo(42);
                assertThat(task.sharesMemory()).isFalse();
            }
        }
    }

    /** A fault under a shared-memory access (SIGBUS, an InternalError in the JVM) reaches the caller as EIO. */
    @Test
    void aFaultOfTheSharedMemoryIsAMachxpException() throws Exception {
        try (ClusterFixture c = new ClusterFixture(1)) {
            TaskClient a = c.tasks.get(0);
            long word = c.base[0] + 4096 + 8;
            a.writeLong(word, 1);
            a.readLong(word);
            a.sharedWords().beforeCount = () -> {
                throw new InternalError("a fault occurred in a recent unsafe memory access operation");
            };
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.readLong(word))
                    .isInstanceOfSatisfying(MachxpException.class,
                            e -> assertThat(e.errno()).isEqualTo(io.machxp.proto.task.Errno.EIO));
            a.sharedWords().beforeCount = null;
            assertThat(a.readLong(word)).isEqualTo(1);
        }
    }
}
