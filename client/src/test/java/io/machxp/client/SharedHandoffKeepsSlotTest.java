package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Native;
import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.AcquirePath;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A futex handed between kernels with its page (the demo's handoff) leaves the page's slot
 * allocated in the page file of the kernel it left, and the page is mapped there again when it
 * comes back. Before, each handoff punched the slot (an madvise that unmaps the page from every
 * task process) and each return wrote zeros there again, and the demo's throughput halved
 * (c8ca4037). Needs the page files on a tmpfs; skipped elsewhere.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedHandoffKeepsSlotTest {
    private static final int PAGE = 4096;
    private static final int SEEK_DATA = 3;
    private static final long FUTEX = 128;
    private final ClusterFixture c;

    SharedHandoffKeepsSlotTest() throws Exception {
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void aPageHandedAwayWithItsFutexKeepsItsSlotAllocatedAndIsMappedThereWhenItComesBack() throws Exception {
        ThreadClient[] threads = {c.thread(0), c.thread(1)};
        long counter = FUTEX + 8;
        Path[] files = new Path[2];
        ByteBuffer[] pages = new ByteBuffer[2];
        long[] slot0 = new long[2];
        for (int k = 0; k < 2; k++) {
            HostileShm shm = new HostileShm(c.clients.get(k), c.tasks.get(k));
            files[k] = Path.of(shm.attach.getMappings(0).getPageFile());
            Assumptions.assumeTrue("tmpfs".equals(Files.getFileStore(files[k]).type()), "the page file is not on a tmpfs");
            pages[k] = shm.pages();
            slot0[k] = (long) ShmLayout.LONG.get(pages[k], ShmLayout.PAGE_DATA); // page 0's slot: the first
        }
        for (int round = 0; round < 6; round++) {
            int me = round % 2;
            TaskClient task = c.tasks.get(me);
            assertThat(threads[me].lockFutex(c.base[me] + FUTEX)).as("round %d: from the other kernel", round)
                    .isEqualTo(AcquirePath.PAGER_GRANT);
            long shared = task.sharedAccesses();
            task.writeLong(c.base[me] + counter, task.readLong(c.base[me] + counter) + 1);
            assertThat(task.sharedAccesses()).as("round %d: in shared memory", round).isEqualTo(shared + 2);
            // mapped in its own slot, the one kept for it while it was away (no spare, no other slot)
            assertThat(ShmLayout.pageSlot(pages[me], 0)).as("round %d: page 0's slot", round).isZero();
            assertThat((int) ShmLayout.INT.getVolatile(pages[me], ShmLayout.pageCtl(0)) & ShmLayout.MAPPED_WRITE)
                    .as("round %d: slot 0 mapped writable", round).isNotZero();
            threads[me].unlockFutex(c.base[me] + FUTEX);
            if (round > 0) {
                int away = 1 - me; // the page left that kernel with the futex's release
                assertThat(allocated(files[away], slot0[away]))
                        .as("round %d: page 0's slot in kernel %d's file, the page away", round, away).isTrue();
            }
        }
        assertThat(c.tasks.get(0).readLong(c.base[0] + counter)).isEqualTo(6);
    }

    private static boolean allocated(Path file, long offset) {
        SharedMovedPageReleaseTest.LibC libc = Native.load("c", SharedMovedPageReleaseTest.LibC.class);
        int fd = libc.open(file.toString(), 0);
        assertThat(fd).isNotNegative();
        try {
            return libc.lseek(fd, offset, SEEK_DATA) == offset;
        } finally {
            libc.close(fd);
        }
    }
}
