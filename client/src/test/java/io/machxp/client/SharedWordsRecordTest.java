package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client's side of the count records (ShmLayout.SLOT_COUNTS; review S8 of shm-pool): an
 * access in shared memory records the page count it holds in its task's slot (the object id the
 * page file names, the slot) and clears it before it uncounts; whatever the access throws once
 * counted, the count and the record go (review S3); and a task process SIGKILLed inside an access
 * has its count taken back by the kernel once the process is gone. The accesses are held inside
 * through SharedWords' test hook {@code whileCounted}.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SharedWordsRecordTest {
    private static final long W = 4096 + 24; // page 1, no futexes
    private static final long START_SECONDS = 60;
    private final ClusterFixture c;

    SharedWordsRecordTest() throws Exception {
        c = new ClusterFixture(1);
    }

    @AfterEach
    void close() {
        c.close();
    }

    /** The task's page 1 mapped to this process, and the files as a task process sees them. */
    private HostileShm mappedHere() {
        TaskClient a = c.tasks.get(0);
        a.writeLong(c.base[0] + W, 1);
        assertThat(a.readLong(c.base[0] + W)).isEqualTo(1);
        long[] out = new long[1];
        assertThat(a.sharedWords().read(c.base[0] + W, 8, out)).as("page 1 mapped to this process").isTrue();
        return new HostileShm(c.clients.get(0), a);
    }

    private static List<Long> records(HostileShm shm) {
        List<Long> records = new ArrayList<>();
        for (int i = 0; i < ShmLayout.SLOT_COUNT_RECORDS; i++) {
            long r = (long) LONG.getVolatile(shm.kernel, shm.taskCtl() + ShmLayout.SLOT_COUNTS + 8 * i);
            if (r != 0) {
                records.add(r);
            }
        }
        return records;
    }

    private static int counted(ByteBuffer pages, int ctl) {
        return (int) INT.getVolatile(pages, ctl) & ShmLayout.ACCESSES;
    }

    @Test
    void anAccessRecordsItsCountWhileItHoldsIt() {
        HostileShm shm = mappedHere();
        ByteBuffer pages = shm.pages();
        int ctl = shm.pageCtl(W);
        int object = (int) INT.getVolatile(pages, ShmLayout.PAGE_OBJECT);
        int slot = (ctl - ShmLayout.pageCtl(0)) / (ShmLayout.pageCtl(1) - ShmLayout.pageCtl(0));
        SharedWords words = c.tasks.get(0).sharedWords();
        List<List<Long>> inside = new ArrayList<>();
        words.whileCounted = () -> {
            words.whileCounted = null;
            inside.add(records(shm));
            assertThat(counted(pages, ctl)).as("counted inside").isEqualTo(1);
        };

        assertThat(words.write(c.base[0] + W, 8, 5)).isTrue();

        assertThat(inside).containsExactly(List.of(ShmLayout.countRecord(object, slot)));
        assertThat(records(shm)).as("cleared after the access").isEmpty();
        assertThat(counted(pages, ctl)).isZero();
        assertThat(c.tasks.get(0).readLong(c.base[0] + W)).isEqualTo(5);
    }

    /**
     * Before, the record was taken before the try whose finally uncounts: a throw there (an
     * InternalError, as a SIGBUS on the kernel file is raised) left the count up for good in a
     * process that lives on.
     */
    @Test
    void whatAnAccessThrowsOnceCountedTakesItsCountAndRecordBack() {
        HostileShm shm = mappedHere();
        ByteBuffer pages = shm.pages();
        int ctl = shm.pageCtl(W);
        SharedWords words = c.tasks.get(0).sharedWords();
        words.whileCounted = () -> {
            words.whileCounted = null;
            throw new InternalError("a fault inside the access (test)");
        };

        assertThatThrownBy(() -> words.write(c.base[0] + W, 8, 5)).isInstanceOf(InternalError.class);

        assertThat(counted(pages, ctl)).as("the page count back").isZero();
        assertThat(records(shm)).as("no record left").isEmpty();
        assertThat((int) INT.getVolatile(shm.kernel, shm.taskCtl()) & ShmLayout.ACCESSES).as("the task count back")
                .isZero();
    }

    /**
     * A task process (a JVM of its own, mapping the same object on the same kernel) SIGKILLed
     * inside an access, counted and recorded: its task ends when the kernel sees the process gone,
     * and the kernel takes the count back, so the slot drains.
     */
    @Test
    void theCountOfAProcessKilledInsideAnAccessIsTakenBack() throws Exception {
        HostileShm shm = mappedHere();
        ByteBuffer pages = shm.pages();
        try (SharedTaskProcess p = SharedTaskProcess.start("park", c.clients.get(0).target(), ClusterFixture.OBJECT,
                Long.toString(W))) {
            assertThat(p.next(START_SECONDS)).isEqualTo("shared true");
            assertThat(p.next(START_SECONDS)).isEqualTo("inside");
            int ctl = shm.pageCtl(W);
            assertThat(counted(pages, ctl)).as("the process's access under way").isEqualTo(1);
            p.kill();
            // Its task ends, the revocation sees the pid gone and takes the count back (no event
            // reaches this JVM from another process's slot, so the condition is polled).
            await().atMost(Duration.ofSeconds(90)).until(() -> counted(pages, ctl) == 0);
        }
        TaskClient a = c.tasks.get(0);
        a.writeLong(c.base[0] + W, 7);
        assertThat(a.readLong(c.base[0] + W)).isEqualTo(7);
    }
}
