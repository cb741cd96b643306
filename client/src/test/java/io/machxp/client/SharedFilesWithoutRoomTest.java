package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.shm.RefusedSpace;
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
 * without shared memory. A page file is sparse: each page's slot is allocated when the page is
 * first mapped, and a page whose slot has no room stays on gRPC (review F1).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedFilesWithoutRoomTest {
    @AfterEach
    void noRefusal() {
        RefusedSpace.refuse(null);
    }

    @Test
    void pagesAndCallsWithoutRoomGoThroughGrpc(@TempDir Path shm) throws Exception {
        RefusedSpace.refuse(f -> f.startsWith(shm)
                && (f.toString().endsWith("-pages") || f.endsWith("calls")));
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

    /** A page whose slot cannot be allocated when it is first mapped stays on gRPC; the other pages are mapped. */
    @Test
    void aPageWithoutRoomForItsSlotStaysOnGrpc(@TempDir Path shm) throws Exception {
        RefusedSpace.refuse(f -> f.startsWith(shm) && f.toString().endsWith("-pages@1"));
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4 * 4096L)));
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shm));
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
            TaskClient task = client.taskCreate("t");
            long base = task.vmMap("obj");
            for (int i = 0; i < 20; i++) {
                task.writeLong(base + 4096 + 8, i);
                assertThat(task.readLong(base + 4096 + 8)).isEqualTo(i);
            }
            assertThat(task.sharedAccesses()).as("page 1 has no slot: its words through gRPC").isZero();
            for (int i = 0; i < 20; i++) {
                task.writeLong(base + 2 * 4096 + 8, i);
                assertThat(task.readLong(base + 2 * 4096 + 8)).isEqualTo(i);
            }
            assertThat(task.sharedAccesses()).as("page 2 is mapped").isPositive();
        }
    }

    /** A page file is sparse: an object far larger than the pages mapped of it holds only those pages' slots. */
    @Test
    void aPageFileHoldsOnlyTheSlotsOfMappedPages(@TempDir Path shm) throws Exception {
        long size = 1024 * 4096L; // 4 MiB
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", size)));
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shm));
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
            TaskClient task = client.taskCreate("t");
            long base = task.vmMap("obj");
            for (int page = 0; page < 4; page++) {
                for (int i = 0; i < 3; i++) {
                    task.writeLong(base + page * 4096L + 8, i);
                }
            }
            assertThat(task.sharedAccesses()).as("the pages were mapped").isPositive();
            Path pages;
            try (var files = java.nio.file.Files.walk(shm, 2)) {
                pages = files.filter(f -> f.toString().endsWith("-pages")).findFirst().orElseThrow();
            }
            assertThat(java.nio.file.Files.size(pages)).isGreaterThanOrEqualTo(size);
            Process stat = new ProcessBuilder("stat", "--format=%b %B", pages.toString()).start();
            String[] out = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
            assertThat(stat.waitFor()).isZero();
            long allocated = Long.parseLong(out[0]) * Long.parseLong(out[1]);
            // the header and ctl words (8 KiB here) and the 4 pages mapped, far below the object's 4 MiB
            assertThat(allocated).as("bytes allocated to %s", pages).isLessThan(64 * 4096L);
        }
    }

    @Test
    void aSessionWhoseFilesFaultStillOpens(@TempDir Path shm) throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4 * 4096L)).withLease(Duration.ZERO));
                Kernel a = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shm))) {
            assertThat(a.core().sharedMemory()).isNotNull();
            RefusedSpace.refuse(f -> {
                if (f.startsWith(shm) && f.endsWith("kernel")) {
                    // what the JVM raises for a SIGBUS on a full tmpfs
                    throw new InternalError("a fault occurred in a recent unsafe memory access operation");
                }
                return false;
            });
            a.execute(() -> a.core().xp().onPagerLost(0, "the test ends the session"));
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

    /** Out of stack (as out of memory) while a session's files are made: the session still opens (review F7), then the error goes on. */
    @Test
    void aSessionWhoseFilesRunOutOfStackStillOpens(@TempDir Path shm) throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4 * 4096L)).withLease(Duration.ZERO));
                Kernel a = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shm))) {
            RefusedSpace.refuse(f -> {
                if (f.startsWith(shm) && f.endsWith("kernel")) {
                    throw new StackOverflowError("a test's");
                }
                return false;
            });
            a.execute(() -> a.core().xp().onPagerLost(0, "the test ends the session"));
            // the error goes on, uncaught, on the file thread: not this test's failure
            await().dontCatchUncaughtExceptions().atMost(30, TimeUnit.SECONDS).until(() -> a.sessionsOpened() == 2);
            assertThat(a.core().sharedMemory()).as("the new session shares nothing").isNull();
        }
    }

    /**
     * A fault under a shared-memory access (SIGBUS, an InternalError in the JVM) reaches the
     * caller of a write as EIO (it may have landed), and switches the task to gRPC for good (review
     * F8: its files are allocated in full, so a fault means one shrank, and before, every later
     * access faulted again); a read that faults is made over gRPC at once (it wrote nothing).
     */
    @Test
    void aFaultOfTheSharedMemorySwitchesTheTaskToGrpc() throws Exception {
        try (ClusterFixture c = new ClusterFixture(1)) {
            TaskClient a = c.tasks.get(0);
            long word = c.base[0] + 4096 + 8;
            a.writeLong(word, 1);
            a.readLong(word);
            ThreadClient t = c.thread(0);
            t.lockFutex(c.base[0] + 64);
            t.unlockFutex(c.base[0] + 64);
            long before = c.clients.get(0).callsMade();
            t.lockFutex(c.base[0] + 64);
            assertThat(c.clients.get(0).callsMade()).as("the fast path, before the fault: no call").isEqualTo(before);
            t.unlockFutex(c.base[0] + 64);
            java.util.concurrent.atomic.AtomicInteger faults = new java.util.concurrent.atomic.AtomicInteger();
            a.sharedWords().beforeCount = () -> {
                faults.incrementAndGet();
                throw new InternalError("a fault occurred in a recent unsafe memory access operation");
            };
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.writeLong(word, 2))
                    .isInstanceOfSatisfying(MachxpException.class,
                            e -> assertThat(e.errno()).isEqualTo(io.machxp.proto.task.Errno.EIO));
            long shared = a.sharedAccesses();
            long sharedCalls = c.clients.get(0).sharedCallsMade();
            assertThat(a.readLong(word)).isEqualTo(1);
            a.writeLong(word, 3);
            assertThat(a.readLong(word)).isEqualTo(3);
            assertThat(faults.get()).as("only the first access touched the shared memory").isEqualTo(1);
            assertThat(a.sharedAccesses()).isEqualTo(shared);
            long calls = c.clients.get(0).callsMade();
            t.lockFutex(c.base[0] + 64);
            assertThat(c.clients.get(0).callsMade()).as("the task's threads too: a lock is a call").isEqualTo(calls + 1);
            t.unlockFutex(c.base[0] + 64);
            assertThat(c.clients.get(0).sharedCallsMade()).as("no call through the call file").isEqualTo(sharedCalls);
            long beforeMap = c.clients.get(0).callsMade();
            a.vmMap(ClusterFixture.OBJECT);
            assertThat(c.clients.get(0).callsMade()).as("a vm_map after the fault maps no file (review L1): "
                    + "no TaskShmAttach").isEqualTo(beforeMap + 1);
        }
    }
}
