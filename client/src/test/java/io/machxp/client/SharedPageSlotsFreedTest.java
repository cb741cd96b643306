package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.shm.Punching;
import io.machxp.kernel.shm.SharedPages;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The slot of a page that leaves the kernel for good gives its memory back (review H1/F1: before,
 * a process streaming over a large object grew {@code /dev/shm} to the object's size, whatever
 * {@code --max-pages} said): with 4 pages resident at most, a task process that touches 32 pages
 * leaves a page file holding about the resident ones, and a page that comes back is mapped again
 * in a slot allocated again. An evicted page's slot is punched at once. A page handed away to
 * another kernel keeps its slot allocated for its return, but at most
 * {@link SharedPages#KEPT_SLOTS} per object: a kernel whose 40 pages another kernel takes holds
 * about that many slots, not 40. On a tmpfs ({@code /dev/shm} where there is one, in a directory
 * of the test's), as in production.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedPageSlotsFreedTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 32;

    @TempDir
    Path temp;
    private Path shm;

    @BeforeEach
    void directory() throws IOException {
        Path tmpfs = Path.of("/dev/shm");
        // a directory of this test's own: other test forks and runs use /dev/shm at the same time
        shm = Files.isDirectory(tmpfs) && Files.isWritable(tmpfs) ? Files.createTempDirectory(tmpfs, "slots-test-") : temp;
        org.junit.jupiter.api.Assumptions.assumeTrue(Punching.holesFreeMemoryIn(shm),
                "a hole punched in " + shm + " frees no memory (no tmpfs, huge pages, or no MADV_REMOVE)");
        // review N5: with 16 or 64 KiB OS pages a 4 KiB slot is never punched (a live neighbour shares its page)
        org.junit.jupiter.api.Assumptions.assumeTrue(Punching.osPage() <= PAGE,
                "OS pages of " + Punching.osPage() + " bytes: slots of " + PAGE + " are never punched alone");
    }

    @AfterEach
    void removeDirectory() throws IOException {
        if (!shm.equals(temp)) {
            try (var files = Files.walk(shm)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    void theSlotsOfEvictedPagesAreFreedAndAllocatedAgainWhenThePageComesBack() throws Exception {
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 64L * PAGE)));
                Kernel kernel = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shm)
                        .withMaxResidentPages(4));
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port())) {
            TaskClient task = client.taskCreate("t");
            long base = task.vmMap("obj");
            for (int page = 0; page < PAGES; page++) {
                task.writeLong(base + (long) page * PAGE + 8, page + 1); // a fault: the kernel maps the page
                task.writeLong(base + (long) page * PAGE + 16, page + 1); // in shared memory
            }
            long served = task.sharedAccesses();
            assertThat(served).as("pages were mapped to this process").isPositive();
            Path pages = pageFile();
            long allocated = allocatedBytes(pages);
            // the header and ctl words (one page here) and the slots of the pages resident now
            // (4, and the last one or two evicted while an access of theirs was counted: punched at a
            // later release once drained); 33 pages before
            assertThat(allocated).as("bytes allocated to %s", pages).isLessThanOrEqualTo(8L * PAGE);

            for (int page = 0; page < 2; page++) { // they come back: read from the pager, mapped again
                assertThat(task.readLong(base + (long) page * PAGE + 8)).isEqualTo(page + 1);
                assertThat(task.readLong(base + (long) page * PAGE + 16)).isEqualTo(page + 1);
            }
            assertThat(task.sharedAccesses()).as("served in slots allocated again").isGreaterThan(served);
        }
    }

    @Test
    void theSlotsOfPagesHandedAwayAreKeptUpToThePoolsBound() throws Exception {
        int taken = SharedPages.KEPT_SLOTS + 24;
        Path shmA = Files.createDirectory(shm.resolve("a"));
        try (Pager pager = Pager.start(PagerConfig.loopback(Map.of("obj", 64L * PAGE)));
                Kernel a = Kernel.start(KernelConfig.loopback("A", pager.target()).withShmDir(shmA));
                Kernel b = Kernel.start(KernelConfig.loopback("B", pager.target()).withShmDir(
                        Files.createDirectory(shm.resolve("b"))));
                KernelClient clientA = KernelClient.connect("127.0.0.1:" + a.port());
                KernelClient clientB = KernelClient.connect("127.0.0.1:" + b.port())) {
            TaskClient taskA = clientA.taskCreate("a");
            TaskClient taskB = clientB.taskCreate("b");
            long baseA = taskA.vmMap("obj");
            long baseB = taskB.vmMap("obj");
            for (int page = 0; page < taken; page++) {
                taskA.writeLong(baseA + (long) page * PAGE + 8, page + 1); // a fault on A, then mapped
                taskA.writeLong(baseA + (long) page * PAGE + 16, page + 1);
            }
            assertThat(taskA.sharedAccesses()).as("pages were mapped to A's process").isPositive();
            Path pages = pageFile(shmA);
            assertThat(allocatedBytes(pages)).as("A's %d pages resident and mapped", taken)
                    .isGreaterThan((long) taken * PAGE);
            for (int page = 0; page < taken; page++) {
                taskB.writeLong(baseB + (long) page * PAGE + 8, -(page + 1)); // the pager flushes A's copy
            }
            // the header and ctl words (one page here), the kept slots of the pages B took, and the
            // last one or two taken while an access of theirs was counted in A's process (punched at
            // a later release once drained)
            assertThat(allocatedBytes(pages)).as("bytes allocated to %s", pages)
                    .isLessThanOrEqualTo((1L + SharedPages.KEPT_SLOTS + 2) * PAGE)
                    .isGreaterThanOrEqualTo((1L + SharedPages.KEPT_SLOTS) * PAGE); // kept for their return
            for (int page = 0; page < 2; page++) { // back on A: mapped again
                assertThat(taskA.readLong(baseA + (long) page * PAGE + 8)).isEqualTo(-(page + 1));
            }
        }
    }

    private Path pageFile() throws IOException {
        return pageFile(shm);
    }

    private static Path pageFile(Path shm) throws IOException {
        try (var files = Files.walk(shm, 2)) {
            return files.filter(f -> f.getFileName().toString().endsWith("-pages")).findFirst().orElseThrow();
        }
    }

    private static long allocatedBytes(Path file) {
        long bytes = Punching.allocatedBytes(file);
        assertThat(bytes).as("the bytes allocated to %s", file).isNotNegative();
        return bytes;
    }
}
