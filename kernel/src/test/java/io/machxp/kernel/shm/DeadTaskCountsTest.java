package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.ShmLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A task process killed inside a page access leaves its count up in the page's slot; the kernel
 * takes it back once it knows the process dead (its pid gone, when the task's revocation polls),
 * from the count records the process keeps in its task slot (ShmLayout.SLOT_COUNTS), so the slot
 * can be mapped again or punched. Before, such a count held the slot for the rest of the session.
 * A live process's counts are left alone. The kernel's side, on files made as in production in a
 * directory of this test's own under {@code /dev/shm}; the dead process is a real one that ended.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DeadTaskCountsTest {
    private static final int PAGES = 8;

    private ShmTestFiles files;
    private SharedMemory memory;
    private ByteBuffer kernel;
    private ByteBuffer file;

    @BeforeEach
    void directory() throws IOException {
        files = ShmTestFiles.make("dead-counts-test-");
        memory = files.memory();
        SharedPages pages = files.pageFile(7, PAGES);
        kernel = ShmTestFiles.taskView(memory.kernelFile());
        file = ShmTestFiles.taskView(pages.file());
    }

    @AfterEach
    void removeDirectory() throws IOException {
        if (files != null) {
            files.close();
        }
    }

    /** What an access to page slot 1 of object 7, killed after it recorded its count, leaves in task slot {@code slot}. */
    private void killedInsideAnAccess(int slot) {
        int at = ShmLayout.threadSlot(slot);
        assertThat((int) INT.getVolatile(file, ShmLayout.PAGE_OBJECT)).isEqualTo(7);
        INT.getAndAdd(kernel, at, 1); // the task's count
        INT.getAndAdd(file, ShmLayout.pageCtl(1), 1); // the page slot's count
        LONG.setVolatile(kernel, at + ShmLayout.SLOT_COUNTS + 8, ShmLayout.countRecord(7, 1)); // its record
    }

    private void revoked(long taskId) throws InterruptedException {
        CountDownLatch ended = new CountDownLatch(1);
        memory.revoke(taskId, 0, ended::countDown);
        assertThat(ended.await(20, TimeUnit.SECONDS)).as("the task's revocation ended").isTrue();
    }

    private int counted(int slot) {
        return (int) INT.getVolatile(file, ShmLayout.pageCtl(slot)) & ShmLayout.ACCESSES;
    }

    @Test
    void theCountADeadProcessLeftIsTakenBack() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertThat(gone.waitFor(20, TimeUnit.SECONDS)).isTrue();
        int slot = memory.attach(42, gone.pid());
        killedInsideAnAccess(slot);
        INT.getAndAdd(file, ShmLayout.pageCtl(1), 1); // and a live access of another process, under way

        revoked(42);

        assertThat(counted(1)).as("only the live access's count is left").isEqualTo(1);
        assertThat((long) LONG.getVolatile(kernel, ShmLayout.threadSlot(slot) + ShmLayout.SLOT_COUNTS + 8))
                .as("the record cleared").isZero();
    }

    @Test
    void aLiveProcessKeepsItsCounts() throws Exception {
        int slot = memory.attach(43, ProcessHandle.current().pid()); // alive: revoked after the drain's bound
        killedInsideAnAccess(slot);

        revoked(43);

        assertThat(counted(1)).as("not taken back from a live process").isEqualTo(1);
    }

    /**
     * Review S1: a second process attaching the task would share its one slot, whose process the
     * kernel judges dead by the first attacher's pid, and lose its live counts once the first died.
     * Another process is refused; the first attacher may attach again (the client does after each
     * vm_map) and gets the same slot. Before, the live second process got the same slot and its
     * count under way was taken back at the task's revocation.
     */
    @Test
    void aTaskIsAttachedFromOneProcessOnly() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertThat(gone.waitFor(20, TimeUnit.SECONDS)).isTrue();
        int first = memory.attach(44, gone.pid());
        assertThat(first).isNotNegative();

        assertThat(memory.attach(44, ProcessHandle.current().pid())).as("another, live process")
                .isEqualTo(SharedMemory.OTHER_PROCESS);
        assertThat(memory.attacher(44)).isEqualTo(gone.pid());
        assertThat(memory.attach(44, gone.pid())).as("the first attacher again: its slot").isEqualTo(first);

        int unknown = memory.attach(45, 0); // another PID namespace: not told apart, never seen dead
        assertThat(memory.attach(45, 0)).isEqualTo(unknown);
        INT.getAndAdd(kernel, ShmLayout.threadSlot(unknown), 1); // an access of one of them, under way
        INT.getAndAdd(file, ShmLayout.pageCtl(1), 1);
        LONG.setVolatile(kernel, ShmLayout.threadSlot(unknown) + ShmLayout.SLOT_COUNTS, ShmLayout.countRecord(7, 1));
        revoked(45); // after the drain's bound
        assertThat(counted(1)).as("a pid 0 is never seen dead: its count stays").isEqualTo(1);
    }
}
