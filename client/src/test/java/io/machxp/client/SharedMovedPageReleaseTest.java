package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.machxp.kernel.shm.KeptSlots;
import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A page released from a spare slot gives back that slot, never the slot of its page number
 * (review P1 of the shm-pages branch, for the shm-files merge): page 1 moved to a spare (a count
 * left in slot 1), page 2 moved into slot 1 afterwards; page 1 leaves kernel 0 (given away to
 * kernel 1) while page 2 is mapped writable in slot 1 with bytes the kernel has not taken yet.
 * Page 2's bytes must survive, in the slot (task process) and at its take (kernel 1 reads them),
 * and the hole must be in the spare. Needs the page file on a tmpfs (the session's own directory
 * under {@code /dev/shm}); skipped elsewhere. The page files keep no slot for a page handed away
 * (a pool of 0, {@link KeptSlots}), so that each release punches at once and the test sees which
 * slot it punches; with the pool, the same slot is punched later, when the pool overflows.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedMovedPageReleaseTest {
    private static final int PAGE = 4096;
    private static final int SEEK_DATA = 3;
    private ClusterFixture c;

    /** lseek(2) with SEEK_DATA: whether a byte of a file is allocated or in a hole. */
    public interface LibC extends Library {
        int open(String path, int flags);

        long lseek(int fd, long offset, int whence);

        int close(int fd);
    }

    /**
     * The seam is JVM-wide and the fork is reused by later test classes: set here, where JUnit
     * still runs {@link #close} if the fixture fails to start (review F7), never in a constructor.
     */
    @BeforeEach
    void cluster() throws Exception {
        KeptSlots.keep(0);
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        try {
            if (c != null) {
                c.close();
            }
        } finally {
            KeptSlots.reset();
        }
    }

    @Test
    void releasingAPageInASpareFreesTheSpareAndNotThePageNowInItsHomeSlot() throws Exception {
        TaskClient a = c.tasks.get(0);
        TaskClient b = c.tasks.get(1);
        long w1 = PAGE + 8;
        long w2 = 2 * PAGE + 8;
        a.writeLong(c.base[0] + w1, 1);
        a.writeLong(c.base[0] + w2, 22);
        HostileShm shm = new HostileShm(c.clients.get(0), a);
        Path file = Path.of(shm.attach.getMappings(0).getPageFile());
        Assumptions.assumeTrue("tmpfs".equals(Files.getFileStore(file).type()), "the page file is not on a tmpfs");
        ByteBuffer pages = shm.pages();
        int home1 = ShmLayout.pageCtl(1);
        int home2 = ShmLayout.pageCtl(2);

        INT.getAndAdd(pages, home1, 1); // an access left counted in slot 1
        b.writeLong(c.base[1] + w1, 2); // page 1 leaves kernel 0 (its slot kept: counted)
        assertThat(a.readLong(c.base[0] + w1)).isEqualTo(2); // back, not mapped: counted at this map
        assertThat(a.readLong(c.base[0] + w1)).isEqualTo(2); // counted again: mapped in a spare
        int spare = shm.pageCtl(w1);
        assertThat(spare).as("page 1 in a spare slot").isNotEqualTo(home1);
        INT.getAndAdd(pages, home1, -1); // that access ended: slot 1 drains
        INT.getAndAdd(pages, home2, 1); // an access left counted in slot 2
        b.writeLong(c.base[1] + w2, 33); // page 2 leaves kernel 0
        a.writeLong(c.base[0] + w2, 34); // back, not mapped: counted at this map
        a.writeLong(c.base[0] + w2, 34); // counted again: mapped writable in slot 1
        assertThat(shm.pageCtl(w2)).as("page 2 in page 1's home slot").isEqualTo(home1);
        INT.getAndAdd(pages, home2, -1);
        long served = a.sharedAccesses();
        a.writeLong(c.base[0] + w2, 35); // in slot 1 only: the kernel's copy is older
        assertThat(a.sharedAccesses()).as("page 2 written in shared memory").isGreaterThan(served);

        b.writeLong(c.base[1] + w1, 3); // page 1 leaves kernel 0 from its spare: the spare is released

        long dataStart = (long) ShmLayout.LONG.get(pages, ShmLayout.PAGE_DATA);
        assertThat(allocated(file, dataStart + (long) slot(spare) * PAGE)).as("page 1's spare freed").isFalse();
        assertThat(allocated(file, dataStart + (long) slot(home1) * PAGE)).as("slot 1, page 2's, kept").isTrue();
        served = a.sharedAccesses();
        assertThat(a.readLong(c.base[0] + w2)).as("page 2 in shared memory").isEqualTo(35);
        assertThat(a.sharedAccesses()).as("page 2 read in shared memory").isGreaterThan(served);
        assertThat(b.readLong(c.base[1] + w2)).as("page 2 as kernel 0 took it").isEqualTo(35);
        assertThat(a.readLong(c.base[0] + w1)).isEqualTo(3);
    }

    private static int slot(int ctl) {
        return (ctl - ShmLayout.HEADER) / 8;
    }

    private static boolean allocated(Path file, long offset) {
        LibC libc = Native.load("c", LibC.class);
        int fd = libc.open(file.toString(), 0);
        assertThat(fd).isNotNegative();
        try {
            return libc.lseek(fd, offset, SEEK_DATA) == offset;
        } finally {
            libc.close(fd);
        }
    }


}
