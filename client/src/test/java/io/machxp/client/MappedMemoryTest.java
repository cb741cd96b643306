package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.core.KernelException;
import io.machxp.proto.task.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * vm_read and vm_write of an in-process task on a page the core has mapped: copies on the
 * caller's thread, coherent with the core, with other kernels and with futex words.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MappedMemoryTest {
    private static final long PAGE = 4096;

    private static byte[] le(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    private static long readLong(LocalTask task, long address) {
        return ByteBuffer.wrap(task.vmRead(address, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** After the core has served the page once, reads and writes within it need no core. */
    @Test
    void aMappedPageIsReadAndWrittenOnTheCallersThread() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 2 * PAGE))) {
            Kernel kernel = cluster.kernel(0);
            LocalTask task = kernel.taskCreate("mapped");
            long base = task.vmMap("obj");
            task.vmWrite(base + 8, le(1));
            CoreBlocked.during(kernel, () -> {
                for (long i = 2; i < 10_000; i++) {
                    task.vmWrite(base + 8, le(i));
                    assertThat(readLong(task, base + 8)).isEqualTo(i);
                }
                task.vmWrite(base + PAGE - 8, le(-1));
            });
            assertThat(readLong(task, base + 8)).isEqualTo(9_999);
            assertThat(readLong(task, base + PAGE - 8)).isEqualTo(-1);
            byte[] across = task.vmRead(base + PAGE - 4, 8);
            assertThat(across).as("across two pages: through the core").hasSize(8);
        }
    }

    /**
     * A futex word is never copied directly: it goes through the core, which reads it as the
     * futex's owner and, as on Linux, lets a task write a word nobody waits for (the owner's
     * unlock then finds another value and is EPERM).
     */
    @Test
    void futexWordsGoThroughTheCore() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", PAGE))) {
            LocalTask task = cluster.kernel(0).taskCreate("futex");
            long base = task.vmMap("obj");
            task.vmWrite(base + 8, le(5));
            LocalThread t = task.threadCreate();
            t.lockFutex(base);
            assertThat(ByteBuffer.wrap(task.vmRead(base, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt())
                    .isEqualTo(t.tid());
            task.vmWrite(base, le(0));
            assertThat(ByteBuffer.wrap(task.vmRead(base, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt()).isZero();
            assertThat(readLong(task, base + 8)).isEqualTo(5);
            assertThatThrownBy(() -> t.unlockFutex(base))
                    .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EPERM));
            LocalThread u = task.threadCreate();
            u.lockFutex(base);
            assertThat(ByteBuffer.wrap(task.vmRead(base, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(u.tid());
            u.unlockFutex(base);
        }
    }

    /** What one kernel wrote through its mapping is what another reads, and back, round after round. */
    @Test
    void writesThroughTheMappingReachOtherKernels() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, true, Map.of("obj", PAGE))) {
            LocalTask a = cluster.kernel(0).taskCreate("a");
            LocalTask b = cluster.kernel(1).taskCreate("b");
            long baseA = a.vmMap("obj");
            long baseB = b.vmMap("obj");
            for (long round = 1; round <= 50; round++) {
                a.vmWrite(baseA + 16, le(round));
                a.vmWrite(baseA + 16, le(round * 10)); // the second write goes through the mapping
                assertThat(readLong(b, baseB + 16)).as("round %d on B", round).isEqualTo(round * 10);
                b.vmWrite(baseB + 24, le(round));
                b.vmWrite(baseB + 24, le(-round));
                assertThat(readLong(a, baseA + 24)).as("round %d on A", round).isEqualTo(-round);
            }
        }
    }

    /**
     * A page that came writable and clean (with a futex) and was mapped by a read: the write
     * through the mapping makes it dirty, so the pager gets the data when another kernel reads.
     */
    @Test
    void aWriteThroughTheMappingDirtiesACleanPage() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, true, Map.of("obj", PAGE))) {
            LocalTask a = cluster.kernel(0).taskCreate("a");
            LocalTask b = cluster.kernel(1).taskCreate("b");
            long baseA = a.vmMap("obj");
            long baseB = b.vmMap("obj");
            LocalThread t = a.threadCreate();
            t.lockFutex(baseA);
            assertThat(readLong(a, baseA + 16)).as("maps the page, writable and clean").isZero();
            a.vmWrite(baseA + 16, le(10));
            t.unlockFutex(baseA);
            assertThat(readLong(b, baseB + 16)).isEqualTo(10);
        }
    }

    /** When the pager is gone, mapped pages are revoked: a read goes to the core, which says EIO. */
    @Test
    void losingThePagerRevokesTheMappings() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", PAGE))) {
            LocalTask task = cluster.kernel(0).taskCreate("orphan");
            long base = task.vmMap("obj");
            task.vmWrite(base + 8, le(3));
            assertThat(readLong(task, base + 8)).isEqualTo(3);
            cluster.pager().close();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                try {
                    task.vmRead(base + 8, 8);
                    return false;
                } catch (KernelException e) {
                    return e.errno() == Errno.EIO;
                }
            });
            assertThatThrownBy(() -> task.vmWrite(base + 8, le(4)))
                    .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        }
    }

    /** A task that ended has no address space: its calls go to the core, which says ESRCH. */
    @Test
    void anEndedTaskCannotReachItsPages() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", PAGE))) {
            LocalTask task = cluster.kernel(0).taskCreate("short");
            long base = task.vmMap("obj");
            task.vmWrite(base + 8, le(7));
            assertThat(readLong(task, base + 8)).isEqualTo(7);
            task.terminate();
            assertThatThrownBy(() -> task.vmRead(base + 8, 8))
                    .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ESRCH));
            assertThatThrownBy(() -> task.vmWrite(base + 8, le(8)))
                    .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ESRCH));
        }
    }
}
